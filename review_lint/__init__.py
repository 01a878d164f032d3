"""review-lint: a code-review linter for request handlers, protocol models and database sessions."""

from __future__ import annotations

__version__ = "0.1.0"

# The one place that names where review-lint lives, for reports that link to it
# (SARIF's informationUri). None until the project has a public address: no
# report points at a page that does not exist.
REPOSITORY_URL: str | None = None
