"""Ctrl-C while the command is still importing: one line and exit 2, like any other moment.

Python would print its own KeyboardInterrupt traceback from whichever import it
stopped in. Only the command's own entry modules install this, before their
imports, and put Python's handler back once imported; a program that imports
review_lint is left alone.
"""

from __future__ import annotations

import os
import signal
import sys


def _aborted_while_starting(signum, frame) -> None:
    sys.stderr.write("review-lint: aborted\n")
    sys.stderr.flush()
    os._exit(2)  # nothing has started yet: no worker, no cache write


def guard() -> None:
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not where SIGINT is ignored
        signal.signal(signal.SIGINT, _aborted_while_starting)


def release() -> None:
    if signal.getsignal(signal.SIGINT) is _aborted_while_starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)
