from orders import services


def ship_to(**overrides) -> dict:
    return {
        "name": "Ada Lovelace",
        "company": "",
        "line1": "123 King St W",
        "line2": "",
        "city": "Toronto",
        "region": "ON",
        "postal_code": "M5H 1A1",
        "country": "CA",
        "phone": "+14165550100",
        "email": "ada@example.com",
        **overrides,
    }


def order_payload(external_id: str = "SHOP-1001", lines=None, **overrides) -> dict:
    """A valid POST /api/v1/orders/ body."""
    return {
        "external_id": external_id,
        "shipping_method": "standard",
        "payment_status": "paid",
        "currency": "CAD",
        "ship_to": ship_to(),
        "lines": lines if lines is not None else [{"sku": "TEE-RED-M", "quantity": 2, "unit_price": "19.99"}],
        **overrides,
    }


def order(tenant, *, external_id: str, lines: list[tuple], warehouse: str = "", **fields):
    """An order created through the service (allocation runs when the transaction commits).

    ``lines``: (sku, quantity) or (sku, quantity, unit_price)."""
    data = services.OrderInput(
        external_id=external_id,
        shipping_method=fields.pop("shipping_method", "standard"),
        payment_status=fields.pop("payment_status", "paid"),
        currency="CAD",
        ship_to=fields.pop("ship_to", ship_to()),
        lines=[services.LineInput(*line) for line in lines],
        warehouse=warehouse,
        gift_message=fields.pop("gift_message", ""),
        requested_carrier=fields.pop("requested_carrier", ""),
        requested_service=fields.pop("requested_service", ""),
    )
    return services.order_create(tenant=tenant, data=data)
