"""What every picking service shares."""

from __future__ import annotations


class PickingError(ValueError):
    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid", status: int = 422):
        super().__init__(message)
        self.field = field
        self.code = code
        self.status = status
