"""Tasks: counts."""
