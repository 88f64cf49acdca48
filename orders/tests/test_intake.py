"""The bulk fast path reads payloads exactly as the serializer does, or defers to it."""

import contextlib
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from orders.inputs import OrderCreateSerializer, order_input
from orders.intake import quick_order_input
from orders.tests.factories import order_payload

texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from([
        "", " ", " padded ", "A\x00B", "\ud800", "TEE-RED-M", "Toronto", "x" * 201, "x" * 501,
        "fedex_ground", "FedEx", " ups ", "ups\n", "x" * 41, "x" * 61,
    ]),
)  # fmt: skip
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 200_000), st.floats(allow_nan=True), texts)
values = st.one_of(scalars, st.lists(scalars, max_size=2), st.dictionaries(texts, scalars, max_size=2))


@st.composite
def payloads(draw):
    """A valid order, then a few of its fields replaced by arbitrary values (or removed)."""
    payload = order_payload(draw(st.sampled_from(["SHOP-1", "A", "x" * 100, "x" * 101])))
    payload["lines"].append({"sku": "MUG", "quantity": 3, "unit_price": "4.5"})
    if draw(st.booleans()):
        payload["gift_message"] = draw(st.sampled_from(["Happy birthday, Ada!\nLove, Charles", "x" * 500]))
    if draw(st.booleans()):
        payload["requested_carrier"] = draw(st.sampled_from(["fedex", "canada-post", "x" * 40, ""]))
    if draw(st.booleans()):
        payload["requested_service"] = draw(st.sampled_from(["fedex_ground", "same_day", "x" * 60, ""]))
    paths = [
        ("external_id",), ("shipping_method",), ("payment_status",), ("currency",), ("warehouse",), ("ship_to",),
        ("ship_to", "name"), ("ship_to", "line1"), ("ship_to", "city"), ("ship_to", "postal_code"),
        ("ship_to", "country"), ("ship_to", "phone"), ("ship_to", "email"), ("lines",), ("lines", 0, "sku"),
        ("lines", 0, "quantity"), ("lines", 1, "unit_price"), ("gift_message",),
        ("requested_carrier",), ("requested_service",),
    ]  # fmt: skip
    for path in draw(st.lists(st.sampled_from(paths), max_size=3, unique=True)):
        target = payload
        for key in path[:-1]:
            if not isinstance(target, dict | list):
                break
            try:
                target = target[key]
            except (KeyError, IndexError, TypeError):
                break
        else:
            if isinstance(target, dict) and draw(st.booleans()):
                target.pop(path[-1], None)
            elif isinstance(target, dict | list):
                with contextlib.suppress(IndexError, TypeError):
                    target[path[-1]] = draw(values)
    return payload


@settings(max_examples=400, deadline=None)
@given(payloads())
def test_the_fast_path_accepts_only_what_the_serializer_accepts_and_reads_it_the_same(payload):
    quick = quick_order_input(payload)
    if quick is None:
        return  # the serializer decides, with its own error messages
    serializer = OrderCreateSerializer(data=payload)
    assert serializer.is_valid(), serializer.errors
    assert quick == order_input(serializer.validated_data)


def test_the_fast_path_reads_a_plain_order():
    quick = quick_order_input(order_payload("SHOP-9"))
    assert quick is not None
    assert quick.lines[0].quantity == 2
    assert quick_order_input({**order_payload("X"), "lines": [{"sku": "A", "quantity": 1, "unit_price": 3}]}).lines[
        0
    ].unit_price == Decimal("3.00")


def test_the_fast_path_defers_anything_it_would_have_to_coerce():
    for bad in (
        {**order_payload("X"), "lines": [{"sku": "A", "quantity": "1"}]},
        {**order_payload("X"), "external_id": " X "},
        {**order_payload("X"), "currency": "cad"},
        {**order_payload("X"), "requested_carrier": " ups "},
        {**order_payload("X"), "requested_service": "Express"},
        None,
        [],
    ):
        assert quick_order_input(bad) is None
