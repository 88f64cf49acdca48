from rest_framework import exceptions

from fulfillment.api.errors import Conflict, field_error
from inventory import services


def refusal(exc: services.InventoryError):
    if exc.code == "duplicate":
        return Conflict(str(exc))
    if exc.code == "not_found":
        return exceptions.NotFound(str(exc))
    return field_error(str(exc), field=exc.field, code=exc.code)
