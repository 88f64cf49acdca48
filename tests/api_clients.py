"""Helpers for tests in any app that need an order placed through the merchant API.

Stage apps below orders may not import orders' test factories (the layer contract); they import
this module, which lives outside the stage packages.
"""

from orders.tests.factories import order_payload


def place_order(client, external_id: str, lines: list[tuple[str, int]]) -> dict:
    """An order through the merchant API (allocation runs in eager Celery when the caller's capture commits)."""
    body = order_payload(external_id, lines=[{"sku": sku, "quantity": quantity} for sku, quantity in lines])
    response = client.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()
