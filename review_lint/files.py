"""Writing a file so that no reader ever sees it half-written."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Callable


def write_atomically(path: Path, content: bytes | list[bytes | memoryview], *, mode: int | None = None,
                     durable: bool = False, before_replace: Callable[[], None] | None = None) -> None:
    """Write `content` (bytes, or a list of parts written one after the other, so that a
    large file is never joined in memory) to a temporary file beside `path`, then rename it over `path`
    (through a symbolic link to its target; into a device or FIFO directly).

    The file keeps `path`'s permissions, or gets what `open()` would give a new one
    (mkstemp's are private). `durable` flushes it to disk first (a user's source
    file); `before_replace` may raise to keep `path` as it is. Raises OSError; the
    temporary file never stays.
    """
    if path.is_symlink():
        path = path.resolve()  # write where the link points; renaming over it would replace the link
    try:
        special = not stat.S_ISREG(path.stat().st_mode)
    except OSError:
        special = False
    if special:
        # `--output /dev/null` or a FIFO: renaming over it would replace the device with a file.
        with open(path, "wb") as stream:
            _write(stream, content)
        return
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            mode = 0o666 & ~_umask()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".review-lint-tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            _write(stream, content)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        if before_replace is not None:
            before_replace()
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _write(stream, content: bytes | list[bytes | memoryview]) -> None:
    if isinstance(content, list):
        stream.writelines(content)
    else:
        stream.write(content)


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
