"""What every picking service shares."""

from __future__ import annotations

from fulfillment.errors import FieldRefusal


class PickingError(FieldRefusal):
    """A refused picking action: 422 naming the ``field`` at fault, or ``status`` 409 when the list, task
    or order moved on; ``errors`` carry the code either way (task_done, order_not_picking, ...)."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid", status: int = 422):
        errors = [{"field": field, "code": code, "message": message}]
        super().__init__(message, field=field, code=code, status=status, errors=errors)
