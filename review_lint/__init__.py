"""review-lint: a code-review linter for request handlers, protocol models and database sessions."""

__version__ = "0.1.0"
