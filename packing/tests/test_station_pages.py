"""The pack station pages (bench /pack/ and handheld /handheld/pack/) and the manager's packing page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.test import Client

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory.services.catalog import gtin_check_digit
from inventory.tests import factories as inv
from orders.models import Order, Status
from orders.tests.factories import order as new_order
from packing import services
from packing.models import PackScan, PackSession, PackSessionPackage, Shipment
from packing.tests.factories import picked_order
from picking import services as picking

pytestmark = pytest.mark.django_db

TEE_UPC = "0012345678905"
MUG_EAN = "400638133393" + str(gtin_check_digit("400638133393"))
NOW = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)


@pytest.fixture
def w():
    tenant = TenantFactory(name="Acme Apparel")
    main = inv.warehouse("MAIN")
    tee = inv.product(tenant, "TEE", barcode=TEE_UPC, name="Red tee, size M", image_url="https://img.example/tee.jpg")
    mug = inv.product(tenant, "MUG", barcode=MUG_EAN, length_mm=120, width_mm=100, height_mm=100, weight_g=400)
    for product, location in ((tee, "01-01-1"), (mug, "01-02-1")):
        inv.stock(tenant, product, main, location, 20)
    users = {}
    clients = {}
    for name, role in (("ann", "associate"), ("bob", "associate"), ("lead", "manager")):
        users[name], _token = staff_with_token(username=name, role=role, warehouse=main)
        clients[name] = Client()
        assert clients[name].login(username=name, password="pass-word-123")
    return SimpleNamespace(tenant=tenant, main=main, users=users, clients=clients)


@pytest.fixture
def picked(w):
    return picked_order(w.tenant, external_id="S1", lines=[("TEE", 2), ("MUG", 1)])


def _ship_by(order, when):
    Order.objects.filter(pk=order.pk).update(ship_by=when)
    order.ship_by = when
    return order


def _start(client, reference, *, layout="pack", station="BENCH-1"):
    return client.post(f"/{layout}/", {"scan": reference, "station": station})


def _session_url(response):
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def _scan(client, url, code):
    return client.post(url, {"action": "scan", "scan": code, "scan_id": str(uuid.uuid4())})


def _scan_all(client, url):
    for code in ("BOX-S", TEE_UPC, TEE_UPC, MUG_EAN):
        assert _scan(client, url, code).status_code == 302


def test_scanning_an_order_number_opens_its_session_and_shows_units_with_images_and_a_drawing(w, picked):
    url = _session_url(_start(w.clients["ann"], picked.number))

    page = w.clients["ann"].get(url)

    html = page.content.decode()
    assert page.status_code == 200
    session = PackSession.objects.get(order=picked)
    assert (session.packer, session.station, url) == (w.users["ann"], "BENCH-1", f"/pack/{session.pk}/")
    assert 'data-sku="TEE"' in html and 'data-sku="MUG"' in html
    assert 'src="https://img.example/tee.jpg"' in html
    assert "0/3 units scanned" in html
    assert "<svg" in html and 'class="pk-unit"' in html  # the recommended packing, drawn


def test_a_reload_and_the_handheld_show_the_same_session(w, picked):
    url = _session_url(_start(w.clients["ann"], picked.number))
    _scan(w.clients["ann"], url, TEE_UPC)

    again = _session_url(_start(w.clients["ann"], picked.number, layout="handheld/pack"))

    session = PackSession.objects.get(order=picked)
    assert again == f"/handheld/pack/{session.pk}/"
    assert "1/3 units scanned" in w.clients["ann"].get(again).content.decode()
    assert PackSession.objects.filter(order=picked).count() == 1


def test_a_second_packer_is_told_who_packs_the_order_and_opens_nothing(w, picked):
    _session_url(_start(w.clients["ann"], picked.number))

    refused = _start(w.clients["bob"], picked.number)

    assert refused.status_code == 409
    assert 'data-error="1"' in refused.content.decode() and "ann" in refused.content.decode()
    assert PackSession.objects.filter(order=picked).count() == 1


def test_an_unknown_reference_is_refused_on_the_start_page(w, picked):
    refused = _start(w.clients["ann"], "NO-SUCH-THING")

    assert refused.status_code == 422
    assert 'data-error="1"' in refused.content.decode()
    assert not PackSession.objects.exists()


def test_a_unit_not_in_the_order_is_refused_loudly_and_counts_nothing(w, picked):
    inv.product(w.tenant, "SOCK", barcode="0036000291452")
    url = _session_url(_start(w.clients["ann"], picked.number))
    _scan(w.clients["ann"], url, TEE_UPC)

    refused = _scan(w.clients["ann"], url, "0036000291452")

    html = refused.content.decode()
    assert refused.status_code == 422
    assert 'role="alert" data-error="1"' in html and "SOCK is not in order" in html
    assert "1/3 units scanned" in html
    assert PackScan.objects.filter(session__order=picked, result="accepted", sku__isnull=False).count() == 1
    assert PackScan.objects.filter(session__order=picked, result="refused", code="not_in_order").count() == 1


def test_one_too_many_is_refused(w, picked):
    url = _session_url(_start(w.clients["ann"], picked.number))
    _scan(w.clients["ann"], url, MUG_EAN)

    refused = _scan(w.clients["ann"], url, MUG_EAN)

    assert refused.status_code == 422
    assert "One too many MUG" in refused.content.decode()


def test_all_units_scanned_asks_for_each_package_weight_with_the_expected_one(w, picked):
    url = _session_url(_start(w.clients["ann"], picked.number))
    _scan_all(w.clients["ann"], url)

    html = w.clients["ann"].get(url).content.decode()

    package = PackSessionPackage.objects.get(session__order=picked)
    expected = 2 * 250 + 400 + package.box.tare_weight_g  # inv.product weighs 250 g unless told
    assert 'id="close-form"' in html and 'name="weight_0"' in html
    assert f"expected {expected} g" in html
    assert 'id="scan-form"' not in html


def test_a_wrong_weight_is_refused_then_shipped_with_a_reason(w, picked):
    url = _session_url(_start(w.clients["ann"], picked.number))
    _scan_all(w.clients["ann"], url)

    refused = w.clients["ann"].post(url, {"action": "close", "weight_0": "3 kg"})

    html = refused.content.decode()
    assert refused.status_code == 422
    assert "weighs 3000 g but should weigh" in html and 'name="reason_0"' in html
    assert Order.objects.get(pk=picked.pk).status == Status.PICKED
    assert not Shipment.objects.filter(order=picked).exists()

    closed = w.clients["ann"].post(url, {"action": "close", "weight_0": "3 kg", "reason_0": "product weight wrong"})

    assert closed.status_code == 302
    assert Order.objects.get(pk=picked.pk).status == Status.PACKED
    package = PackSessionPackage.objects.get(session__order=picked)
    assert (package.weight_g, package.override_reason) == (3000, "product weight wrong")
    done = w.clients["ann"].get(url).content.decode()
    assert f"/api/v1/orders/{picked.pk}/packing-slip.pdf" in done


def test_a_weight_within_tolerance_packs_the_order_and_the_label_links_follow(
    w, picked, django_capture_on_commit_callbacks
):
    url = _session_url(_start(w.clients["ann"], picked.number))
    _scan_all(w.clients["ann"], url)
    package = PackSessionPackage.objects.get(session__order=picked)
    expected = 900 + package.box.tare_weight_g

    with django_capture_on_commit_callbacks(execute=True):
        closed = w.clients["ann"].post(url, {"action": "close", "weight_0": str(expected + 20)})

    assert closed.status_code == 302
    shipment = Shipment.objects.get(order=picked)
    assert shipment.tracking_number  # the rate-sheet carrier sold the label in the (eager) task
    html = w.clients["ann"].get(url).content.decode()
    assert f"/api/v1/shipments/{shipment.pk}/label.pdf" in html
    assert f"/api/v1/shipments/{shipment.pk}/label.zpl" in html
    assert 'data-label-pending="1"' not in html


def test_the_page_waits_for_the_label_until_it_is_bought(w, picked):
    url = _session_url(_start(w.clients["ann"], picked.number))
    _scan_all(w.clients["ann"], url)
    package = PackSessionPackage.objects.get(session__order=picked)

    w.clients["ann"].post(url, {"action": "close", "weight_0": str(900 + package.box.tare_weight_g)})

    html = w.clients["ann"].get(url).content.decode()
    assert 'data-label-pending="1"' in html and "Buying the label" in html


def test_a_label_that_cannot_be_bought_is_said_instead_of_waiting(w, picked, django_capture_on_commit_callbacks):
    from django.apps import apps

    apps.get_model("shipping", "CarrierService").objects.update(active=False)  # no carrier can take it
    url = _session_url(_start(w.clients["ann"], picked.number))
    _scan_all(w.clients["ann"], url)
    package = PackSessionPackage.objects.get(session__order=picked)

    with django_capture_on_commit_callbacks(execute=True):
        w.clients["ann"].post(url, {"action": "close", "weight_0": str(900 + package.box.tare_weight_g)})

    html = w.clients["ann"].get(url).content.decode()
    assert 'data-label-pending="1"' not in html
    assert 'id="label-problem"' in html and "No label yet" in html and "Exceptions" in html


def test_a_missing_weight_is_asked_for_and_nothing_is_packed(w, picked):
    url = _session_url(_start(w.clients["ann"], picked.number))
    _scan_all(w.clients["ann"], url)

    refused = w.clients["ann"].post(url, {"action": "close", "weight_0": ""})

    assert refused.status_code == 422
    assert "Weigh this package." in refused.content.decode()
    assert Order.objects.get(pk=picked.pk).status == Status.PICKED


def test_two_boxes_make_two_packages_to_weigh(w, picked):
    url = _session_url(_start(w.clients["ann"], picked.number))
    for code in ("BOX-S", TEE_UPC, TEE_UPC, "BOX-M", MUG_EAN):
        assert _scan(w.clients["ann"], url, code).status_code == 302

    html = w.clients["ann"].get(url).content.decode()

    assert 'name="weight_0"' in html and 'name="weight_1"' in html


def test_abandoning_returns_to_the_start_and_the_order_stays_picked(w, picked):
    url = _session_url(_start(w.clients["ann"], picked.number))

    left = w.clients["ann"].post(url, {"action": "abandon"})

    assert (left.status_code, left["Location"]) == (302, "/pack/")
    assert PackSession.objects.get(order=picked).status == "abandoned"
    assert Order.objects.get(pk=picked.pk).status == Status.PICKED


def test_another_packers_session_is_shown_but_scans_are_refused(w, picked):
    url = _session_url(_start(w.clients["ann"], picked.number))

    refused = _scan(w.clients["bob"], url, TEE_UPC)

    assert refused.status_code == 409
    assert not PackScan.objects.filter(session__order=picked, result="accepted").exists()


def test_a_merchant_user_cannot_open_the_station(w, picked, merchant_client):
    assert merchant_client.get("/pack/").status_code == 403


def test_the_start_page_lists_the_queue_oldest_ship_by_first(w):
    later = _ship_by(picked_order(w.tenant, external_id="L", lines=[("TEE", 1)]), NOW + timedelta(days=2))
    sooner = _ship_by(picked_order(w.tenant, external_id="E", lines=[("TEE", 1)]), NOW + timedelta(hours=3))

    html = w.clients["ann"].get("/handheld/pack/").content.decode()

    numbers = re.findall(r'data-order="([^"]+)"', html)
    assert numbers == [sooner.number, later.number]


# -- the manager's packing page -------------------------------------------------------------


def _pack_with_sessions(w, picked, client_name="ann", mistakes=0):
    client = w.clients[client_name]
    url = _session_url(_start(client, picked.number))
    for _ in range(mistakes):
        _scan(client, url, "NOT-A-BARCODE")
    _scan_all(client, url)
    package = PackSessionPackage.objects.get(session__order=picked)
    client.post(url, {"action": "close", "weight_0": str(900 + package.box.tare_weight_g)})
    assert Order.objects.get(pk=picked.pk).status == Status.PACKED


def test_the_packing_page_counts_orders_and_mis_scans_per_packer(w, picked):
    with time_machine.travel(NOW, tick=False):
        _pack_with_sessions(w, picked, "ann", mistakes=1)
        second = picked_order(w.tenant, external_id="S2", lines=[("TEE", 2), ("MUG", 1)])
        _pack_with_sessions(w, second, "bob")
        direct = picked_order(w.tenant, external_id="S3", lines=[("TEE", 1)])
        services.order_pack(order_id=direct.pk, actor="api")

        html = w.clients["lead"].get("/packing/?warehouse=MAIN").content.decode()

    ann = re.search(r'<tr data-packer="ann">(.*?)</tr>', html).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", ann)
    # orders, packages, units, scans (1 refused + box + 3 units), refused, rate, overrides
    assert cells == ["1", "1", "3", "5", "1", "20.0%", "0"]
    assert 'data-packer="bob"' in html and 'data-packer="(API)"' in html
    assert "<svg" in html


def test_an_associate_sees_only_their_own_row_and_the_totals(w, picked):
    with time_machine.travel(NOW, tick=False):
        _pack_with_sessions(w, picked, "ann")
        second = picked_order(w.tenant, external_id="S2", lines=[("TEE", 2), ("MUG", 1)])
        _pack_with_sessions(w, second, "bob")

        html = w.clients["bob"].get("/packing/").content.decode()

    assert 'data-packer="bob"' in html and 'data-packer="ann"' not in html
    totals = re.findall(r"<td>([^<]*)</td>", re.search(r'<tr id="totals">(.*?)</tr>', html).group(1))
    assert totals[0] == "2"


def test_the_pack_queue_shows_who_is_packing_and_late_orders(w):
    with time_machine.travel(NOW, tick=False):
        late = _ship_by(picked_order(w.tenant, external_id="LATE", lines=[("TEE", 1)]), NOW - timedelta(hours=1))
        busy = _ship_by(picked_order(w.tenant, external_id="BUSY", lines=[("TEE", 1)]), NOW + timedelta(hours=1))
        _session_url(_start(w.clients["ann"], busy.number))

        html = w.clients["lead"].get("/packing/").content.decode()

    rows = re.findall(r'<tr data-order="([^"]+)">(.*?)</tr>', html, re.S)
    assert [number for number, _ in rows] == [late.number, busy.number]
    assert "late" in rows[0][1]
    assert "ann" in rows[1][1]


def test_a_bad_day_is_a_clear_error(w):
    response = w.clients["lead"].get("/packing/?date=not-a-day")

    assert response.status_code == 400
    assert "date" in response.content.decode()


def test_units_scanned_before_any_box_ask_for_the_box_then_the_weight(w, picked):
    url = _session_url(_start(w.clients["ann"], picked.number))
    for code in (TEE_UPC, TEE_UPC, MUG_EAN):
        assert _scan(w.clients["ann"], url, code).status_code == 302

    asking = w.clients["ann"].get(url).content.decode()
    assert "Scan the box of package 1" in asking and 'id="close-form"' not in asking

    assert _scan(w.clients["ann"], url, "BOX-S").status_code == 302

    weighing = w.clients["ann"].get(url).content.decode()
    [package] = PackSessionPackage.objects.filter(session__order=picked)
    assert package.box.code == "BOX-S"
    assert 'id="close-form"' in weighing and 'id="scan-form"' not in weighing


def _picked_through_a_wave(w, external_id, capture):
    """An order picked through picking's services in a wave of its own: its units go into tote T1
    (tote codes start again on every pick list). ``capture``: django_capture_on_commit_callbacks."""
    with capture(execute=True):  # allocation runs on commit
        created = new_order(w.tenant, external_id=external_id, lines=[("TEE", 1)])
    wave = picking.wave_build(warehouse=w.main, strategy="batch", max_orders=10, actor="test")
    for pick_list in wave.pick_lists.all():
        while task := picking.next_task(pick_list=pick_list):
            picking.pick_confirm(
                pick_list=pick_list,
                task_id=task.pk,
                location_barcode=task.location.code,
                product_barcode=task.product.sku,
                quantity=task.remaining,
                actor="test",
            )
    created.refresh_from_db()
    assert created.status == Status.PICKED
    return created


def test_a_tote_holding_several_picked_orders_offers_them_to_choose(w, django_capture_on_commit_callbacks):
    first = _picked_through_a_wave(w, "T-A", django_capture_on_commit_callbacks)
    second = _picked_through_a_wave(w, "T-B", django_capture_on_commit_callbacks)

    refused = _start(w.clients["ann"], "T1")

    html = refused.content.decode()
    assert refused.status_code == 422
    assert re.findall(r'data-choice="([^"]+)"', html) == sorted([first.number, second.number])
    assert not PackSession.objects.exists()
    chosen = _session_url(_start(w.clients["ann"], second.number))
    assert chosen == f"/pack/{PackSession.objects.get(order=second).pk}/"


def test_the_packer_undoes_a_scan_from_the_page(w, picked):
    url = _session_url(_start(w.clients["ann"], picked.number))
    _scan(w.clients["ann"], url, TEE_UPC)
    _scan(w.clients["ann"], url, MUG_EAN)
    page = w.clients["ann"].get(url).content.decode()
    last = PackScan.objects.filter(session__order=picked, sku="MUG").get()
    assert f'name="scan" value="{last.pk}"' in page and "Undo last scan (MUG)" in page

    undone = w.clients["ann"].post(url, {"action": "undo", "scan": str(last.pk)})
    again = w.clients["ann"].post(url, {"action": "undo", "scan": str(last.pk)})  # a double tap

    assert (undone.status_code, again.status_code) == (302, 302)
    html = w.clients["ann"].get(url).content.decode()
    assert "1/3 units scanned" in html and "take one MUG out of the parcel" in html
    assert "Undo last scan (TEE)" in html


def test_an_order_cancelled_while_being_packed_is_shown_as_such_and_can_only_be_stopped(w, picked):
    from orders.services import order_cancel

    url = _session_url(_start(w.clients["ann"], picked.number))
    _scan(w.clients["ann"], url, TEE_UPC)
    order_cancel(order_id=picked.pk, actor="merchant", reason="changed their mind")

    html = w.clients["ann"].get(url).content.decode()

    assert 'id="order-moved-on"' in html and "is cancelled: do not pack it" in html
    assert 'id="scan-form"' not in html and 'id="close-form"' not in html
    assert w.clients["ann"].post(url, {"action": "abandon"}).status_code == 302
    assert PackSession.objects.get(order=picked).status == "abandoned"
