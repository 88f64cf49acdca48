"""Every bad order is answered with a problem document (4xx) and creates nothing."""

import json
import uuid

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fulfillment.api.parsers import MAX_DEPTH
from fulfillment.tenancy.models import IdempotencyRecord
from fulfillment.tenancy.tests.factories import tenant_with_key
from fulfillment.webhooks.models import OutboxEvent
from inventory.tests import factories as inv
from orders.models import Order, OrderEvent, OrderLine
from orders.tests.factories import order_payload, ship_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api_as):
    tenant, key = tenant_with_key(slug="acme")
    inv.warehouse()
    inv.product(tenant, "TEE-RED-M")
    return api_as(key)


def _line(**overrides):
    return [{"sku": "TEE-RED-M", "quantity": 2, "unit_price": "19.99", **overrides}]


CASES = {
    "unknown sku": (order_payload(lines=_line(sku="NOPE")), 422, "lines[0].sku"),
    "zero quantity": (order_payload(lines=_line(quantity=0)), 422, "lines[0].quantity"),
    "negative quantity": (order_payload(lines=_line(quantity=-3)), 422, "lines[0].quantity"),
    "huge quantity": (order_payload(lines=_line(quantity=10**30)), 422, "lines[0].quantity"),
    "fractional quantity": (order_payload(lines=_line(quantity=1.5)), 422, "lines[0].quantity"),
    "text quantity": (order_payload(lines=_line(quantity="two")), 422, "lines[0].quantity"),
    "negative price": (order_payload(lines=_line(unit_price="-1.00")), 422, "lines[0].unit_price"),
    "no lines": (order_payload(lines=[]), 422, "lines"),
    "lines not a list": (order_payload(lines={"sku": "TEE-RED-M"}), 422, "lines"),
    "unknown shipping method": (order_payload(shipping_method="teleport"), 422, "shipping_method"),
    "unknown payment status": (order_payload(payment_status="maybe"), 422, "payment_status"),
    "bad currency": (order_payload(currency="dollars"), 422, "currency"),
    "country not iso": (order_payload(ship_to=ship_to(country="Canada")), 422, "ship_to.country"),
    "missing ship_to": ({k: v for k, v in order_payload().items() if k != "ship_to"}, 422, "ship_to"),
    "missing external_id": ({k: v for k, v in order_payload().items() if k != "external_id"}, 422, "external_id"),
    "nul byte": (order_payload(external_id="SHOP\x001"), 422, "external_id"),
    "unknown warehouse": (order_payload(warehouse="MOON"), 422, "warehouse"),
    "body is a list": ([order_payload()], 422, None),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_order_is_a_problem_document_and_creates_nothing(client, name):
    body, status, field = CASES[name]
    response = client.post("/api/v1/orders/", body, format="json")
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if field:
        assert field in [e["field"] for e in problem["errors"]]
    assert Order.objects.count() == OrderLine.objects.count() == OrderEvent.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_malformed_json_is_400_problem(client):
    response = client.post("/api/v1/orders/", data='{"external_id": ', content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert Order.objects.count() == 0


def test_deeply_nested_json_is_refused_without_500(client):
    body = json.dumps(order_payload(lines=[{"sku": "TEE-RED-M", "quantity": 1, "extra": [[[[[[[[[[1]]]]]]]]]]}]))
    nested = "[" * 5000 + "]" * 5000
    for data in (body, '{"external_id": ' + nested + "}"):
        response = client.post("/api/v1/orders/", data=data, content_type="application/json")
        assert response.status_code < 500


def test_duplicate_external_id_is_409_and_creates_nothing_more(client):
    first = client.post("/api/v1/orders/", order_payload(), format="json")
    assert first.status_code == 201
    again = client.post("/api/v1/orders/", order_payload(lines=_line(quantity=5)), format="json")
    assert again.status_code == 409
    assert again.json()["existing_order_id"] == first.json()["id"]
    assert Order.objects.count() == 1 and OrderLine.objects.get().quantity == 2


def test_anonymous_and_bad_keys_get_401(api):
    assert api.get("/api/v1/orders/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION="Bearer fk_nothere_abc")
    response = api.get("/api/v1/orders/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_key_gets_401(api_as):
    from fulfillment.tenancy import services
    from fulfillment.tenancy.models import ApiKey

    tenant, key = tenant_with_key(slug="revoked")
    services.api_key_revoke(key=ApiKey.objects.get(tenant=tenant))
    assert api_as(key).get("/api/v1/orders/").status_code == 401


# -- Any shape of body ------------------------------------------------------------------------


def _text(**kwargs):
    # Lone surrogates cannot be encoded into a request body by the test client; the raw-bytes
    # test below sends one escaped.
    return st.text(alphabet=st.characters(blacklist_categories=("Cs",)), **kwargs)


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([10**30, -(10**30), 2**63, -(2**63) - 1, 0, -1])
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text(max_size=30)
    | st.sampled_from(["", "\x00", "a\x00b", "NaN", "Infinity", "x" * 5000, "TEE-RED-M", "teleport", "ZZ", "CA"])
)
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text(max_size=12), children, max_size=4),
    max_leaves=12,
)
_FIELDS = [
    ("external_id",),
    ("shipping_method",),
    ("payment_status",),
    ("currency",),
    ("warehouse",),
    ("ship_to",),
    ("ship_to", "name"),
    ("ship_to", "line1"),
    ("ship_to", "city"),
    ("ship_to", "region"),
    ("ship_to", "postal_code"),
    ("ship_to", "country"),
    ("ship_to", "phone"),
    ("ship_to", "email"),
    ("lines",),
    ("lines", 0),
    ("lines", 0, "sku"),
    ("lines", 0, "quantity"),
    ("lines", 0, "unit_price"),
]


def _container_at(body, path):
    parent = body
    for step in path:
        if not _has(parent, step):
            return None
        parent = parent[step]
    return parent


def _has(container, step) -> bool:
    if isinstance(container, dict):
        return isinstance(step, str) and step in container
    return isinstance(container, list) and isinstance(step, int) and step < len(container)


@st.composite
def _mutated_order(draw):
    """A valid order with one to three fields replaced by any JSON value, or dropped."""
    body = order_payload(f"HYP-{draw(st.integers(0, 10**6))}")
    for path in draw(st.lists(st.sampled_from(_FIELDS), min_size=1, max_size=3)):
        parent, last = _container_at(body, path[:-1]), path[-1]
        if isinstance(parent, dict) and isinstance(last, str):
            if draw(st.integers(0, 5)) == 0:
                parent.pop(last, None)
            else:
                parent[last] = draw(_json)
        elif isinstance(parent, list) and _has(parent, last):
            parent[last] = draw(_json)
    if draw(st.booleans()):
        body[draw(_text(min_size=1, max_size=10))] = draw(_json)
    return body


_any_body = _mutated_order() | _json
_PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _counts() -> tuple[int, int, int]:
    return Order.objects.count(), OrderLine.objects.count(), OutboxEvent.objects.count()


def _assert_problem(response) -> None:
    assert response["Content-Type"] == "application/problem+json", response.content
    problem = response.json()
    assert problem["status"] == response.status_code and problem["title"] and problem["detail"]
    for error in problem.get("errors", []):
        assert set(error) == {"field", "code", "message"}


@_PROPERTY
@given(body=_any_body, with_key=st.booleans())
def test_any_order_body_is_answered_without_a_server_error(client, body, with_key):
    before = _counts()
    headers = {"HTTP_IDEMPOTENCY_KEY": f"hyp-{uuid.uuid4()}"} if with_key else {}
    response = client.post("/api/v1/orders/", body, format="json", **headers)
    assert response.status_code < 500, response.content
    if response.status_code == 201:
        assert Order.objects.count() == before[0] + 1
    else:
        assert response.status_code in {400, 409, 413, 415, 422}, response.content
        _assert_problem(response)
        assert _counts() == before


@_PROPERTY
@given(items=st.lists(_any_body, min_size=1, max_size=5))
def test_any_bulk_item_is_answered_in_the_results_without_a_server_error(client, items):
    before = Order.objects.count()
    response = client.post("/api/v1/orders/bulk/", {"orders": items}, format="json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert all(r["status"] in {201, 409, 422} for r in results)
    for result in results:
        if result["status"] != 201:
            assert result["errors"] and all(set(e) == {"field", "code", "message"} for e in result["errors"])
    assert Order.objects.count() == before + sum(r["status"] == 201 for r in results)


def test_a_null_bulk_item_is_answered_in_the_results(client):
    response = client.post("/api/v1/orders/bulk/", {"orders": [order_payload(), None]}, format="json")
    assert response.status_code == 200, response.content
    assert [r["status"] for r in response.json()["results"]] == [201, 422]


@_PROPERTY
@given(body=_json)
def test_any_bulk_envelope_is_answered_without_a_server_error(client, body):
    before = _counts()
    response = client.post("/api/v1/orders/bulk/", body, format="json")
    assert response.status_code < 500, response.content
    if response.status_code != 200:
        _assert_problem(response)
        assert _counts() == before


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b'{"external_id": NaN}',
        b'{"lines": [{"quantity": Infinity}]}',
        b'{"a": 1} trailing',
        b"\xff\xfe{}",
        b'{"external_id": "\\ud800"}',
        b'{"lines": [{"quantity": ' + b"9" * 5000 + b"}]}",
        b"\x00",
        b"[" * 10_000 + b"]" * 10_000,
        b'{"lines": ' + b"[" * 500 + b"]" * 500 + b"}",
        b'{"a": ' * 3000 + b"1" + b"}" * 3000,
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/orders/", "/api/v1/orders/bulk/"])
def test_malformed_or_deep_json_is_a_4xx_problem_and_creates_nothing(client, path, raw):
    response = client.post(path, data=raw, content_type="application/json")
    assert 400 <= response.status_code < 500, response.content
    _assert_problem(response)
    assert _counts() == (0, 0, 0)


def test_nesting_past_the_parser_limit_is_400(client):
    within = order_payload(lines=[{"sku": "TEE-RED-M", "quantity": 1, "note": _nested(MAX_DEPTH - 3)}])
    beyond = order_payload(lines=[{"sku": "TEE-RED-M", "quantity": 1, "note": _nested(MAX_DEPTH)}])
    assert client.post("/api/v1/orders/", within, format="json").status_code == 201
    response = client.post("/api/v1/orders/", beyond, format="json")
    assert response.status_code == 400
    assert "nests deeper" in response.json()["detail"]


def _nested(depth: int):
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("path", ["/api/v1/orders/", "/api/v1/orders/bulk/"])
@pytest.mark.parametrize("with_key", [False, True])
def test_an_oversize_body_is_413_problem_and_creates_nothing(client, settings, path, with_key):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    body = order_payload(ship_to=ship_to(line2="x" * 3_000))
    if path.endswith("bulk/"):
        body = {"orders": [body]}
    headers = {"HTTP_IDEMPOTENCY_KEY": "big"} if with_key else {}
    response = client.post(path, body, format="json", **headers)
    assert response.status_code == 413, response.content
    _assert_problem(response)
    assert response.json()["detail"] == "The request body is larger than 2000 bytes."
    assert _counts() == (0, 0, 0)
    assert IdempotencyRecord.objects.count() == 0


def test_the_default_body_limit_fits_a_full_bulk_call(client):
    """1,000 orders of three lines stay under DATA_UPLOAD_MAX_MEMORY_SIZE."""
    lines = [{"sku": "TEE-RED-M", "quantity": 1, "unit_price": "19.99"}] * 3
    body = json.dumps({"orders": [order_payload(f"BULK-{n:05}", lines=lines) for n in range(1000)]})
    assert len(body.encode()) < django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE


@pytest.mark.parametrize(
    "content_type, data",
    [
        ("text/plain", json.dumps(order_payload())),
        ("application/xml", "<order/>"),
        ("application/x-yaml", "external_id: SHOP-1"),
        ("application/octet-stream", b"\x00\x01"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/orders/", "/api/v1/orders/bulk/"])
def test_an_unsupported_content_type_is_415_problem(client, path, content_type, data):
    response = client.post(path, data=data, content_type=content_type)
    assert response.status_code == 415, response.content
    _assert_problem(response)
    assert _counts() == (0, 0, 0)
