"""Tasks: replenishment."""
