import re

import pytest
from django.urls import reverse

from fulfillment.tenancy.tests.factories import staff_with_token

pytestmark = pytest.mark.django_db

HOME = "/"
COUNTS = "/dashboard/counts/"


def _count_cells(html: str) -> dict[str, int]:
    """``{status: count}`` as rendered in the counts table."""
    rows = re.findall(r'<tr data-status="(\w+)"[^>]*>.*?<td class="num">(\d+)</td>', html, re.S)
    return {status: int(n) for status, n in rows}


def _order_numbers(html: str) -> list[str]:
    return re.findall(r'<tr data-order="(\w+)">', html)


def test_dashboard_is_the_home_url():
    assert reverse("dashboard:home") == HOME
    assert reverse("dashboard:counts") == COUNTS


def test_anonymous_user_is_redirected_to_login(client, floor):
    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_anonymous_htmx_poll_sends_the_whole_page_to_login(client, floor):
    response = client.get(COUNTS, headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/"
    assert response.content == b""


def test_user_without_staff_profile_gets_403_and_no_orders(client, floor, django_user_model):
    shopper = django_user_model.objects.create_user("shopper", password="pass-word-123")
    client.force_login(shopper)

    response = client.get(HOME)
    counts = client.get(COUNTS)

    assert response.status_code == 403
    assert counts.status_code == 403
    assert floor.by_name["allocated_1"].number not in response.content.decode()


def test_manager_sees_only_orders_of_assigned_warehouses(client, floor):
    user, _ = staff_with_token(username="maria", role="manager", warehouse=floor.main)
    client.force_login(user)

    response = client.get(HOME)

    assert response.status_code == 200
    html = response.content.decode()
    made = floor.by_name
    expected = [
        made[name].number for name in ["cancelled", "on_hold", "backordered", "picking", "allocated_2", "allocated_1"]
    ]
    assert _order_numbers(html) == expected
    assert made["east_received"].number not in html


def test_associate_sees_only_orders_of_assigned_warehouses(client, floor):
    user, _ = staff_with_token(username="sam", role="associate", warehouse=floor.east)
    client.force_login(user)

    response = client.get(HOME)

    assert response.status_code == 200
    html = response.content.decode()
    assert _order_numbers(html) == [floor.by_name["east_received"].number]
    assert _count_cells(html)["received"] == 1
    assert sum(_count_cells(html).values()) == 1


def test_superuser_sees_every_warehouse(client, floor, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pass-word-123")
    client.force_login(admin)

    html = client.get(HOME).content.decode()

    assert len(_order_numbers(html)) == 7
    assert "All warehouses." in html


def test_counts_table_shows_every_status_with_exact_counts(client, floor):
    user, _ = staff_with_token(username="maria", role="manager", warehouse=floor.main)
    client.force_login(user)

    html = client.get(HOME).content.decode()

    assert _count_cells(html) == {
        "received": 0,
        "on_hold": 1,
        "backordered": 1,
        "allocated": 2,
        "picking": 1,
        "picked": 0,
        "packed": 0,
        "shipped": 0,
        "delivered": 0,
        "exception": 0,
        "returned": 0,
        "cancelled": 1,
    }
    assert "(6 in all)" in html


def test_recent_orders_show_tenant_status_hold_reason_shipping_and_dates(client, floor):
    user, _ = staff_with_token(username="maria", role="manager", warehouse=floor.main)
    client.force_login(user)
    held = floor.by_name["on_hold"]

    html = client.get(HOME).content.decode()

    row = re.search(rf'<tr data-order="{held.number}">(.*?)</tr>', html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells == [
        held.number,
        "Acme Goods",
        "On Hold",
        "payment_pending",
        "Standard",
        held.ship_by.strftime("%Y-%m-%d %H:%M"),
        held.created_at.strftime("%Y-%m-%d %H:%M"),
    ]


def test_counts_partial_polls_itself_every_15_seconds(client, floor):
    user, _ = staff_with_token(username="maria", role="manager", warehouse=floor.main)
    client.force_login(user)

    response = client.get(COUNTS, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'hx-get="/dashboard/counts/"' in html
    assert 'hx-trigger="every 15s"' in html
    assert 'hx-swap="outerHTML"' in html
    assert "<html" not in html
    assert _count_cells(html)["allocated"] == 2


def test_page_links_dashboard_handheld_and_posts_logout(client, floor):
    user, _ = staff_with_token(username="maria", role="manager", warehouse=floor.main)
    client.force_login(user)

    html = client.get(HOME).content.decode()

    assert 'href="/handheld/pick/"' in html
    assert re.search(r'<form method="post" action="/logout/"', html)
    assert "maria" in html
    assert "/static/vendor/htmx-1.9.12.min.js" in html
    assert "http://" not in html and "https://" not in html


def test_logout_form_logs_the_user_out(client, floor):
    user, _ = staff_with_token(username="maria", role="manager", warehouse=floor.main)
    client.force_login(user)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert client.get(HOME).status_code == 302


def test_login_page_logs_in_and_lands_on_the_dashboard(client, floor):
    staff_with_token(username="maria", role="manager", warehouse=floor.main)

    page = client.get("/login/")
    response = client.post("/login/", {"username": "maria", "password": "pass-word-123"})

    assert page.status_code == 200
    assert 'name="username"' in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get(HOME).status_code == 200


def test_login_with_a_wrong_password_shows_an_error_and_stays_anonymous(client, floor):
    staff_with_token(username="maria", role="manager", warehouse=floor.main)

    response = client.post("/login/", {"username": "maria", "password": "wrong"})

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert client.get(HOME).status_code == 302


def test_unknown_page_is_an_html_404(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_dashboard_shows_open_stock_alerts_of_the_users_warehouses_only(client):
    from django.contrib.auth import get_user_model

    from fulfillment.tenancy import services as tenancy
    from fulfillment.tenancy.tests.factories import TenantFactory
    from inventory.models import AlertKind, StockAlert
    from inventory.tests import factories as inv

    tenant = TenantFactory(default_warehouse_code="MAIN")  # a tenant of the manager's warehouse
    main, west = inv.warehouse("MAIN"), inv.warehouse("WEST")
    tee, cap = inv.product(tenant, "TEE"), inv.product(tenant, "CAP")
    StockAlert.objects.create(tenant=tenant, product=tee, warehouse=main, kind=AlertKind.LOW_STOCK, message="TEE low")
    StockAlert.objects.create(tenant=tenant, product=cap, warehouse=west, kind=AlertKind.LOW_STOCK, message="CAP low")
    tenancy.staff_create(username="alerts-mgr", password="pw-123456789", role="manager")
    user = get_user_model().objects.get(username="alerts-mgr")
    main.staff.add(user)
    client.force_login(user)
    page = client.get("/").content.decode()
    assert 'data-sku="TEE"' in page
    assert 'data-sku="CAP"' not in page
