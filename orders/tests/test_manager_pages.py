"""Manager pages: the order queue (sort, filters, late, CSV), one order, hold / release / cancel, exceptions."""

from __future__ import annotations

import csv
import io
import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory.models import StockBalance
from inventory.tests.factories import product, stock, warehouse
from orders import services
from orders.models import Order, OrderEvent, Status
from orders.tests.factories import order as create_order
from orders.tests.factories import ship_to
from tests.browser import CHROMIUM, login

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    """acme and globex sell A (100 in MAIN, 100 in EAST); a manager and an associate of MAIN."""
    main, east = warehouse("MAIN"), warehouse("EAST")
    acme = TenantFactory(slug="acme", name="Acme", default_warehouse_code="MAIN")
    globex = TenantFactory(slug="globex", name="Globex", default_warehouse_code="MAIN")
    for tenant in (acme, globex):
        item = product(tenant, "A")
        stock(tenant, item, main, "01-01-1", 100)
        stock(tenant, item, east, "01-01-1", 100)
    manager, _ = staff_with_token(username="main-mgr", warehouse=main)
    associate, _ = staff_with_token(username="main-assoc", role="associate", warehouse=main)

    def make(external_id, *, tenant=acme, capture=True, **fields):
        fields.setdefault("lines", [("A", 1)])
        with django_capture_on_commit_callbacks(execute=capture):
            created = create_order(tenant, external_id=external_id, **fields)
        created.refresh_from_db()
        return created

    return {"main": main, "east": east, "acme": acme, "globex": globex, "manager": manager,
            "associate": associate, "make": make}  # fmt: skip


def queue_numbers(response) -> list[str]:
    return [order.number for order, _actions in response.context["rows"]]


def set_fields(order, **fields):
    Order.objects.filter(pk=order.pk).update(**fields)
    order.refresh_from_db()
    return order


def ship(order):
    """Pick, pack and ship an allocated order through the orders services (what later stages call)."""
    services.order_mark_picking(order_id=order.pk, actor="test")
    for allocation in order.lines.get().allocations.all():
        services.allocation_pick(allocation_id=allocation.pk, quantity=allocation.quantity, actor="test")
    services.order_mark_picked(order_id=order.pk, actor="test")
    services.order_mark_packed(order_id=order.pk, actor="test")
    services.order_mark_shipped(order_id=order.pk, actor="test")
    order.refresh_from_db()
    return order


