"""What the benchmarks read of a process they did not start: a project's daemon (found
through `review-lint daemon status`), its CPU time and its peak memory, from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def daemon_pid(project: Path, env: dict[str, str]) -> int | None:
    """The pid of the daemon serving `project` (in the environment `env`), or None."""
    done = subprocess.run([sys.executable, "-m", "review_lint.cli", "daemon", "status", "."], cwd=project, env=env,
                          capture_output=True, text=True)
    return int(done.stdout.split()[1]) if done.returncode == 0 else None


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU seconds the process has used so far (0 without a process)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int | None) -> int:
    """The process's peak resident memory (VmHWM) in MB, 0 when it cannot be read."""
    try:
        status = Path(f"/proc/{pid}/status").read_text() if pid else ""
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0
