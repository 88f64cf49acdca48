"""The merchant portal's returns pages: the list with its chart of reasons by SKU, one return's page
(timeline, receipts, photos, label, exchange, refund), a new return opened from a shipped order; in
Chromium at a desktop and a phone width."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment.tenancy import services as tenancy_services
from fulfillment.tenancy.actor import Actor
from fulfillment.tenancy.models import Tenant
from fulfillment.tenancy.tests.factories import TenantFactory, staff_client
from inventory.models import Warehouse
from inventory.tests import factories as inv
from orders.models import Order
from orders.tests.factories import order as new_order
from returns import selectors_portal, services
from returns.models import Return, ReturnLabel, ReturnLine, ReturnPhoto, ReturnPolicy, ReturnRefund, ReturnStatus
from returns.tests.factories import shipped_order
from returns.views import portal as views
from shipping.models import CarrierAccount
from shipping.tests.factories import ensure_default_carrier
from tests.browser import CHROMIUM, login

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
LIST = "/portal/returns/"
NEW = "/portal/returns/new/"
PDF = b"%PDF-1.4\n% a return label\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def portal(client, shop):
    client.force_login(
        tenancy_services.merchant_user_create(tenant=shop.tenant, username="acme-web", password=PASSWORD)
    )
    return client


@pytest.fixture
def rival(shop):
    """Another merchant in the same building, with a shipped order and a return of it."""
    tenant = TenantFactory(slug="rival", name="Rival Goods")
    cap = inv.product(tenant, "CAP-GRN")
    inv.stock(tenant, cap, shop.wh, "02-01-1", 5, lot="LOT-R")
    shipped = shipped_order(tenant, external_id="RIV-1", lines=[("CAP-GRN", 2)])
    rma = services.return_create(
        tenant_id=tenant.pk, order_id=shipped.pk, lines=[{"sku": "CAP-GRN", "quantity": 1, "reason": "Too small"}]
    )
    return Return.objects.get(pk=rma.pk)


def _return(shop, lines, **kwargs) -> Return:
    rma = services.return_create(
        tenant_id=shop.tenant.pk, order_id=shop.order.pk, lines=lines, actor="test", source="portal", **kwargs
    )
    return Return.objects.get(pk=rma.pk)


def _refund(rma, *, due="25.00", status="pending", amount=None, breakdown=None) -> ReturnRefund:
    """The refund row as the refunds service leaves it (a receipt may have written it already)."""
    return ReturnRefund.objects.update_or_create(
        rma=rma,
        defaults={
            "tenant_id": rma.tenant_id,
            "status": status,
            "amount_due": Decimal(due),
            "amount": Decimal(amount) if amount else None,
            "currency": "CAD",
            "breakdown": breakdown or {},
            "computed_at": NOW,
        },
    )[0]


def _label(rma, *, status="issued", label=PDF) -> ReturnLabel:
    account = CarrierAccount.objects.get_or_create(
        carrier_id="canadapost-returns", defaults={"carrier_name": "canadapost", "display_name": "Canada Post"}
    )[0]
    return ReturnLabel.objects.create(
        tenant_id=rma.tenant_id,
        rma=rma,
        account=account,
        service_code="canadapost_expedited_parcel",
        service_name="Expedited Parcel",
        tracking_number="7023210039414604",
        label=label,
        status=status,
    )


# -- the list --------------------------------------------------------------------------------


def test_the_list_shows_each_return_with_units_reasons_and_refund(portal, shop, clock):
    refunded = _return(shop, [{"sku": "TEE-RED-M", "quantity": 2, "reason": "Too small"}])
    _refund(refunded, due="40.00", status="refunded", amount="35.00")
    open_ = _return(shop, [{"sku": "MUG-BLUE", "quantity": 1, "reason": "Arrived damaged"}])

    html = portal.get(LIST).content.decode()

    assert f'data-return="{refunded.number}"' in html and f'data-return="{open_.number}"' in html
    assert shop.order.number in html
    assert "Refunded 35.00 CAD" in html
    assert '<span class="tag">Too small</span>' in html and '<span class="tag">Arrived damaged</span>' in html
    assert 'data-status="requested"><strong>2</strong>' in html


def test_the_list_filters_by_status_and_finds_an_rma_or_an_order_number(portal, shop, clock):
    first = _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}])
    second = _return(shop, [{"sku": "MUG-BLUE", "quantity": 1, "reason": "Defective"}])
    Return.objects.filter(pk=second.pk).update(status=ReturnStatus.RECEIVED)

    received = portal.get(LIST, {"status": "received"}).content.decode()
    by_rma = portal.get(LIST, {"q": first.number.lower()}).content.decode()
    by_order = portal.get(LIST, {"q": shop.order.number}).content.decode()
    nothing = portal.get(LIST, {"q": "NO-SUCH"}).content.decode()

    assert second.number in received and f'data-return="{first.number}"' not in received
    assert f'data-return="{first.number}"' in by_rma and f'data-return="{second.number}"' not in by_rma
    assert f'data-return="{first.number}"' in by_order and f'data-return="{second.number}"' in by_order
    assert "No returns match these filters." in nothing


def test_the_list_is_paged(portal, shop, clock, monkeypatch):
    big = shipped_order(shop.tenant, external_id="SHOP-BIG", lines=[("TEE-RED-M", 6)])
    for _ in range(3):
        services.return_create(
            tenant_id=shop.tenant.pk,
            order_id=big.pk,
            lines=[{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}],
        )

    monkeypatch.setattr(views, "PAGE_SIZE", 2)

    first = portal.get(LIST).content.decode()
    second = portal.get(LIST, {"page": 2}).content.decode()

    assert first.count("data-return=") == 2 and "Page 1 of 2" in first
    assert second.count("data-return=") == 1 and "Page 2 of 2" in second


def test_the_list_leaves_out_other_merchants_returns(portal, shop, rival, clock):
    mine = _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}])

    html = portal.get(LIST).content.decode()

    assert mine.number in html
    assert rival.number not in html and "CAP-GRN" not in html


def test_reasons_by_sku_are_units_per_sku_and_reason_of_the_last_90_days_in_one_query(shop, rival, clock):
    _return(shop, [{"sku": "TEE-RED-M", "quantity": 2, "reason": "Too small"}])
    _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Defective"}])
    _return(shop, [{"sku": "MUG-BLUE", "quantity": 1, "reason": "Arrived damaged"}])
    old = _return(shop, [{"sku": "MUG-BLUE", "quantity": 1, "reason": "Changed my mind"}])
    Return.objects.filter(pk=old.pk).update(created_at=NOW - timedelta(days=91))
    actor = _merchant_actor(shop.tenant)

    with CaptureQueriesContext(connection) as queries:
        found = selectors_portal.return_reasons_by_sku(actor=actor)

    assert len(queries) == 1 and "GROUP BY" in queries[0]["sql"]
    assert [(row.sku, row.units, row.reasons) for row in found] == [
        ("TEE-RED-M", 3, [("Too small", 2), ("Defective", 1)]),
        ("MUG-BLUE", 1, [("Arrived damaged", 1)]),
    ]


def test_reasons_by_sku_keep_the_top_skus_by_units(shop, clock):
    _return(shop, [{"sku": "TEE-RED-M", "quantity": 3, "reason": "Too small"}])
    _return(shop, [{"sku": "MUG-BLUE", "quantity": 1, "reason": "Defective"}])

    found = selectors_portal.return_reasons_by_sku(actor=_merchant_actor(shop.tenant), top=1)

    assert [row.sku for row in found] == ["TEE-RED-M"]


def test_the_chart_draws_a_stacked_bar_per_sku_on_one_scale(portal, shop, clock):
    _return(shop, [{"sku": "TEE-RED-M", "quantity": 2, "reason": "Too small"}])
    _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Defective"}])
    _return(shop, [{"sku": "MUG-BLUE", "quantity": 1, "reason": "Defective"}])

    html = portal.get(LIST).content.decode()

    assert 'id="reasons-chart"' in html
    assert '<g data-sku="TEE-RED-M" data-units="3">' in html and '<g data-sku="MUG-BLUE" data-units="1">' in html
    # The longest bar fills the scale: 2 of 3 units are 220 of 330 px, 1 of 3 is 110. A reason has
    # one colour on every bar; the reasons with the most units (then by name) come first.
    assert 'x="0.0" y="20" width="220.0" height="16" fill="#d98a00" data-reason="Too small" data-units="2"' in html
    assert 'x="220.0" y="20" width="110.0" height="16" fill="#1f5fbf" data-reason="Defective" data-units="1"' in html
    assert 'x="0.0" y="58" width="110.0" height="16" fill="#1f5fbf" data-reason="Defective"' in html
    assert html.index("Defective (2)") < html.index("Too small (2)")


def test_the_status_counts_come_from_one_grouped_query(shop, rival, clock):
    _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}])
    second = _return(shop, [{"sku": "MUG-BLUE", "quantity": 1, "reason": "Defective"}])
    Return.objects.filter(pk=second.pk).update(status=ReturnStatus.INSPECTED)

    with CaptureQueriesContext(connection) as queries:
        counts = selectors_portal.return_status_counts(actor=_merchant_actor(shop.tenant))

    assert len(queries) == 1
    assert counts == {**dict.fromkeys(ReturnStatus.values, 0), "requested": 1, "inspected": 1}


def _merchant_actor(tenant):
    return Actor(kind="merchant", tenant_id=tenant.pk, label="acme-web")


def test_staff_may_not_open_the_merchants_returns(shop):
    staff = staff_client("mia", "manager", shop.wh)

    assert staff.get(LIST).status_code in {302, 403}


# -- one return ------------------------------------------------------------------------------


def test_the_page_shows_lines_receipts_photos_label_exchange_and_refund(portal, shop, clock):
    rma = _return(
        shop,
        [
            {"sku": "TEE-RED-M", "quantity": 2, "reason": "Too small"},
            {"sku": "MUG-BLUE", "quantity": 1, "reason": "Arrived damaged"},
        ],
    )
    services.return_receive(
        return_id=rma.pk,
        lines=[
            {"sku": "TEE-RED-M", "quantity": 1, "condition": "opened", "disposition": "quarantine", "note": "tag cut"}
        ],
        actor="ana",
    )
    line = rma.lines.get(sku="MUG-BLUE")
    photo = ReturnPhoto.objects.create(
        tenant_id=rma.tenant_id, rma=rma, line=line, content_type="image/png", content=PNG, size=len(PNG)
    )
    _label(rma, status="in_transit")
    _refund(rma, due="21.50", breakdown={"restocking_fee": "2.50", "lines": [{"sku": "TEE-RED-M", "amount": "19.00"}]})

    answer = portal.get(f"/portal/returns/{rma.pk}/")

    html = answer.content.decode()
    assert answer.status_code == 200
    assert 'data-step="requested" data-state="done"' in html and 'data-step="received" data-state="current"' in html
    assert 'data-sku="TEE-RED-M" data-grade="opened"' in html and "tag cut" in html and "<td>Quarantine</td>" in html
    assert f'src="/portal/returns/{rma.pk}/photos/{photo.pk}/"' in html
    assert "7023210039414604" in html and 'id="label-status">In Transit' in html
    assert f'href="/portal/returns/{rma.pk}/label.pdf"' in html
    assert 'id="amount-due">21.50 CAD' in html and "Restocking fee" in html and "19.00" in html
    assert "Return " + rma.number + " requested" in html  # the order timeline's entry about it


def test_a_return_without_label_or_refund_says_so_and_skips_the_label_steps(portal, shop, clock):
    rma = _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}])
    Return.objects.filter(pk=rma.pk).update(status=ReturnStatus.RECEIVED, received_at=NOW)

    html = portal.get(f"/portal/returns/{rma.pk}/").content.decode()

    assert 'data-step="label_issued" data-state="skipped"' in html
    assert "No prepaid return label" in html and "No refund yet" in html
    assert 'id="refund-form"' not in html


def test_an_exchange_links_its_new_order(portal, shop, clock):
    rma = _return(
        shop,
        [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}],
        resolution="exchange",
        exchange_lines=[{"sku": "MUG-BLUE", "quantity": 1}],
    )
    exchange = new_order(shop.tenant, external_id="EXCH-1", lines=[("MUG-BLUE", 1)])
    Return.objects.filter(pk=rma.pk).update(exchange_order=exchange)

    html = portal.get(f"/portal/returns/{rma.pk}/").content.decode()

    assert f'id="exchange-order" href="/portal/orders/{exchange.pk}/"' in html and exchange.number in html


def test_the_photo_is_served_with_its_content_type(portal, shop, clock):
    rma = _return(shop, [{"sku": "MUG-BLUE", "quantity": 1, "reason": "Arrived damaged"}])
    line = rma.lines.get()
    photo = ReturnPhoto.objects.create(
        tenant_id=rma.tenant_id, rma=rma, line=line, content_type="image/png", content=PNG, size=len(PNG)
    )
    odd = ReturnPhoto.objects.create(
        tenant_id=rma.tenant_id, rma=rma, line=line, content_type="text/html", content=b"<script>", size=8
    )

    answer = portal.get(f"/portal/returns/{rma.pk}/photos/{photo.pk}/")
    other = portal.get(f"/portal/returns/{rma.pk}/photos/{odd.pk}/")

    assert (answer.status_code, answer["Content-Type"], answer.content) == (200, "image/png", PNG)
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert other["Content-Type"] == "application/octet-stream" and other["Content-Disposition"].startswith("attachment")


def test_the_label_is_served_as_a_pdf(portal, shop, clock):
    rma = _return(shop, [{"sku": "MUG-BLUE", "quantity": 1, "reason": "Arrived damaged"}])
    without = portal.get(f"/portal/returns/{rma.pk}/label.pdf")
    _label(rma)

    answer = portal.get(f"/portal/returns/{rma.pk}/label.pdf")

    assert without.status_code == 404
    assert (answer.status_code, answer["Content-Type"], answer.content) == (200, "application/pdf", PDF)
    assert f'filename="{rma.number}-label.pdf"' in answer["Content-Disposition"]


def test_another_merchants_return_its_photo_label_and_refund_are_404(portal, rival):
    line = rival.lines.get()
    photo = ReturnPhoto.objects.create(
        tenant_id=rival.tenant_id, rma=rival, line=line, content_type="image/png", content=PNG, size=len(PNG)
    )
    _label(rival)
    _refund(rival)

    answers = [
        portal.get(f"/portal/returns/{rival.pk}/"),
        portal.get(f"/portal/returns/{rival.pk}/photos/{photo.pk}/"),
        portal.get(f"/portal/returns/{rival.pk}/label.pdf"),
        portal.post(f"/portal/returns/{rival.pk}/refund/", {"amount": "1.00"}),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    assert ReturnRefund.objects.get(rma=rival).status == "pending"


def test_a_photo_of_another_return_is_404_under_this_one(portal, shop, clock):
    first = _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}])
    second = _return(shop, [{"sku": "MUG-BLUE", "quantity": 1, "reason": "Arrived damaged"}])
    photo = ReturnPhoto.objects.create(
        tenant_id=second.tenant_id, rma=second, line=second.lines.get(), content_type="image/png", content=PNG, size=1
    )

    assert portal.get(f"/portal/returns/{first.pk}/photos/{photo.pk}/").status_code == 404


# -- the refund's form -------------------------


def test_the_merchant_confirms_a_lower_refund_in_the_portal(portal, shop, clock):
    rma = _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}])
    Return.objects.filter(pk=rma.pk).update(status=ReturnStatus.INSPECTED, received_at=NOW, inspected_at=NOW)
    _refund(rma, due="20.00")

    shown = portal.get(f"/portal/returns/{rma.pk}/").content.decode()
    answer = portal.post(f"/portal/returns/{rma.pk}/refund/", {"amount": "15.00", "note": "goodwill"})

    assert 'id="refund-form"' in shown
    assert answer.status_code == 302 and answer["Location"] == f"/portal/returns/{rma.pk}/"
    refund = ReturnRefund.objects.get(rma=rma)
    assert (refund.status, refund.amount) == ("refunded", Decimal("15.00"))


def test_a_refund_above_the_amount_due_is_refused_on_the_field_and_nothing_is_paid(portal, shop, clock):
    rma = _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}])
    Return.objects.filter(pk=rma.pk).update(status=ReturnStatus.INSPECTED, received_at=NOW, inspected_at=NOW)
    _refund(rma, due="20.00")

    answer = portal.post(f"/portal/returns/{rma.pk}/refund/", {"amount": "25.00"})

    assert answer.status_code == 422 and 'id="amount-error"' in answer.content.decode()
    refund = ReturnRefund.objects.get(rma=rma)
    assert (refund.status, refund.amount) == ("pending", None)


def test_a_second_confirmation_is_refused_with_its_reason_and_pays_nothing_more(portal, shop, clock):
    rma = _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}])
    Return.objects.filter(pk=rma.pk).update(status=ReturnStatus.INSPECTED, received_at=NOW, inspected_at=NOW)
    _refund(rma, due="20.00")
    portal.post(f"/portal/returns/{rma.pk}/refund/", {"amount": "15.00"})

    again = portal.post(f"/portal/returns/{rma.pk}/refund/", {"amount": "5.00"})

    html = again.content.decode()
    assert again.status_code == 409 and 'id="refund-errors"' in html and "already refunded" in html
    assert 'id="refund-form"' not in html
    assert ReturnRefund.objects.get(rma=rma).amount == Decimal("15.00")


def test_a_refund_not_inspected_yet_has_no_form(portal, shop, clock):
    rma = _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}])
    _refund(rma, due="20.00")

    html = portal.get(f"/portal/returns/{rma.pk}/").content.decode()

    assert 'id="refund-form"' not in html and 'id="refund-later"' in html


# -- a new return ----------------------------------------------------------------------------


def _form(rma_lines: dict, *, resolution="refund", exchange=()) -> dict:
    order_lines = {line.sku: line.pk for line in Order.objects.get(external_id="SHOP-1").lines.all()}
    data = {"resolution": resolution}
    for sku, (quantity, reason) in rma_lines.items():
        data[f"qty_{order_lines[sku]}"] = str(quantity)
        data[f"reason_{order_lines[sku]}"] = reason
    for n, (sku, quantity) in enumerate(exchange):
        data[f"exchange_sku_{n}"], data[f"exchange_qty_{n}"] = sku, str(quantity)
    return data


def test_the_order_page_of_a_shipped_order_offers_to_start_a_return(portal, shop):
    unshipped = new_order(shop.tenant, external_id="SHOP-2", lines=[("MUG-BLUE", 1)])

    shipped_html = portal.get(f"/portal/orders/{shop.order.pk}/").content.decode()
    unshipped_html = portal.get(f"/portal/orders/{unshipped.pk}/").content.decode()

    assert f'id="start-return" href="/portal/returns/new/?order={shop.order.pk}"' in shipped_html
    assert 'id="start-return"' not in unshipped_html


def test_the_order_is_found_by_its_number(portal, shop):
    new_order(shop.tenant, external_id="SHOP-2", lines=[("MUG-BLUE", 1)])  # not shipped: not offered

    html = portal.get(NEW, {"q": "SHOP"}).content.decode()

    assert f'href="?order={shop.order.pk}"' in html and html.count("?order=") == 1


def test_the_form_lists_the_returnable_units_and_the_policys_reasons(portal, shop, clock):
    _return(shop, [{"sku": "TEE-RED-M", "quantity": 2, "reason": "Too small"}])

    html = portal.get(NEW, {"order": shop.order.pk}).content.decode()

    assert '<tr data-sku="TEE-RED-M">' in html and '<td class="num">1 <span class="muted small">of 3</span>' in html
    assert '<td class="num">2</td>' in html  # MUG-BLUE: 2 shipped, none asked for
    assert "Changed my mind" in html and 'value="store_credit"' in html


def test_a_new_return_is_opened_from_the_portal_and_shown(portal, shop, clock):
    answer = portal.post(f"{NEW}?order={shop.order.pk}", _form({"TEE-RED-M": (2, "Too small")}))

    rma = Return.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/portal/returns/{rma.pk}/"
    assert (rma.source, rma.resolution) == ("portal", "refund")
    assert list(rma.lines.values_list("sku", "quantity", "reason")) == [("TEE-RED-M", 2, "Too small")]


def test_an_exchange_is_opened_with_the_units_wanted(portal, shop, clock):
    answer = portal.post(
        f"{NEW}?order={shop.order.pk}",
        _form({"TEE-RED-M": (1, "Too large")}, resolution="exchange", exchange=[("MUG-BLUE", 1)]),
    )

    rma = Return.objects.get()
    assert answer.status_code == 302
    assert (rma.resolution, rma.exchange_lines) == ("exchange", [{"sku": "MUG-BLUE", "quantity": 1}])


def test_refused_lines_are_shown_on_their_fields_and_nothing_is_created(portal, shop, clock):
    data = _form({"TEE-RED-M": (4, "Too small"), "MUG-BLUE": (1, "")})
    tee, mug = (line.pk for line in shop.order.lines.order_by("sku").reverse())

    answer = portal.post(f"{NEW}?order={shop.order.pk}", data)

    html = answer.content.decode()
    assert answer.status_code == 422
    assert f'id="qty_{tee}-error">At most 3 x TEE-RED-M can be returned' in html
    assert f'id="reason_{mug}-error">A reason is required.' in html
    assert "Nothing was created" in html
    assert Return.objects.count() == 0 and ReturnLine.objects.count() == 0


def test_an_unknown_exchange_sku_is_shown_on_its_row_and_nothing_is_created(portal, shop, clock):
    data = _form({"TEE-RED-M": (1, "Too small")}, resolution="exchange", exchange=[("NOPE-1", 1)])

    answer = portal.post(f"{NEW}?order={shop.order.pk}", data)

    assert answer.status_code == 422
    assert 'id="exchange_sku_0-error">NOPE-1 is not one of the shop&#x27;s products.' in answer.content.decode()
    assert Return.objects.count() == 0


def test_nothing_chosen_is_refused_and_nothing_is_created(portal, shop, clock):
    answer = portal.post(f"{NEW}?order={shop.order.pk}", {"resolution": "refund"})

    assert answer.status_code == 422 and "At least one line is required." in answer.content.decode()
    assert Return.objects.count() == 0


def test_a_resolution_the_policy_does_not_offer_is_refused(portal, shop, clock):
    ReturnPolicy.objects.create(tenant=shop.tenant, resolutions=["refund"], reasons=["Too small"])

    answer = portal.post(f"{NEW}?order={shop.order.pk}", _form({"TEE-RED-M": (1, "Too small")}, resolution="exchange"))

    assert answer.status_code == 422 and 'id="resolution-error"' in answer.content.decode()
    assert Return.objects.count() == 0


def test_an_order_not_shipped_yet_cannot_be_returned(portal, shop):
    unshipped = new_order(shop.tenant, external_id="SHOP-2", lines=[("MUG-BLUE", 1)])

    answer = portal.get(NEW, {"order": unshipped.pk})

    assert answer.status_code == 409 and "only shipped or delivered orders can be returned" in answer.content.decode()


def test_another_merchants_order_is_404_and_nothing_is_created(portal, rival):
    answers = [
        portal.get(NEW, {"order": rival.order_id}),
        portal.post(f"{NEW}?order={rival.order_id}", {"resolution": "refund"}),
        portal.get(NEW, {"order": "not-a-uuid"}),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert Return.objects.count() == 1


# -- in Chromium -----------------------------------------------------------------------------

FITS = "() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})"


# What sticks out, to tell where a page is clipped.
WIDEST = """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth)
  .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 15)"""


def _fits(page, width):
    found = page.evaluate(FITS)
    wider = page.evaluate(WIDEST) if found["scrollWidth"] > width else []
    assert found["scrollWidth"] <= found["innerWidth"] == width, (page.url, wider)


@pytest.mark.parametrize("width", [1366, 360])
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
def test_a_merchant_opens_a_return_and_reads_it_on_a_desktop_and_a_phone(page, live_server, width):
    tenant = TenantFactory(slug="acme", name="Acme Apparel")
    wh = inv.warehouse()
    for sku, loc in (("TEE-RED-M-LONG-NAME", "01-01-1"), ("MUG-BLUE", "01-02-1")):
        inv.stock(tenant, inv.product(tenant, sku), wh, loc, 10, lot=f"LOT-{sku}")
    shipped = shipped_order(tenant, external_id="SHOP-1", lines=[("TEE-RED-M-LONG-NAME", 3), ("MUG-BLUE", 2)])
    earlier = services.return_create(
        tenant_id=tenant.pk,
        order_id=shipped.pk,
        lines=[{"sku": "MUG-BLUE", "quantity": 1, "reason": "Arrived damaged"}],
    )
    rival = TenantFactory(slug="rival", name="Rival")
    inv.stock(rival, inv.product(rival, "CAP-GRN"), wh, "02-01-1", 5, lot="LOT-R")
    rival_order = shipped_order(rival, external_id="RIV-1", lines=[("CAP-GRN", 1)])
    theirs = services.return_create(
        tenant_id=rival.pk, order_id=rival_order.pk, lines=[{"sku": "CAP-GRN", "quantity": 1, "reason": "Too small"}]
    )
    tenancy_services.merchant_user_create(tenant=tenant, username="acme-web", password=PASSWORD)
    page.set_viewport_size({"width": width, "height": 800})
    login(page, live_server.url, "acme-web", PASSWORD)

    # The list, its chart and the nav entry.
    page.goto(f"{live_server.url}{LIST}")
    assert (
        page.locator(f'nav a[href="{LIST}"][aria-current="page"], a[href="{LIST}"][aria-current="page"]').count() == 1
    )
    assert page.locator("#reasons-chart g[data-sku='MUG-BLUE']").count() == 1
    assert page.locator(f"tr[data-return='{earlier.number}']").is_visible()
    _fits(page, width)

    # From the order's page: start a return, forget the reason, then give it.
    page.goto(f"{live_server.url}/portal/orders/{shipped.pk}/")
    with page.expect_navigation():
        page.click("#start-return")
    line = shipped.lines.get(sku="TEE-RED-M-LONG-NAME")
    page.fill(f"#id_qty_{line.pk}", "2")
    page.check("input[name=resolution][value=refund]")
    with page.expect_navigation():
        page.click("text=Open the return")
    assert page.locator(f"#reason_{line.pk}-error").inner_text() == "A reason is required."
    assert Return.objects.filter(tenant=tenant).count() == 1
    _fits(page, width)
    page.select_option(f"#id_reason_{line.pk}", "Too small")
    with page.expect_navigation():
        page.click("text=Open the return")
    assert page.locator("text=opened.").first.is_visible()
    rma = Return.objects.exclude(pk=earlier.pk).get(tenant=tenant)
    assert page.locator("#steps li[data-step='requested'][data-state='current']").is_visible()
    assert page.locator("tr[data-sku='TEE-RED-M-LONG-NAME']").first.is_visible()
    _fits(page, width)

    # A return further on: received and graded, with a photo, its label and the refund due.
    services.return_receive(
        return_id=earlier.pk,
        lines=[{"sku": "MUG-BLUE", "quantity": 1, "condition": "damaged", "disposition": "dispose", "note": "cracked"}],
        actor="ana",
    )
    held = Return.objects.get(pk=earlier.pk)
    ReturnPhoto.objects.create(
        tenant_id=tenant.pk, rma=held, line=held.lines.get(), content_type="image/png", content=PNG, size=len(PNG)
    )
    _label(held, status="delivered")
    _refund(
        held,
        due="12.00",
        breakdown={
            "return_shipping_fee": "5.00",
            "lines": [{"sku": "MUG-BLUE", "grade": "damaged", "amount": "17.00"}],
        },
    )
    page.goto(f"{live_server.url}/portal/returns/{held.pk}/")
    assert page.locator("#receipts tr[data-grade='damaged']").is_visible()
    assert page.locator("#photos img").count() == 1 and page.locator("#label-download").is_visible()
    assert page.locator("#amount-due").inner_text() == "12.00 CAD"
    _fits(page, width)
    if os.environ.get("PORTAL_SHOTS"):
        page.screenshot(path=f"/tmp/portal-detail-{width}.png", full_page=True)
        page.goto(f"{live_server.url}{LIST}")
        page.screenshot(path=f"/tmp/portal-list-{width}.png", full_page=True)
        page.goto(f"{live_server.url}{NEW}?order={shipped.pk}")
        page.screenshot(path=f"/tmp/portal-new-{width}.png", full_page=True)

    # Another merchant's return is not there.
    answer = page.goto(f"{live_server.url}/portal/returns/{theirs.pk}/")
    assert answer.status == 404
    assert rma.source == "portal"


@pytest.mark.parametrize("width", [1366, 360])
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
def test_a_merchant_confirms_a_lowered_refund_on_a_desktop_and_a_phone(page, live_server, width):
    tenant = TenantFactory(slug="acme", name="Acme Apparel")
    wh = inv.warehouse()
    inv.stock(tenant, inv.product(tenant, "MUG-BLUE"), wh, "01-02-1", 10, lot="LOT-M")
    shipped = shipped_order(tenant, external_id="SHOP-1", lines=[("MUG-BLUE", 2, Decimal("12.50"))])
    rma = services.return_create(
        tenant_id=tenant.pk, order_id=shipped.pk, lines=[{"sku": "MUG-BLUE", "quantity": 2, "reason": "Defective"}]
    )
    services.return_receive(
        return_id=rma.pk,
        lines=[{"sku": "MUG-BLUE", "quantity": 2, "condition": "defective", "disposition": "dispose"}],
        actor="ana",
    )
    tenancy_services.merchant_user_create(tenant=tenant, username="acme-web", password=PASSWORD)
    page.set_viewport_size({"width": width, "height": 800})
    login(page, live_server.url, "acme-web", PASSWORD)

    page.goto(f"{live_server.url}/portal/returns/{rma.pk}/")
    assert page.locator("#amount-due").inner_text() == "25.00 CAD"
    _fits(page, width)
    page.fill("#id_amount", "20.00")
    page.fill("#id_note", "one mug kept by the shopper")
    with page.expect_navigation():
        page.click("text=Confirm refund")

    assert page.locator(f"text=Refund of {rma.number} confirmed.").is_visible()
    assert page.locator("#refund-amount").inner_text().startswith("20.00 CAD")
    assert page.locator("#refund-form").count() == 0
    _fits(page, width)
    refund = ReturnRefund.objects.get(rma_id=rma.pk)
    assert (refund.status, refund.amount) == ("refunded", Decimal("20.00"))


# -- closing ------------------------------------------------------------------------------------


def test_the_merchant_closes_a_return_that_will_never_come_in_the_portal(portal, shop, clock):
    rma = _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}])

    shown = portal.get(f"/portal/returns/{rma.pk}/").content.decode()
    answer = portal.post(f"/portal/returns/{rma.pk}/close/", {"note": "the shopper kept it"})

    assert 'id="close-form"' in shown
    assert answer.status_code == 302 and answer["Location"] == f"/portal/returns/{rma.pk}/"
    rma.refresh_from_db()
    assert (rma.status, rma.closed_at) == (ReturnStatus.CLOSED, NOW)
    assert 'id="close-form"' not in portal.get(f"/portal/returns/{rma.pk}/").content.decode()


def test_a_return_closed_before_its_parcel_came_shows_the_steps_it_never_reached_as_skipped(portal, shop, clock):
    rma = _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}])
    portal.post(f"/portal/returns/{rma.pk}/close/", {"note": "the shopper kept it"})

    html = portal.get(f"/portal/returns/{rma.pk}/").content.decode()

    assert 'data-step="requested" data-state="done"' in html
    for status in ("received", "inspected"):
        assert f'data-step="{status}" data-state="skipped"' in html
    assert 'data-step="closed" data-state="current"' in html
    assert 'data-step="refunded"' not in html  # closing and refunding are two endings, not one path


def test_closing_a_refunded_return_is_refused_and_changes_nothing(portal, shop, clock):
    rma = _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}])
    Return.objects.filter(pk=rma.pk).update(status=ReturnStatus.REFUNDED)

    answer = portal.post(f"/portal/returns/{rma.pk}/close/", {"note": ""})

    assert answer.status_code == 409
    assert "already refunded" in answer.content.decode()
    rma.refresh_from_db()
    assert (rma.status, rma.closed_at) == (ReturnStatus.REFUNDED, None)


def test_another_merchants_return_cannot_be_closed(portal, rival, clock):
    assert portal.post(f"/portal/returns/{rival.pk}/close/", {}).status_code == 404
    assert Return.objects.get(pk=rival.pk).status == ReturnStatus.REQUESTED


# -- the prepaid label of a return the merchant opens -----------------------------------------------


@pytest.fixture
def buys_labels(shop):
    """acme's policy buys labels on the rate sheet, to its addressed warehouse; shopper e-mails on."""
    ensure_default_carrier()
    Warehouse.objects.filter(pk=shop.wh.pk).update(
        company_name="Acme Fulfilment", address_line1="100 Logistics Dr", city="Mississauga", region="ON",
        postal_code="L5T 2Z5", phone="9055550100",
    )  # fmt: skip
    services.return_policy_update(
        tenant_id=shop.tenant.pk, changes=services.PolicyInput(label_account="demo-post", label_service="standard")
    )
    Tenant.objects.filter(pk=shop.tenant.pk).update(shopper_emails=True)
    return shop


