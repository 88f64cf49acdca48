from fulfillment.api.errors import field_error
from inventory.models import Warehouse
from inventory.selectors import warehouses_for


def warehouse_from_code(actor, code: str, *, field: str = "warehouse") -> Warehouse:
    """The warehouse a request names by code: staff only their own, merchants any; else a 422 on ``field``."""
    candidates = warehouses_for(actor) if actor.is_staff else Warehouse.objects.all()
    warehouse = candidates.filter(code=code.strip().upper()).first()
    if warehouse is None:
        raise field_error(f"unknown warehouse {code}", field=field, code="unknown_warehouse")
    return warehouse
