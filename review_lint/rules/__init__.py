"""One module per rule; each defines `RULE`, a review_lint.rule.Rule subclass."""