def test_a_return_opened_in_the_portal_gets_its_label_and_the_shopper_the_email(
    portal, buys_labels, clock, django_capture_on_commit_callbacks
):
    form = portal.get(NEW, {"order": buys_labels.order.pk}).content.decode()
    data = {**_form({"TEE-RED-M": (1, "Too small")}), "label": "on", "notify_shopper": "on"}

    with django_capture_on_commit_callbacks(execute=True):
        answer = portal.post(f"{NEW}?order={buys_labels.order.pk}", data, follow=True)

    assert 'name="label"' in form and "Demo Post" in form
    rma = Return.objects.get()
    label = ReturnLabel.objects.get(rma=rma)
    assert rma.status == ReturnStatus.LABEL_ISSUED
    assert f"Return label bought: {label.tracking_number}" in answer.content.decode()
    [email] = mail.outbox
    assert rma.number in email.subject and email.attachments[0][2] == "application/pdf"


def test_unticked_the_return_opens_without_label_or_email_and_its_page_buys_the_label(
    portal, buys_labels, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        portal.post(f"{NEW}?order={buys_labels.order.pk}", _form({"TEE-RED-M": (1, "Too small")}))
    rma = Return.objects.get()
    page = portal.get(f"/portal/returns/{rma.pk}/").content.decode()

    bought = portal.post(f"/portal/returns/{rma.pk}/label/", follow=True)

    assert rma.status == ReturnStatus.REQUESTED and mail.outbox == []
    assert 'id="label-buy-form"' in page
    label = ReturnLabel.objects.get(rma=rma)
    html = bought.content.decode()
    assert f"Return label bought: {label.tracking_number}" in html and 'id="label-buy-form"' not in html
    assert Return.objects.get().status == ReturnStatus.LABEL_ISSUED


def test_asking_a_label_without_a_label_account_says_why_and_buys_nothing(portal, shop, clock):
    rma = _return(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}])
    page = portal.get(f"/portal/returns/{rma.pk}/").content.decode()

    answer = portal.post(f"/portal/returns/{rma.pk}/label/", follow=True)

    assert 'id="label-buy-form"' not in page and "No prepaid return label" in page
    assert "names no active carrier account" in answer.content.decode()
    assert not ReturnLabel.objects.exists() and Return.objects.get().status == ReturnStatus.REQUESTED


def test_another_merchants_return_gets_no_label(portal, rival, buys_labels, clock):
    assert portal.post(f"/portal/returns/{rival.pk}/label/").status_code == 404
    assert not ReturnLabel.objects.exists()
