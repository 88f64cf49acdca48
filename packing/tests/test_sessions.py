"""Pack sessions (packing.services.sessions): open a picked order at a station, scan its units and
boxes, close it with the weighed parcels (the order is packed), or abandon it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from fulfillment.env import WeightTolerance, env_weight_tolerance
from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory.services import ledger_differences
from inventory.services.catalog import gtin_check_digit
from inventory.tests import factories as inv
from orders.models import Order, OrderEvent, Status
from orders.services import order_allocate
from orders.tests.factories import order
from packing import selectors, services
from packing.models import Box, PackScan, PackSession, PackSessionPackage, PackSessionStatus, Shipment
from packing.tests.factories import picked_order
from tests.threads import race, run_together

pytestmark = pytest.mark.django_db

TEE_UPC = "0012345678905"
MUG_EAN = "400638133393" + str(gtin_check_digit("400638133393"))
NOW = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)


def _world():
    """Warehouse MAIN with TEE (250 g, UPC) and MUG (400 g, EAN) of one shop, SOCK it sells too, a
    warehouse WEST; packers ann and bob and the manager lead in MAIN, the manager olga in WEST."""
    tenant = TenantFactory()
    main = inv.warehouse("MAIN")
    west = inv.warehouse("WEST")
    tee = inv.product(tenant, "TEE", barcode=TEE_UPC, name="Red tee, size M", image_url="https://img.example/tee.jpg")
    mug = inv.product(tenant, "MUG", barcode=MUG_EAN, length_mm=120, width_mm=100, height_mm=100, weight_g=400)
    sock = inv.product(tenant, "SOCK", weight_g=40)
    for product, location in ((tee, "01-01-1"), (mug, "01-02-1"), (sock, "01-03-1")):
        inv.stock(tenant, product, main, location, 20)
    staff = {
        name: staff_with_token(username=name, role=role, warehouse=warehouse)
        for name, role, warehouse in (
            ("ann", "associate", main),
            ("bob", "associate", main),
            ("lead", "manager", main),
            ("olga", "manager", west),
        )
    }
    return SimpleNamespace(
        tenant=tenant,
        main=main,
        west=west,
        tokens={name: token for name, (_user, token) in staff.items()},
        **{name: user for name, (user, _token) in staff.items()},
    )


@pytest.fixture
def w():
    return _world()


@pytest.fixture
def tees(w):
    """A picked order of 2 TEE and 1 MUG."""
    return picked_order(w.tenant, external_id="S1", lines=[("TEE", 2), ("MUG", 1)])


def _open(w, picked, user=None, station="BENCH-1"):
    return services.pack_session_open(user=user or w.ann, order=str(picked.pk), station=station).session


def _scan(session, barcode, user, scan_id=None):
    return services.pack_session_scan(
        session_id=session.pk, barcode=barcode, scan_id=scan_id or str(uuid.uuid4()), user=user
    )


def _snapshot(picked):
    """What a refusal must leave alone: the order, its timeline, sessions, packages, accepted scans, shipments."""
    return (
        Order.objects.get(pk=picked.pk).status,
        OrderEvent.objects.filter(order=picked).count(),
        list(PackSession.objects.filter(order=picked).values_list("status", flat=True)),
        list(PackSessionPackage.objects.filter(session__order=picked).values_list("number", "box__code", "weight_g")),
        PackScan.objects.filter(session__order=picked, result="accepted").count(),
        Shipment.objects.filter(order=picked).count(),
    )


def _scan_all(session, user, *, box="BOX-S"):
    _scan(session, box, user)
    for code in (TEE_UPC, TEE_UPC, MUG_EAN):
        _scan(session, code, user)


# -- open -----------------------------------------------------------------------------------


def test_open_by_order_id_starts_a_session_and_notes_it_on_the_timeline(w, tees):
    opened = services.pack_session_open(user=w.ann, order=str(tees.pk), station="BENCH-1")

    session = opened.session
    assert opened.created is True
    assert (session.status, session.station, session.packer, session.warehouse, session.tenant_id) == (
        "open",
        "BENCH-1",
        w.ann,
        w.main,
        w.tenant.pk,
    )
    event = OrderEvent.objects.filter(order=tees).last()
    assert (event.type, event.actor, event.message) == (
        "pack_session_opened",
        "ann",
        "Packing started at BENCH-1 by ann",
    )
    assert event.data == {"session": str(session.pk), "station": "BENCH-1"}
    assert Order.objects.get(pk=tees.pk).status == Status.PICKED


def test_open_by_order_number_or_id_finds_the_same_order(w, tees):
    session = services.pack_session_open(user=w.ann, order=tees.number, station="BENCH-2").session
    again = services.pack_session_open(user=w.ann, order=tees.pk, station="BENCH-2").session

    assert session.order_id == tees.pk
    assert again.pk == session.pk


def test_reopening_by_the_same_packer_resumes_the_session_after_a_reload(w, tees):
    first = _open(w, tees)
    _scan(first, TEE_UPC, w.ann)
    events = OrderEvent.objects.filter(order=tees).count()

    again = services.pack_session_open(user=w.ann, order=tees.number, station="BENCH-1")

    assert (again.created, again.session.pk) == (False, first.pk)
    assert PackSession.objects.filter(order=tees).count() == 1
    assert OrderEvent.objects.filter(order=tees).count() == events
    assert selectors.scanned_units(session=again.session) == {"TEE": 1}


def test_a_second_packer_is_refused_and_told_who_holds_the_order(w, tees):
    _open(w, tees, station="BENCH-1")
    before = _snapshot(tees)

    with pytest.raises(services.PackSessionError) as refused:
        services.pack_session_open(user=w.bob, order=str(tees.pk), station="BENCH-2")

    assert (refused.value.status, refused.value.code) == (409, "being_packed")
    problem = refused.value.problem()
    assert problem.extra["held_by"] == "ann"
    assert problem.extra["station"] == "BENCH-1"
    assert problem.errors[0]["code"] == "being_packed"
    assert _snapshot(tees) == before


def test_an_order_that_is_not_picked_is_refused_and_nothing_changes(w):
    allocated = order(w.tenant, external_id="S2", lines=[("TEE", 1)])
    order_allocate(order_id=allocated.pk)
    before = _snapshot(allocated)

    with pytest.raises(services.PackSessionError) as refused:
        services.pack_session_open(user=w.ann, order=str(allocated.pk))

    assert (refused.value.status, refused.value.code) == (409, "order_not_picked")
    assert _snapshot(allocated) == before


@pytest.mark.parametrize(
    "reference", [{}, {"order": "", "tote": ""}, {"order": "X", "tote": "T1"}], ids=["none", "blank", "both"]
)
def test_open_needs_the_order_or_the_tote_but_not_both(w, tees, reference):
    with pytest.raises(services.PackSessionError) as refused:
        services.pack_session_open(user=w.ann, station="BENCH-1", **reference)

    assert (refused.value.status, refused.value.code, refused.value.field) == (422, "order_or_tote", "order")
    assert PackSession.objects.count() == 0


def test_an_unknown_order_or_one_of_another_warehouse_is_an_unknown_order(w, tees):
    for user, reference in ((w.ann, "NOPE-1"), (w.ann, str(uuid.uuid4())), (w.olga, str(tees.pk))):
        with pytest.raises(services.PackSessionError) as refused:
            services.pack_session_open(user=user, order=reference)
        assert (refused.value.status, refused.value.code) == (422, "unknown_order")
    assert PackSession.objects.count() == 0


# -- open by tote (the tote the order was picked into) ----------------------------------------


def _picked_through_waves(w, capture, count):
    """``count`` orders of 1 TEE + 1 SOCK, each released in a wave of its own and picked in full: each
    is in tote T1 of its own pick list (tote codes start again on every list)."""
    from picking import services as picking

    made = []
    for i in range(count):
        with capture(execute=True):
            created = order(w.tenant, external_id=f"W{i}", lines=[("TEE", 1), ("SOCK", 1)])
        wave = picking.wave_build(warehouse=w.main, strategy="discrete", max_orders=1)
        pick_list = wave.pick_lists.get()
        assert set(pick_list.tasks.values_list("tote", flat=True)) == {"T1"}
        made.append((created, pick_list))
    return made


def _pick(pick_list, capture):
    from picking.tests.factories import pick_in_full

    with capture(execute=True):
        for task in list(pick_list.tasks.order_by("sequence")):
            pick_in_full(pick_list, task, actor="picker")


def test_open_by_tote_finds_the_picked_order_in_it(w, django_capture_on_commit_callbacks):
    [(created, pick_list)] = _picked_through_waves(w, django_capture_on_commit_callbacks, 1)
    _pick(pick_list, django_capture_on_commit_callbacks)

    session = services.pack_session_open(user=w.ann, tote="t1", station="BENCH-1").session

    assert session.order_id == created.pk


def test_a_tote_still_being_picked_is_refused_as_not_picked(w, django_capture_on_commit_callbacks):
    [(created, pick_list)] = _picked_through_waves(w, django_capture_on_commit_callbacks, 1)
    from picking.tests.factories import pick_in_full

    pick_in_full(pick_list, pick_list.tasks.order_by("sequence").first(), actor="picker")

    with pytest.raises(services.PackSessionError) as refused:
        services.pack_session_open(user=w.ann, tote="T1")

    assert (refused.value.status, refused.value.code) == (409, "order_not_picked")
    assert PackSession.objects.count() == 0


def test_an_unknown_tote_is_refused(w, tees):
    with pytest.raises(services.PackSessionError) as refused:
        services.pack_session_open(user=w.ann, tote="T99")

    assert (refused.value.status, refused.value.code, refused.value.field) == (422, "unknown_tote", "tote")
    assert PackSession.objects.count() == 0


def test_a_tote_holding_several_picked_orders_is_ambiguous(w, django_capture_on_commit_callbacks):
    made = _picked_through_waves(w, django_capture_on_commit_callbacks, 2)
    for _created, pick_list in made:
        _pick(pick_list, django_capture_on_commit_callbacks)

    with pytest.raises(services.PackSessionError) as refused:
        services.pack_session_open(user=w.ann, tote="T1")

    assert (refused.value.status, refused.value.code) == (422, "ambiguous_tote")
    assert refused.value.extra["orders"] == sorted(created.number for created, _ in made)
    assert PackSession.objects.count() == 0


# -- the state a station shows ------------------------------------------------------------------


def test_the_state_lists_expected_units_recommended_packages_and_packages_so_far(w, tees):
    session = _open(w, tees)
    _scan(session, "BOX-S", w.ann)
    _scan(session, TEE_UPC, w.ann)

    state = selectors.pack_session_state(session=session)

    assert [(u.sku, u.name, u.quantity, u.scanned, u.weight_g, u.image_url, u.barcodes) for u in state.expected] == [
        ("TEE", "Red tee, size M", 2, 1, 250, "https://img.example/tee.jpg", (TEE_UPC,)),
        ("MUG", "Product MUG", 1, 0, 400, "", (MUG_EAN,)),
    ]
    assert [(p.number, p.box.code, p.items, p.expected_weight_g) for p in state.packages] == [
        (1, "BOX-S", (("TEE", 1),), 250 + 150)
    ]
    assert state.recommended_skus == ("TEE", "MUG")
    planned = [(p.box.code if p.box else None, p.items_json()) for p in state.recommended]
    assert planned == [
        (p.box.code if p.box else None, p.items_json()) for p in selectors.recommended_packages(order=tees)
    ]
    assert sum(len(p.placements) for p in state.recommended) == 3
    assert [m.sku for m in state.missing] == ["TEE", "MUG"]
    assert state.complete is False


# -- scans ------------------------------------------------------------------------------------


def test_units_and_boxes_fill_packages_in_scan_order(w, tees):
    session = _open(w, tees)

    _scan(session, TEE_UPC, w.ann)  # no box yet: package 1, box to come
    _scan(session, "BOX-S", w.ann)  # package 1 has no box: this is its box
    _scan(session, "BOX-M", w.ann)  # package 1 has a box and a unit: package 2 starts in BOX-M
    _scan(session, f"(01)0{TEE_UPC}(10)LOT-9", w.ann)  # a GS1 element string, as receiving reads them
    outcome = _scan(session, MUG_EAN, w.ann)

    assert (outcome.replayed, outcome.scan.sku, outcome.scan.quantity, outcome.scan.result) == (
        False,
        "MUG",
        1,
        "accepted",
    )
    packages = selectors.session_packages(session=session)
    assert [(p.number, p.box.code if p.box else None, p.items) for p in packages] == [
        (1, "BOX-S", (("TEE", 1),)),
        (2, "BOX-M", (("TEE", 1), ("MUG", 1))),
    ]
    assert selectors.pack_session_state(session=session).complete is True


@pytest.mark.parametrize(
    ("barcode", "code"),
    [
        ("SOCK", "not_in_order"),  # the shop's product, not in this order
        ("NO-SUCH-CODE", "unknown_barcode"),
        ("0012345678906", "unknown_barcode"),  # a UPC with a bad check digit
    ],
)
def test_a_refused_scan_is_recorded_and_changes_nothing_else(w, tees, barcode, code):
    session = _open(w, tees)
    _scan(session, "BOX-S", w.ann)
    _scan(session, TEE_UPC, w.ann)
    before = _snapshot(tees)

    with pytest.raises(services.PackSessionError) as refused:
        _scan(session, barcode, w.ann, scan_id="bad-1")

    assert (refused.value.status, refused.value.code, refused.value.field) == (422, code, "barcode")
    assert _snapshot(tees) == before
    scan = PackScan.objects.get(scan_id="bad-1")
    assert (scan.result, scan.code, scan.barcode, scan.sku, scan.package.number, scan.user) == (
        "refused",
        code,
        barcode,
        None,
        1,
        w.ann,
    )
    assert selectors.scanned_units(session=session) == {"TEE": 1}


def test_one_unit_too_many_is_refused_and_changes_nothing(w, tees):
    session = _open(w, tees)
    _scan(session, MUG_EAN, w.ann)
    before = _snapshot(tees)

    with pytest.raises(services.PackSessionError) as refused:
        _scan(session, MUG_EAN, w.ann)

    assert (refused.value.status, refused.value.code) == (422, "too_many")
    assert _snapshot(tees) == before
    assert selectors.scanned_units(session=session) == {"MUG": 1}
    assert PackScan.objects.filter(session=session, result="refused", code="too_many").count() == 1


def test_a_resent_scan_is_counted_once_and_answers_its_first_outcome(w, tees):
    session = _open(w, tees)
    first = _scan(session, TEE_UPC, w.ann, scan_id="s-1")

    again = _scan(session, TEE_UPC, w.ann, scan_id="s-1")

    assert (again.replayed, again.scan.pk) == (True, first.scan.pk)
    assert selectors.scanned_units(session=session) == {"TEE": 1}
    assert PackScan.objects.filter(session=session).count() == 1


def test_a_resent_refused_scan_is_refused_again_and_recorded_once(w, tees):
    session = _open(w, tees)
    for _ in range(2):
        with pytest.raises(services.PackSessionError) as refused:
            _scan(session, "SOCK", w.ann, scan_id="s-1")
        assert refused.value.code == "not_in_order"

    assert PackScan.objects.filter(session=session).count() == 1


def test_a_scan_id_used_for_another_barcode_is_refused(w, tees):
    session = _open(w, tees)
    _scan(session, TEE_UPC, w.ann, scan_id="s-1")

    with pytest.raises(services.PackSessionError) as refused:
        _scan(session, MUG_EAN, w.ann, scan_id="s-1")

    assert (refused.value.status, refused.value.code) == (409, "scan_id_reused")
    assert selectors.scanned_units(session=session) == {"TEE": 1}


def test_another_packer_cannot_scan_into_a_session(w, tees):
    session = _open(w, tees)

    with pytest.raises(services.PackSessionError) as refused:
        _scan(session, TEE_UPC, w.bob)

    assert (refused.value.status, refused.value.code) == (409, "being_packed")
    assert PackScan.objects.count() == 0


def test_a_scan_on_a_closed_or_abandoned_session_is_a_conflict(w, tees):
    session = _open(w, tees)
    services.pack_session_abandon(session_id=session.pk, user=w.ann)

    with pytest.raises(services.PackSessionError) as refused:
        _scan(session, TEE_UPC, w.ann)

    assert (refused.value.status, refused.value.code) == (409, "session_not_open")
    assert PackScan.objects.count() == 0


def test_a_session_of_another_warehouse_is_not_found(w, tees):
    session = _open(w, tees)

    with pytest.raises(services.PackSessionError) as refused:
        _scan(session, TEE_UPC, w.olga)

    assert (refused.value.status, refused.value.code) == (404, "not_found")


# -- close ------------------------------------------------------------------------------------


def test_close_packs_the_order_with_the_scanned_packages(w, tees):
    # The order and its earlier timeline come first, the close at NOW: nothing here reads the wall clock.
    OrderEvent.objects.filter(order=tees).update(created_at=NOW - timedelta(hours=1))
    with time_machine.travel(NOW - timedelta(minutes=10), tick=False):
        session = _open(w, tees)
        _scan_all(session, w.ann)

    with time_machine.travel(NOW, tick=False):
        closed = services.pack_session_close(session_id=session.pk, user=w.ann, packages=[{"weight_g": 1080}])

    assert (closed.status, closed.closed_at) == (PackSessionStatus.CLOSED, NOW)
    shipment = Shipment.objects.get(order=tees)
    assert closed.shipment == shipment
    assert list(shipment.packages.values_list("number", "box__code", "weight_g", "items")) == [
        (1, "BOX-S", 1080, [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}])
    ]
    assert Order.objects.get(pk=tees.pk).status == Status.PACKED
    assert list(PackSessionPackage.objects.filter(session=session).values_list("box__code", "weight_g")) == [
        ("BOX-S", 1080)
    ]
    events = list(OrderEvent.objects.filter(order=tees).order_by("created_at", "id").values_list("type", "message"))
    assert events[-2:] == [
        ("status_changed", "Packed in 1 package(s): BOX-S"),
        ("pack_session_closed", "Packed at BENCH-1 by ann: 1 package(s)"),
    ]
    assert ledger_differences() == []


def test_close_starts_the_label_purchase_after_commit(w, tees, django_capture_on_commit_callbacks):
    session = _open(w, tees)
    _scan_all(session, w.ann)

    with django_capture_on_commit_callbacks() as callbacks:
        services.pack_session_close(session_id=session.pk, user=w.ann)

    assert len(callbacks) >= 1  # order_pack's enqueue of shipping.tasks.purchase_label, as a direct pack


def test_close_with_units_missing_is_refused_listing_them(w, tees):
    session = _open(w, tees)
    _scan(session, "BOX-S", w.ann)
    _scan(session, TEE_UPC, w.ann)
    before = _snapshot(tees)

    with pytest.raises(services.PackSessionError) as refused:
        services.pack_session_close(session_id=session.pk, user=w.ann)

    assert (refused.value.status, refused.value.code) == (422, "missing_units")
    assert refused.value.extra == {"missing_units": [{"sku": "TEE", "quantity": 1}, {"sku": "MUG", "quantity": 1}]}
    assert [e["message"] for e in refused.value.errors] == ["TEE: 1 of 2 scanned", "MUG: 0 of 1 scanned"]
    assert _snapshot(tees) == before


def test_a_weight_out_of_tolerance_is_refused_with_the_expected_weight_and_the_tolerance(w, tees):
    session = _open(w, tees)
    _scan_all(session, w.ann)  # 2 x 250 + 400 + BOX-S 150 = 1,050 g; 10 % = 105 g
    before = _snapshot(tees)

    with pytest.raises(services.PackSessionError) as refused:
        services.pack_session_close(session_id=session.pk, user=w.ann, packages=[{"weight_g": 1156}])

    assert (refused.value.status, refused.value.code) == (422, "weight_out_of_tolerance")
    [error] = refused.value.errors
    assert (error["field"], error["expected_weight_g"], error["tolerance_g"], error["weight_g"]) == (
        "packages[0].weight_g",
        1050,
        105,
        1156,
    )
    assert _snapshot(tees) == before
    services.pack_session_close(session_id=session.pk, user=w.ann, packages=[{"weight_g": 1155}])  # at the edge
    assert Order.objects.get(pk=tees.pk).status == Status.PACKED


def test_the_expected_weight_counts_void_fill_and_the_inserts_in_the_first_parcel(w, tees):
    Box.objects.filter(code__in=["BOX-M", "MAILER-L"]).update(void_fill_per_package=0)
    Box.objects.filter(code="BOX-M").update(void_fill_per_package=3)
    services.material_create(code="VOID", name="Void fill", kind="void_fill", weight_g=8)
    inv.product(w.tenant, "FLYER", weight_g=20)
    services.insert_rule_create(tenant_id=w.tenant.pk, sku="FLYER", quantity=2, when="always")
    session = _open(w, tees)
    _scan(session, "BOX-M", w.ann)
    _scan(session, MUG_EAN, w.ann)
    _scan(session, "MAILER-L", w.ann)
    _scan(session, TEE_UPC, w.ann)
    _scan(session, TEE_UPC, w.ann)

    first, second = selectors.pack_session_state(session=session).packages

    box_m, mailer = Box.objects.get(code="BOX-M"), Box.objects.get(code="MAILER-L")
    # The mug, BOX-M's tare, 3 sheets of void fill and the two flyers; then the tees in the mailer.
    assert first.expected_weight_g == 400 + box_m.tare_weight_g + 3 * 8 + 2 * 20
    assert second.expected_weight_g == 2 * 250 + mailer.tare_weight_g
    with pytest.raises(services.PackSessionError) as refused:
        services.pack_session_close(
            session_id=session.pk,
            user=w.ann,
            packages=[{"weight_g": 100}, {"weight_g": second.expected_weight_g}],
        )
    assert refused.value.errors[0]["expected_weight_g"] == first.expected_weight_g


def test_a_weight_out_of_tolerance_ships_with_an_override_reason_kept_on_package_and_timeline(w, tees):
    session = _open(w, tees)
    _scan_all(session, w.ann)

    services.pack_session_close(
        session_id=session.pk,
        user=w.ann,
        packages=[{"weight_g": 1400, "override_reason": "extra padding for the mug"}],
    )

    package = PackSessionPackage.objects.get(session=session)
    assert (package.weight_g, package.override_reason) == (1400, "extra padding for the mug")
    assert Shipment.objects.get(order=tees).packages.get().weight_g == 1400
    event = OrderEvent.objects.filter(order=tees, type="pack_session_closed").get()
    assert event.message == (
        "Packed at BENCH-1 by ann: 1 package(s); weight override: package 1 weighs 1400 g: extra padding for the mug"
    )
    assert event.data["packages"] == [
        {
            "number": 1,
            "box": "BOX-S",
            "weight_g": 1400,
            "expected_weight_g": 1050,
            "override_reason": "extra padding for the mug",
        }
    ]


def test_the_tolerance_is_never_under_its_grams(w):
    session_order = picked_order(w.tenant, external_id="S3", lines=[("SOCK", 1)])
    session = _open(w, session_order)
    _scan(session, "MAILER-S", w.ann)
    _scan(session, "SOCK", w.ann)  # 40 g + 20 g tare: 10 % is 6 g, the floor 50 g

    with pytest.raises(services.PackSessionError) as refused:
        services.pack_session_close(session_id=session.pk, user=w.ann, packages=[{"weight_g": 111}])
    assert refused.value.errors[0]["tolerance_g"] == 50

    services.pack_session_close(session_id=session.pk, user=w.ann, packages=[{"weight_g": 110}])
    assert Order.objects.get(pk=session_order.pk).status == Status.PACKED


def test_close_of_several_packages_box_a_units_box_b_units(w, tees):
    session = _open(w, tees)
    _scan(session, "BOX-M", w.ann)
    _scan(session, MUG_EAN, w.ann)
    _scan(session, "MAILER-L", w.ann)
    _scan(session, TEE_UPC, w.ann)
    _scan(session, TEE_UPC, w.ann)

    services.pack_session_close(
        session_id=session.pk, user=w.ann, packages=[{"weight_g": 700}, {"box": "MAILER-L", "weight_g": 560}]
    )

    shipment = Shipment.objects.get(order=tees)
    assert list(shipment.packages.values_list("number", "box__code", "weight_g", "items")) == [
        (1, "BOX-M", 700, [{"sku": "MUG", "quantity": 1}]),
        (2, "MAILER-L", 560, [{"sku": "TEE", "quantity": 2}]),
    ]


def test_close_needs_one_entry_per_package_and_a_box_for_each(w, tees):
    session = _open(w, tees)
    _scan(session, MUG_EAN, w.ann)  # package 1, no box scanned for it
    _scan(session, TEE_UPC, w.ann)
    _scan(session, TEE_UPC, w.ann)
    before = _snapshot(tees)

    with pytest.raises(services.PackSessionError) as count:
        services.pack_session_close(session_id=session.pk, user=w.ann, packages=[{}, {"weight_g": 500}])
    with pytest.raises(services.PackSessionError) as boxless:
        services.pack_session_close(session_id=session.pk, user=w.ann)
    with pytest.raises(services.PackSessionError) as unknown:
        services.pack_session_close(session_id=session.pk, user=w.ann, packages=[{"box": "NOPE"}])

    assert (count.value.code, count.value.field) == ("package_count", "packages")
    assert [(e["field"], e["code"]) for e in boxless.value.errors] == [("packages[0].box", "box_required")]
    assert [(e["field"], e["code"]) for e in unknown.value.errors] == [("packages[0].box", "unknown_box")]
    assert _snapshot(tees) == before
    services.pack_session_close(session_id=session.pk, user=w.ann, packages=[{"box": "BOX-S"}])
    assert Order.objects.get(pk=tees.pk).status == Status.PACKED


def test_only_the_packer_closes_the_session_and_only_once(w, tees):
    session = _open(w, tees)
    _scan_all(session, w.ann)

    with pytest.raises(services.PackSessionError) as other:
        services.pack_session_close(session_id=session.pk, user=w.bob)
    services.pack_session_close(session_id=session.pk, user=w.ann)
    with pytest.raises(services.PackSessionError) as twice:
        services.pack_session_close(session_id=session.pk, user=w.ann)

    assert (other.value.status, other.value.code) == (409, "being_packed")
    assert (twice.value.status, twice.value.code) == (409, "session_not_open")
    assert Shipment.objects.filter(order=tees).count() == 1


# -- order_pack and abandon ---------------------------------------------------------------------


def test_order_pack_is_refused_while_someone_else_holds_a_session(w, tees):
    from fulfillment.tenancy.authentication import actor_for_user

    _open(w, tees)
    before = _snapshot(tees)

    for actor_obj in (actor_for_user(w.bob), None):
        with pytest.raises(services.PackingError) as refused:
            services.order_pack(order_id=tees.pk, actor="bob", actor_obj=actor_obj)
        assert (refused.value.status, refused.value.code) == (409, "being_packed")
        assert refused.value.problem().extra["held_by"] == "ann"

    assert _snapshot(tees) == before


def test_order_pack_by_the_sessions_packer_closes_the_session_with_the_shipment(w, tees):
    from fulfillment.tenancy.authentication import actor_for_user

    session = _open(w, tees)

    shipment = services.order_pack(order_id=tees.pk, actor="ann", actor_obj=actor_for_user(w.ann))

    session.refresh_from_db()
    assert (session.status, session.shipment) == (PackSessionStatus.CLOSED, shipment)


def test_the_packer_abandons_the_session_and_the_order_stays_picked(w, tees):
    OrderEvent.objects.filter(order=tees).update(created_at=NOW - timedelta(hours=1))
    with time_machine.travel(NOW - timedelta(minutes=10), tick=False):
        session = _open(w, tees)
        _scan(session, TEE_UPC, w.ann)

    with time_machine.travel(NOW, tick=False):
        abandoned = services.pack_session_abandon(session_id=session.pk, user=w.ann, reason="wrong tote")

    assert (abandoned.status, abandoned.closed_at) == (PackSessionStatus.ABANDONED, NOW)
    assert Order.objects.get(pk=tees.pk).status == Status.PICKED
    event = OrderEvent.objects.filter(order=tees).last()
    assert (event.type, event.message) == (
        "pack_session_abandoned",
        "Packing at BENCH-1 abandoned by ann: wrong tote",
    )
    reopened = services.pack_session_open(user=w.bob, order=str(tees.pk), station="BENCH-2")
    assert reopened.created is True
    assert selectors.scanned_units(session=reopened.session) == {}


def test_a_manager_of_the_warehouse_abandons_a_packers_session_but_another_packer_cannot(w, tees):
    session = _open(w, tees)

    with pytest.raises(services.PackSessionError) as other_packer:
        services.pack_session_abandon(session_id=session.pk, user=w.bob)
    with pytest.raises(services.PackSessionError) as other_warehouse:
        services.pack_session_abandon(session_id=session.pk, user=w.olga)
    assert (other_packer.value.status, other_packer.value.code) == (403, "not_allowed")
    assert (other_warehouse.value.status, other_warehouse.value.code) == (404, "not_found")
    assert PackSession.objects.get(pk=session.pk).status == PackSessionStatus.OPEN

    services.pack_session_abandon(session_id=session.pk, user=w.lead)

    assert PackSession.objects.get(pk=session.pk).status == PackSessionStatus.ABANDONED
    with pytest.raises(services.PackSessionError) as again:
        services.pack_session_abandon(session_id=session.pk, user=w.lead)
    assert (again.value.status, again.value.code) == (409, "session_not_open")


# -- the tolerance setting --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10%,50g", WeightTolerance(Decimal(10), 50)),
        ("50g, 2.5%", WeightTolerance(Decimal("2.5"), 50)),
        ("5%", WeightTolerance(Decimal(5), 0)),
        ("30G", WeightTolerance(Decimal(0), 30)),
    ],
)
def test_the_weight_tolerance_reads_a_share_grams_or_both(monkeypatch, raw, expected):
    monkeypatch.setenv("PACK_WEIGHT_TOLERANCE", raw)

    assert env_weight_tolerance("PACK_WEIGHT_TOLERANCE", "10%,50g") == expected


@pytest.mark.parametrize("raw", ["", "ten", "10", "10%,20%", "150%", "5g,6g", "-3g"])
def test_a_bad_weight_tolerance_stops_start_up(monkeypatch, raw):
    monkeypatch.setenv("PACK_WEIGHT_TOLERANCE", raw)

    with pytest.raises(ImproperlyConfigured, match="PACK_WEIGHT_TOLERANCE"):
        env_weight_tolerance("PACK_WEIGHT_TOLERANCE", "10%,50g")


def test_the_tolerance_is_the_larger_of_the_share_and_the_grams():
    tolerance = WeightTolerance(Decimal(10), 50)

    assert [tolerance.allowed_g(g) for g in (0, 300, 500, 505, 1050)] == [50, 50, 50, 51, 105]
    assert str(tolerance) == "10%,50g"


# -- two packers at once (PostgreSQL, real threads) --------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_packers_opening_one_order_at_once_one_wins():
    w = _world()
    picked = picked_order(w.tenant, external_id="RACE", lines=[("TEE", 1)])

    def opener(user):
        return lambda: services.pack_session_open(user=user, order=str(picked.pk), station=user.get_username())

    errors = run_together([opener(w.ann), opener(w.bob)])

    assert [(e.status, e.code) for e in errors] == [(409, "being_packed")]
    [session] = PackSession.objects.filter(order=picked)
    assert session.status == PackSessionStatus.OPEN
    assert errors[0].extra["held_by"] == session.packer.get_username()
    assert OrderEvent.objects.filter(order=picked, type="pack_session_opened").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_devices_scanning_the_last_unit_at_once_count_it_once():
    w = _world()
    picked = picked_order(w.tenant, external_id="RACE-2", lines=[("TEE", 1)])
    session = _open(w, picked)

    errors = run_together([lambda: _scan(session, TEE_UPC, w.ann), lambda: _scan(session, TEE_UPC, w.ann)])

    assert [(e.status, e.code) for e in errors] == [(422, "too_many")]
    assert selectors.scanned_units(session=session) == {"TEE": 1}
    assert sorted(PackScan.objects.filter(session=session).values_list("result", flat=True)) == [
        "accepted",
        "refused",
    ]


@pytest.mark.django_db(transaction=True)
def test_one_scan_sent_twice_at_once_is_recorded_once():
    w = _world()
    picked = picked_order(w.tenant, external_id="RACE-3", lines=[("TEE", 2)])
    session = _open(w, picked)

    outcomes = race([lambda: _scan(session, TEE_UPC, w.ann, scan_id="same")] * 2)

    assert sorted(o.replayed for o in outcomes) == [False, True]
    assert len({o.scan.pk for o in outcomes}) == 1
    assert selectors.scanned_units(session=session) == {"TEE": 1}


# -- the API ------------------------------------------------------------------------------------

SESSIONS = "/api/v1/pack-sessions/"


def _post(client, url, body):
    return client.post(url, body, format="json")


def test_api_open_answers_the_expected_units_and_the_recommended_packages(w, tees, api_as):
    response = _post(api_as(w.tokens["ann"]), SESSIONS, {"order": tees.number, "station": "BENCH-1"})

    assert response.status_code == 201, response.json()
    body = response.json()
    session = PackSession.objects.get()
    assert (body["id"], body["status"], body["station"], body["packer"], body["warehouse"]) == (
        str(session.pk),
        "open",
        "BENCH-1",
        "ann",
        "MAIN",
    )
    assert body["order"] == {"id": str(tees.pk), "number": tees.number, "tenant": str(w.tenant.pk), "status": "picked"}
    assert [(u["sku"], u["quantity"], u["scanned"], u["remaining"], u["barcodes"]) for u in body["expected"]] == [
        ("TEE", 2, 0, 2, [TEE_UPC]),
        ("MUG", 1, 0, 1, [MUG_EAN]),
    ]
    assert (body["packages"], body["current_package"], body["complete"], body["shipment"]) == ([], None, False, None)
    assert body["weight_tolerance"] == {"percent": "10.00", "grams": 50}
    recommended = body["recommended_packages"]
    assert sorted(p["sku"] for package in recommended for p in package["placements"]) == ["MUG", "TEE", "TEE"]
    assert all(
        set(p) == {"sku", "x_mm", "y_mm", "z_mm", "length_mm", "width_mm", "height_mm"}
        for pk in recommended
        for p in pk["placements"]
    )


def test_api_open_again_resumes_with_200_and_a_second_packer_gets_409_naming_the_holder(w, tees, api_as):
    first = _post(api_as(w.tokens["ann"]), SESSIONS, {"order": str(tees.pk), "station": "BENCH-1"})

    again = _post(api_as(w.tokens["ann"]), SESSIONS, {"order": str(tees.pk), "station": "BENCH-1"})
    other = _post(api_as(w.tokens["bob"]), SESSIONS, {"order": str(tees.pk), "station": "BENCH-2"})

    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    assert other.status_code == 409
    assert other["Content-Type"].startswith("application/problem+json")
    assert (other.json()["held_by"], other.json()["errors"][0]["code"]) == ("ann", "being_packed")
    assert PackSession.objects.count() == 1


def test_api_open_with_neither_order_nor_tote_is_422(w, tees, api_as):
    response = _post(api_as(w.tokens["ann"]), SESSIONS, {"station": "BENCH-1"})

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("order", "order_or_tote")]


def test_api_scans_answer_the_scan_and_the_state_and_a_refusal_is_422(w, tees, api_as):
    client = api_as(w.tokens["ann"])
    session_id = _post(client, SESSIONS, {"order": str(tees.pk)}).json()["id"]
    url = f"{SESSIONS}{session_id}/scans/"

    box = _post(client, url, {"barcode": "BOX-S", "scan_id": "a"})
    unit = _post(client, url, {"barcode": TEE_UPC, "scan_id": "b"})
    resent = _post(client, url, {"barcode": TEE_UPC, "scan_id": "b"})
    refused = _post(client, url, {"barcode": "SOCK", "scan_id": "c"})

    assert (box.status_code, box.json()["scan"]["package"], box.json()["scan"]["sku"]) == (200, 1, None)
    assert unit.status_code == 200
    assert (unit.json()["scan"]["sku"], unit.json()["replayed"], unit.json()["session"]["current_package"]) == (
        "TEE",
        False,
        1,
    )
    assert (resent.status_code, resent.json()["replayed"], resent.json()["scan"]["id"]) == (
        200,
        True,
        unit.json()["scan"]["id"],
    )
    assert resent.json()["session"]["packages"] == [
        {
            "number": 1,
            "box": "BOX-S",
            "items": [{"sku": "TEE", "quantity": 1}],
            "units": 1,
            "expected_weight_g": 400,
            "weight_g": None,
            "override_reason": "",
        }
    ]
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [("barcode", "not_in_order")]
    assert PackScan.objects.filter(result="refused").count() == 1
    assert selectors.scanned_units(session=PackSession.objects.get()) == {"TEE": 1}


def test_api_close_packs_the_order_or_names_the_expected_weight_and_tolerance(w, tees, api_as):
    client = api_as(w.tokens["ann"])
    session_id = _post(client, SESSIONS, {"order": str(tees.pk), "station": "BENCH-1"}).json()["id"]
    for i, code in enumerate(["BOX-S", TEE_UPC, TEE_UPC, MUG_EAN]):
        assert _post(client, f"{SESSIONS}{session_id}/scans/", {"barcode": code, "scan_id": str(i)}).status_code == 200
    url = f"{SESSIONS}{session_id}/close/"

    heavy = _post(client, url, {"packages": [{"weight_g": 2000}]})
    closed = _post(client, url, {"packages": [{"box": "BOX-S", "weight_g": 1060}]})

    assert heavy.status_code == 422
    [error] = heavy.json()["errors"]
    assert (error["field"], error["code"], error["expected_weight_g"], error["tolerance_g"]) == (
        "packages[0].weight_g",
        "weight_out_of_tolerance",
        1050,
        105,
    )
    assert closed.status_code == 200, closed.json()
    body = closed.json()
    shipment = Shipment.objects.get(order=tees)
    assert (body["status"], body["shipment"], body["order"]["status"]) == ("closed", str(shipment.pk), "packed")
    assert body["packages"][0]["weight_g"] == 1060


def test_api_abandon_by_the_packer_leaves_the_order_picked(w, tees, api_as):
    client = api_as(w.tokens["ann"])
    session_id = _post(client, SESSIONS, {"order": str(tees.pk)}).json()["id"]

    by_bob = _post(api_as(w.tokens["bob"]), f"{SESSIONS}{session_id}/abandon/", {})
    response = _post(client, f"{SESSIONS}{session_id}/abandon/", {"reason": "label printer down"})

    assert by_bob.status_code == 403
    assert (response.status_code, response.json()["status"]) == (200, "abandoned")
    assert Order.objects.get(pk=tees.pk).status == Status.PICKED


def test_api_lists_sessions_by_status_and_warehouse(w, tees, api_as):
    other = picked_order(w.tenant, external_id="S9", lines=[("TEE", 1)])
    with time_machine.travel(NOW, tick=False):
        open_session = _open(w, tees)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        abandoned = _open(w, other, user=w.bob)
    services.pack_session_abandon(session_id=abandoned.pk, user=w.bob)
    client = api_as(w.tokens["lead"])

    everything = client.get(SESSIONS).json()["results"]
    open_ones = client.get(SESSIONS, {"status": "open", "warehouse": "main"}).json()["results"]
    elsewhere = client.get(SESSIONS, {"warehouse": "WEST"}).json()["results"]

    assert [s["id"] for s in everything] == [str(abandoned.pk), str(open_session.pk)]
    assert [(s["id"], s["packer"], s["warehouse"], s["order"]["number"]) for s in open_ones] == [
        (str(open_session.pk), "ann", "MAIN", tees.number)
    ]
    assert elsewhere == []


def test_api_staff_of_another_warehouse_and_merchants_see_no_session(w, tees, api_as):
    from fulfillment.tenancy.tests.factories import tenant_with_key

    session = _open(w, tees)
    _, merchant_key = tenant_with_key()
    olga = api_as(w.tokens["olga"])

    assert olga.get(SESSIONS).json()["results"] == []
    assert olga.get(f"{SESSIONS}{session.pk}/").status_code == 404
    assert _post(olga, f"{SESSIONS}{session.pk}/scans/", {"barcode": TEE_UPC, "scan_id": "x"}).status_code == 404
    assert _post(olga, f"{SESSIONS}{session.pk}/abandon/", {}).status_code == 404
    assert api_as(merchant_key).get(SESSIONS).status_code == 403
    assert PackScan.objects.count() == 0
    assert PackSession.objects.get().status == "open"


def test_api_detail_answers_the_state(w, tees, api_as):
    session = _open(w, tees)
    _scan(session, MUG_EAN, w.ann)

    body = api_as(w.tokens["lead"]).get(f"{SESSIONS}{session.pk}/").json()

    assert (body["id"], body["current_package"]) == (str(session.pk), 1)
    assert [(u["sku"], u["scanned"]) for u in body["expected"]] == [("TEE", 0), ("MUG", 1)]


def test_api_pack_is_409_while_another_packer_holds_a_session(w, tees, api_as):
    _open(w, tees)

    response = _post(api_as(w.tokens["bob"]), f"/api/v1/orders/{tees.pk}/pack/", {})

    assert response.status_code == 409
    assert (response.json()["held_by"], response.json()["errors"][0]["code"]) == ("ann", "being_packed")
    assert Shipment.objects.count() == 0
    assert Order.objects.get(pk=tees.pk).status == Status.PICKED


# -- undo -----------------------------------------------------------------------------------


def test_undo_takes_back_the_last_unit_scan_and_keeps_it_in_the_log(w, tees):
    session = _open(w, tees)
    _scan(session, "BOX-S", w.ann)
    _scan(session, TEE_UPC, w.ann)
    _scan(session, MUG_EAN, w.ann)

    undone = services.pack_session_undo(session_id=session.pk, user=w.ann)

    assert (undone.sku, undone.result) == ("MUG", "undone")
    assert selectors.scanned_units(session=session) == {"TEE": 1}
    assert PackScan.objects.filter(session=session).count() == 3
    _scan(session, MUG_EAN, w.ann)  # the mug may be scanned again, into the right parcel
    assert selectors.scanned_units(session=session) == {"TEE": 1, "MUG": 1}


def test_undoing_the_same_scan_twice_takes_back_one_unit(w, tees):
    session = _open(w, tees)
    _scan(session, TEE_UPC, w.ann)
    second = _scan(session, TEE_UPC, w.ann).scan

    services.pack_session_undo(session_id=session.pk, user=w.ann, scan=second.pk)
    services.pack_session_undo(session_id=session.pk, user=w.ann, scan=second.pk)  # a double tap

    assert selectors.scanned_units(session=session) == {"TEE": 1}


def test_a_resent_scan_that_was_undone_is_not_counted_again(w, tees):
    session = _open(w, tees)
    scan_id = str(uuid.uuid4())
    _scan(session, TEE_UPC, w.ann, scan_id=scan_id)
    services.pack_session_undo(session_id=session.pk, user=w.ann)

    again = _scan(session, TEE_UPC, w.ann, scan_id=scan_id)

    assert again.replayed is True
    assert selectors.scanned_units(session=session) == {}


def test_undo_is_refused_with_nothing_scanned_or_for_another_packer(w, tees):
    session = _open(w, tees)
    _scan(session, "BOX-S", w.ann)  # a box scan is no unit to take back
    before = _snapshot(tees)

    with pytest.raises(services.PackSessionError) as nothing:
        services.pack_session_undo(session_id=session.pk, user=w.ann)

    assert (nothing.value.status, nothing.value.code) == (422, "nothing_to_undo")
    assert _snapshot(tees) == before
    _scan(session, TEE_UPC, w.ann)
    before = _snapshot(tees)

    with pytest.raises(services.PackSessionError) as other:
        services.pack_session_undo(session_id=session.pk, user=w.bob)

    assert (other.value.status, other.value.code) == (409, "being_packed")
    assert _snapshot(tees) == before


def test_api_undo_answers_the_state_without_the_unit(w, tees, api_as):
    session = _open(w, tees)
    scan = _scan(session, TEE_UPC, w.ann).scan

    response = api_as(w.tokens["ann"]).post(
        f"/api/v1/pack-sessions/{session.pk}/undo/", {"scan": scan.pk}, format="json"
    )

    assert response.status_code == 200, response.json()
    tee = next(u for u in response.json()["expected"] if u["sku"] == "TEE")
    assert tee["scanned"] == 0


def test_a_scanned_reference_is_an_order_number_else_a_tote(w, tees):
    opened = services.pack_session_open(user=w.ann, scanned=tees.number, station="BENCH-1")

    assert opened.session.order_id == tees.pk
    with pytest.raises(services.PackSessionError) as unknown:
        services.pack_session_open(user=w.bob, scanned="NO-SUCH-TOTE")
    assert (unknown.value.status, unknown.value.code) == (422, "unknown_tote")
    with pytest.raises(services.PackSessionError) as both:
        services.pack_session_open(user=w.bob, scanned=tees.number, order=tees.number)
    assert both.value.code == "order_or_tote"