# -- access --------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_login_page(client, world):
    created = world["make"]("O-1")
    for url in ("/orders/", "/orders/exceptions/", f"/orders/{created.pk}/", f"/orders/{created.pk}/hold/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response["Location"]


def test_users_who_are_not_staff_get_403(client, world):
    created = world["make"]("O-1")
    client.force_login(get_user_model().objects.create_user("shopper", password="pass-word-123"))
    for url in ("/orders/", "/orders/?export=csv", "/orders/exceptions/", f"/orders/{created.pk}/"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/orders/{created.pk}/hold/", {"reason": "x"}).status_code == 403


def test_orders_of_other_warehouses_are_not_listed_and_their_pages_are_404(client, world):
    here = world["make"]("O-MAIN")
    there = world["make"]("O-EAST", warehouse="EAST")
    client.force_login(world["manager"])
    assert queue_numbers(client.get("/orders/")) == [here.number]
    assert client.get(f"/orders/{there.pk}/").status_code == 404
    assert client.post(f"/orders/{there.pk}/cancel/", {"reason": "x"}).status_code == 404
    there.refresh_from_db()
    assert there.status == Status.ALLOCATED


# -- the queue -----------------------------------------------------------------------------


def test_queue_lists_open_orders_by_priority_then_ship_by_then_arrival(client, world):
    make, now = world["make"], timezone.now()
    standard_later = set_fields(make("STD-LATER"), ship_by=now + timedelta(hours=5))
    express = set_fields(make("EXP", shipping_method="express"), ship_by=now + timedelta(hours=9))
    standard_sooner = set_fields(make("STD-SOON"), ship_by=now + timedelta(hours=2))
    same_day = set_fields(make("SAME", shipping_method="same_day"), ship_by=now + timedelta(hours=8))
    standard_tie = set_fields(make("STD-TIE"), ship_by=now + timedelta(hours=5))
    cancelled = make("GONE")
    services.order_cancel(order_id=cancelled.pk, actor="test")
    shipped = ship(make("SHIPPED"))

    client.force_login(world["manager"])
    response = client.get("/orders/")

    assert response.status_code == 200
    assert queue_numbers(response) == [
        same_day.number,
        express.number,
        standard_sooner.number,
        standard_later.number,  # same ship_by as the tie, but it arrived first
        standard_tie.number,
    ]
    assert cancelled.number not in queue_numbers(response) and shipped.number not in queue_numbers(response)


def test_queue_filters_by_status_warehouse_tenant_hold_reason_late_and_search(client, world):
    make, now = world["make"], timezone.now()
    allocated = make("SHOP-1001")
    pending = make("SHOP-1002", payment_status="pending")
    bad_address = make("SHOP-1003", ship_to=ship_to(postal_code="NOT A CODE"))
    globex = make("GX-1", tenant=world["globex"])
    late = set_fields(make("SHOP-LATE"), ship_by=now - timedelta(minutes=5))
    east = make("SHOP-EAST", warehouse="EAST")
    user, _ = staff_with_token(username="both", warehouse=world["main"])
    world["east"].staff.add(user)
    client.force_login(user)

    def numbers(query):
        response = client.get("/orders/?" + query)
        assert response.status_code == 200
        return sorted(queue_numbers(response))

    assert numbers("status=on_hold") == sorted([pending.number, bad_address.number])
    assert numbers("hold=payment_pending") == [pending.number]
    assert numbers("hold=address_invalid") == [bad_address.number]
    assert numbers("warehouse=east") == [east.number]
    assert numbers("tenant=globex") == [globex.number]
    assert numbers("late=1") == [late.number]
    assert numbers("q=shop-100") == sorted([allocated.number, pending.number, bad_address.number])
    assert numbers(f"q={globex.number}") == [globex.number]
    assert numbers("status=allocated&warehouse=MAIN&tenant=acme") == sorted([allocated.number, late.number])


def test_an_unknown_filter_value_is_a_form_error_not_a_crash(client, world):
    world["make"]("O-1")
    client.force_login(world["manager"])
    response = client.get("/orders/?status=shipped&tenant=nobody")
    assert response.status_code == 200
    assert queue_numbers(response) == []
    assert set(response.context["form"].errors) == {"status", "tenant"}
    assert b"Select a valid choice" in response.content


def test_late_orders_are_marked_red_in_the_queue(client, world):
    on_time = world["make"]("ON-TIME")
    late = set_fields(world["make"]("LATE"), ship_by=timezone.now() - timedelta(hours=1))
    client.force_login(world["manager"])
    html = client.get("/orders/").content.decode()
    assert f'<tr data-number="{late.number}" class="late">' in html
    assert f'<tr data-number="{on_time.number}">' in html
    assert html.count('<span class="late-time">late</span>') == 1


def test_csv_export_has_the_filtered_queue_with_formulas_neutralised(client, world):
    risky = world["make"]("=HYPERLINK(1)")
    world["make"]("OTHER", payment_status="pending")
    client.force_login(world["manager"])
    response = client.get("/orders/?status=allocated&export=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:5] == ["number", "external_id", "tenant", "warehouse", "status"]
    assert [(r[0], r[1], r[2], r[3], r[4], r[-1]) for r in rows[1:]] == [
        (risky.number, "'=HYPERLINK(1)", "acme", "MAIN", "allocated", "no")
    ]


def test_queue_pages_hold_100_orders(client, world):
    for i in range(101):
        world["make"](f"O-{i:03d}", payment_status="pending", capture=False)
    client.force_login(world["manager"])
    first = client.get("/orders/")
    assert len(first.context["rows"]) == 100
    assert len(client.get("/orders/?page=2").context["rows"]) == 1


# -- actions -------------------------------------------------------------------------------


def test_associates_see_no_action_buttons_and_posting_an_action_is_403(client, world):
    created = world["make"]("O-1")
    client.force_login(world["associate"])
    queue = client.get("/orders/").content.decode()
    detail = client.get(f"/orders/{created.pk}/").content.decode()
    assert created.number in queue
    for html in (queue, detail):
        assert f"/orders/{created.pk}/hold/" not in html and f"/orders/{created.pk}/cancel/" not in html
    events = OrderEvent.objects.filter(order=created).count()
    for action in ("hold", "release", "cancel"):
        assert client.get(f"/orders/{created.pk}/{action}/").status_code == 403
        assert client.post(f"/orders/{created.pk}/{action}/", {"reason": "because"}).status_code == 403
    created.refresh_from_db()
    assert created.status == Status.ALLOCATED
    assert OrderEvent.objects.filter(order=created).count() == events


def test_managers_see_the_actions_the_state_allows(client, world):
    allocated = world["make"]("O-1")
    pending = world["make"]("O-2", payment_status="pending")
    client.force_login(world["manager"])
    rows = {order.number: actions for order, actions in client.get("/orders/").context["rows"]}
    assert rows == {allocated.number: ["hold", "cancel"], pending.number: ["hold", "cancel"]}
    services.order_hold(order_id=pending.pk, reason="fraud check", actor="test")
    rows = {order.number: actions for order, actions in client.get("/orders/").context["rows"]}
    assert rows[pending.number] == ["release", "cancel"]


def test_the_confirm_step_asks_for_a_reason_before_anything_changes(client, world):
    created = world["make"]("O-1")
    client.force_login(world["manager"])
    response = client.get(f"/orders/{created.pk}/hold/?next=/orders/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html and 'name="reason"' in html and "Put on hold" in html
    created.refresh_from_db()
    assert created.status == Status.ALLOCATED


def test_hold_puts_the_order_on_hold_with_the_reason_on_its_timeline(client, world):
    created = world["make"]("O-1", lines=[("A", 3)])
    client.force_login(world["manager"])
    response = client.post(
        f"/orders/{created.pk}/hold/", {"reason": "Customer asked to wait", "next": "/orders/"}, follow=True
    )
    assert response.redirect_chain == [("/orders/", 302)]
    assert f"Order {created.number} is on hold: Customer asked to wait" in response.content.decode()
    created.refresh_from_db()
    assert (created.status, created.hold_reasons) == (Status.ON_HOLD, ["manual"])
    # Its reservation went back to stock.
    balance = StockBalance.objects.get(
        tenant=world["acme"], location__warehouse=world["main"], location__code="01-01-1"
    )
    assert balance.allocated == 0
    event = OrderEvent.objects.filter(order=created, type="status_changed").last()
    assert (event.from_status, event.to_status, event.message, event.actor) == (
        "allocated",
        "on_hold",
        "Manual hold: Customer asked to wait",
        "main-mgr",
    )
    detail = client.get(f"/orders/{created.pk}/").content.decode()
    assert "Manual hold: Customer asked to wait" in detail
    assert '<span class="tag">manual</span>' in detail


def test_hold_without_a_reason_is_a_form_error_and_changes_nothing(client, world):
    created = world["make"]("O-1")
    client.force_login(world["manager"])
    events = OrderEvent.objects.filter(order=created).count()
    response = client.post(f"/orders/{created.pk}/hold/", {"reason": "   "})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    created.refresh_from_db()
    assert created.status == Status.ALLOCATED
    assert OrderEvent.objects.filter(order=created).count() == events


def test_release_allocates_the_order_again(client, world, django_capture_on_commit_callbacks):
    created = world["make"]("O-1", lines=[("A", 2)])
    services.order_hold(order_id=created.pk, reason="check", actor="test")
    client.force_login(world["manager"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/orders/{created.pk}/release/", {"reason": "checked"})
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{created.pk}/"
    created.refresh_from_db()
    assert (created.status, created.hold_reasons) == (Status.ALLOCATED, [])
    assert created.lines.get().allocated_quantity == 2
    assert OrderEvent.objects.filter(order=created, message="Manual hold released: checked").exists()


def test_release_keeps_a_payment_hold(client, world):
    created = world["make"]("O-1", payment_status="pending")
    services.order_hold(order_id=created.pk, reason="check", actor="test")
    client.force_login(world["manager"])
    response = client.post(f"/orders/{created.pk}/release/", {}, follow=True)
    assert "still on hold: payment_pending" in response.content.decode()
    created.refresh_from_db()
    assert (created.status, created.hold_reasons) == (Status.ON_HOLD, ["payment_pending"])


def test_cancel_cancels_the_order_and_frees_its_stock(client, world):
    created = world["make"]("O-1", lines=[("A", 4)])
    client.force_login(world["manager"])
    response = client.post(f"/orders/{created.pk}/cancel/", {"reason": "Shopper cancelled"}, follow=True)
    assert f"Order {created.number} cancelled." in response.content.decode()
    created.refresh_from_db()
    assert created.status == Status.CANCELLED
    balance = StockBalance.objects.get(
        tenant=world["acme"], location__warehouse=world["main"], location__code="01-01-1"
    )
    assert balance.allocated == 0
    assert OrderEvent.objects.filter(order=created, to_status="cancelled", message="Shopper cancelled").count() == 1


def test_an_action_on_a_shipped_order_shows_the_error_and_changes_nothing(client, world):
    shipped = ship(world["make"]("O-1"))
    client.force_login(world["manager"])
    confirm = client.get(f"/orders/{shipped.pk}/cancel/")
    assert 'name="reason"' not in confirm.content.decode()
    assert "cannot be cancelled" in confirm.content.decode()
    events = OrderEvent.objects.filter(order=shipped).count()
    for action, error in (
        ("cancel", "An order in shipped can no longer be cancelled."),
        ("hold", "An order in shipped can no longer be held."),
        ("release", "The order has no manual hold to release."),
    ):
        response = client.post(f"/orders/{shipped.pk}/{action}/", {"reason": "too late"}, follow=True)
        assert response.status_code == 200
        assert f"Order {shipped.number}: {error}" in response.content.decode()
        assert [m.level_tag for m in response.context["messages"]] == ["error"]
    shipped.refresh_from_db()
    assert shipped.status == Status.SHIPPED
    assert OrderEvent.objects.filter(order=shipped).count() == events


def test_an_outside_next_url_is_ignored(client, world):
    created = world["make"]("O-1")
    client.force_login(world["manager"])
    response = client.post(f"/orders/{created.pk}/hold/", {"reason": "x", "next": "https://evil.example/"})
    assert response["Location"] == f"/orders/{created.pk}/"


# -- one order -----------------------------------------------------------------------------


def test_detail_shows_lines_allocations_address_errors_and_timeline(client, world):
    allocated = world["make"]("O-1", lines=[("A", 3)])
    bad = world["make"]("O-2", ship_to=ship_to(postal_code="NOT A CODE"))
    client.force_login(world["manager"])
    response = client.get(f"/orders/{allocated.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<tr data-sku="A">' in html
    assert "01-01-1 × 3" in html
    assert '<li data-type="created">' in html and "received → allocated" in html
    bad_html = client.get(f"/orders/{bad.pk}/").content.decode()
    assert '<span class="tag">address_invalid</span>' in bad_html
    assert "ship_to.postal_code" in bad_html


# -- exceptions ----------------------------------------------------------------------------


def test_exceptions_count_and_list_each_group(client, world):
    make, now = world["make"], timezone.now()
    pending = make("PENDING", payment_status="pending")
    manual = make("MANUAL")
    services.order_hold(order_id=manual.pk, reason="fraud", actor="test")
    old_backorder = make("OLD-BO", lines=[("A", 500)])
    OrderEvent.objects.filter(order=old_backorder, to_status="backordered").update(created_at=now - timedelta(days=2))
    fresh_backorder = make("NEW-BO", lines=[("A", 500)])
    late = set_fields(make("LATE"), ship_by=now - timedelta(hours=3))
    in_exception = set_fields(ship(make("LOST")), status=Status.EXCEPTION)
    late_but_shipped = set_fields(ship(make("SHIPPED-LATE")), ship_by=now - timedelta(days=1))
    make("FINE")
    # Last: the short holds 01-01-1 (the only place with A) until it is counted.
    shorted = make("SHORT")
    services.order_mark_picking(order_id=shorted.pk, actor="test")
    services.allocation_short(allocation_id=shorted.lines.get().allocations.get().pk, actor="picker")
    make("OTHER-WH", payment_status="pending", warehouse="EAST")
    assert fresh_backorder.status == old_backorder.status == Status.BACKORDERED

    client.force_login(world["associate"])
    response = client.get("/orders/exceptions/")

    assert response.status_code == 200
    groups = {g["key"]: (g["count"], [o.number for o in g["orders"]]) for g in response.context["groups"]}
    assert groups == {
        "on_hold": (2, [pending.number, manual.number]),
        "backordered": (1, [old_backorder.number]),
        "late": (1, [late.number]),
        "short_pick": (1, [shorted.number]),
        "exception": (1, [in_exception.number]),
    }
    assert response.context["holds"] == [
        ("payment_pending", "Payment Pending", 1),
        ("payment_failed", "Payment Failed", 0),
        ("address_invalid", "Address Invalid", 0),
        ("manual", "Manual", 1),
    ]
    html = response.content.decode()
    assert "missing at" in html  # the short pick's timeline message
    assert late_but_shipped.number not in html


# -- queries -------------------------------------------------------------------------------


def test_pages_use_a_fixed_number_of_queries_for_50_orders(client, world, django_assert_max_num_queries):
    make, now = world["make"], timezone.now()
    for i in range(25):
        make(f"A-{i}", lines=[("A", 1)])
        make(f"H-{i}", payment_status="pending", capture=False)
    Order.objects.filter(external_id__startswith="A-1").update(ship_by=now - timedelta(hours=1))
    sample = Order.objects.get(external_id="A-1")
    client.force_login(world["manager"])
    # Session, user and staff profile, then: warehouses, tenants, count, page.
    with django_assert_max_num_queries(7):
        response = client.get("/orders/")
    assert len(response.context["rows"]) == 50
    with django_assert_max_num_queries(6):
        assert client.get("/orders/?export=csv").status_code == 200
    # One query for every count, one per group's list.
    with django_assert_max_num_queries(9):
        assert client.get("/orders/exceptions/").context["groups"][0]["count"] == 25
    # The order, then its lines, allocations, events, splits and shipments.
    with django_assert_max_num_queries(9):
        assert client.get(f"/orders/{sample.pk}/").status_code == 200


# -- in a browser at 360 px ----------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
def test_a_manager_holds_an_order_from_the_queue_on_a_phone(live_server, page, django_capture_on_commit_callbacks):
    main = warehouse("MAIN")
    acme = TenantFactory(slug="acme", name="Acme", default_warehouse_code="MAIN")
    stock(acme, product(acme, "A"), main, "01-01-1", 10)
    staff_with_token(username="mia", warehouse=main)
    with django_capture_on_commit_callbacks(execute=True):
        created = create_order(acme, external_id="SHOP-1", lines=[("A", 2)])
    late = create_order(acme, external_id="SHOP-2", lines=[("A", 1)], payment_status="pending")
    set_fields(late, ship_by=timezone.now() - timedelta(hours=2))

    def fits() -> bool:  # tables scroll inside their wrapper; the page itself does not
        return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    login(page, live_server.url, "mia")
    page.goto(f"{live_server.url}/orders/")
    assert fits()
    assert page.get_attribute(f"tr[data-number='{late.number}']", "class") == "late"
    with page.expect_navigation():
        page.click(f"tr[data-number='{created.number}'] a:has-text('Hold')")
    assert fits()
    page.fill("textarea[name=reason]", "Address check with the shopper")
    with page.expect_navigation():
        page.click("button:has-text('Put on hold')")
    assert page.url == f"{live_server.url}/orders/"
    assert f"Order {created.number} is on hold: Address check with the shopper" in page.text_content(".messages")
    created.refresh_from_db()
    assert (created.status, created.hold_reasons) == (Status.ON_HOLD, ["manual"])

    page.goto(f"{live_server.url}/orders/{created.pk}/")
    assert fits()
    assert "Manual hold: Address check with the shopper" in page.text_content("#timeline")
    page.goto(f"{live_server.url}/orders/exceptions/")
    assert fits()
    assert page.text_content("a[data-group=on_hold] strong") == "2"
    assert page.text_content("a[data-group=late] strong") == "1"
