"""The `review-lint` command (`python -m review_lint`)."""

from review_lint import _starting

_starting.guard()
from review_lint.cli import entry  # noqa: E402 - after the guard: imports take a while

_starting.release()

if __name__ == "__main__":
    entry()
