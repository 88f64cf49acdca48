"""The shopper's public returns portal /returns/<tenant_slug>/: the order found by number and e-mail
or postal code (one message for every miss, rate-limited), lines, reasons, photos and resolution,
the RMA with its prepaid label by page and e-mail; refusals shown with nothing created; in Chromium
at 360 and 1366 px, a delivered order returned end to end."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from PIL import Image

from fulfillment.tenancy.models import Tenant
from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.models import Warehouse
from inventory.tests import factories as inv
from orders.models import OrderEvent
from returns import services
from returns.models import Return, ReturnLabel, ReturnPhoto, ReturnStatus
from returns.tests.factories import shipped_order
from shipping import services as shipping_services
from shipping.tests.factories import ensure_default_carrier, shipped, stocked_tenant
from tests.browser import CHROMIUM

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
PORTAL = "/returns/acme/"
ORDER = "/returns/acme/order/"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


def _address(warehouse) -> None:
    Warehouse.objects.filter(pk=warehouse.pk).update(
        company_name="Acme Fulfilment",
        contact_name="Returns desk",
        address_line1="100 Logistics Dr",
        city="Mississauga",
        region="ON",
        postal_code="L5T 2Z5",
        phone="9055550100",
    )


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def labels(shop):
    """acme's policy buys labels on the rate sheet; its shopper e-mails are on."""
    ensure_default_carrier()
    _address(shop.wh)
    services.return_policy_update(
        tenant_id=shop.tenant.pk, changes=services.PolicyInput(label_account="demo-post", label_service="standard")
    )
    Tenant.objects.filter(pk=shop.tenant.pk).update(shopper_emails=True, name="Acme Apparel")
    return shop


def _find(client, number="SHOP-1", contact="ada@example.com"):
    return client.post(PORTAL, {"number": number, "contact": contact})


def _lines(**fields):
    # shop's order: line 0 TEE-RED-M x3, line 1 MUG-BLUE x2
    return {"quantity-0": "1", "reason-0": "Too small", "quantity-1": "0", "resolution": "refund", **fields}


# -- step 1: finding the order -----------------------------------------------------------------


def test_the_order_is_found_by_its_number_and_email_or_postal_code(labels, client):
    by_email = _find(client, "shop-1", " ADA@example.com ")
    by_postal = _find(client, labels.order.number, "m5h1a1")

    assert by_email.status_code == by_postal.status_code == 302
    assert by_email["Location"] == ORDER
    page = client.get(ORDER).content.decode()
    assert "TEE-RED-M" in page and "MUG-BLUE" in page and "Too small" in page


def test_a_wrong_email_and_a_wrong_order_read_the_same(labels, client):
    wrong_email = _find(client, "SHOP-1", "eve@example.com")
    wrong_order = _find(client, "SHOP-999", "ada@example.com")

    assert wrong_email.status_code == wrong_order.status_code == 404
    assert wrong_email.context["error"] == wrong_order.context["error"]
    assert "could not find a shipped order" in wrong_email.content.decode()
    assert client.get(ORDER).status_code == 302  # nothing remembered: back to step 1


def test_another_shops_order_and_an_unshipped_order_are_not_found(labels, client):
    globex = TenantFactory(slug="globex")
    inv.product(globex, "GADGET")
    inv.stock(globex, inv.product(globex, "CABLE"), labels.wh, "01-03-1", 5)
    shipped_order(globex, external_id="GLX-1", lines=[("CABLE", 1)])
    inv.stock(labels.tenant, labels.tee, labels.wh, "01-01-2", 5)
    from orders.tests.factories import order

    order(labels.tenant, external_id="SHOP-2", lines=[("TEE-RED-M", 1)])

    assert _find(client, "GLX-1").status_code == 404
    assert client.post("/returns/globex/", {"number": "SHOP-1", "contact": "ada@example.com"}).status_code == 404
    assert _find(client, "SHOP-2").status_code == 404
    assert client.get("/returns/no-such-shop/").status_code == 404


def test_order_lookups_are_rate_limited(labels, client, settings):
    settings.RETURNS_PORTAL_RATE = "2/m"

    answers = [_find(client, "SHOP-1", "eve@example.com").status_code for _ in range(3)]

    assert answers == [404, 404, 429]


# -- step 2: the return --------------------------------------------------------------------------


def test_the_shopper_gets_the_rma_with_its_label_by_page_and_email(labels, client, django_capture_on_commit_callbacks):
    _find(client)

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(ORDER, _lines())

    rma = Return.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/returns/acme/r/{rma.public_token}/"
    assert (rma.source, rma.status, rma.resolution) == ("shopper", ReturnStatus.LABEL_ISSUED, "refund")
    assert [(line.sku, line.quantity, line.reason) for line in rma.lines.all()] == [("TEE-RED-M", 1, "Too small")]
    page = client.get(answer["Location"]).content.decode()
    label = ReturnLabel.objects.get(rma=rma)
    assert rma.number in page and label.tracking_number in page and "Label ready" in page
    assert f'href="/returns/acme/r/{rma.public_token}/label.pdf"' in page and "100 Logistics Dr" in page
    pdf = client.get(f"/returns/acme/r/{rma.public_token}/label.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    [email] = mail.outbox
    assert email.to == ["Ada Lovelace <ada@example.com>"] and rma.number in email.subject
    assert f"/returns/acme/r/{rma.public_token}/" in email.body
    [(name, content, kind)] = email.attachments
    assert (name, kind) == (f"return-label-{rma.number}.pdf", "application/pdf") and content.startswith(b"%PDF")
    assert OrderEvent.objects.filter(type="email_sent", data__kind="return").count() == 1
    assert client.get(ORDER).status_code == 302  # the order is forgotten once the return is made


def test_no_email_when_the_shop_sends_none(labels, client, django_capture_on_commit_callbacks):
    Tenant.objects.filter(pk=labels.tenant.pk).update(shopper_emails=False)
    _find(client)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(ORDER, _lines())

    assert Return.objects.count() == 1 and mail.outbox == []


def test_without_a_label_account_the_shopper_is_told_where_to_send_it(shop, client):
    _address(shop.wh)
    _find(client)

    answer = client.post(ORDER, _lines(), follow=True)

    html = answer.content.decode()
    assert Return.objects.get().status == ReturnStatus.REQUESTED and not ReturnLabel.objects.exists()
    assert "label.pdf" not in html and "100 Logistics Dr" in html and "written on it" in html


def test_a_damaged_item_needs_a_photo_which_is_kept_with_the_return(labels, client):
    _find(client)

    missing = client.post(ORDER, _lines(**{"reason-0": "Arrived damaged"}))
    photo = io.BytesIO(_png())
    photo.name = "tee.png"
    kept = client.post(ORDER, _lines(**{"reason-0": "Arrived damaged", "photo-0": photo}))

    assert missing.status_code == 422 and "Add a photo" in missing.content.decode()
    assert kept.status_code == 302
    [saved] = ReturnPhoto.objects.all()
    assert (saved.content_type, saved.line.sku, bytes(saved.content)) == ("image/png", "TEE-RED-M", _png())


def test_a_photo_that_is_no_image_is_refused_with_nothing_created(labels, client):
    _find(client)
    fake = io.BytesIO(b"%PDF-1.4 not a picture")
    fake.name = "tee.png"

    answer = client.post(ORDER, _lines(**{"reason-0": "Arrived damaged", "photo-0": fake}))

    assert answer.status_code == 422 and "JPEG, PNG or WebP" in answer.content.decode()
    assert not Return.objects.exists() and not ReturnPhoto.objects.exists()


def test_a_photo_over_the_limit_is_refused(labels, client, settings):
    settings.RETURNS_PHOTO_MAX_BYTES = 1024
    _find(client)
    big = io.BytesIO(_png() + b"\0" * 2048)
    big.name = "tee.png"

    answer = client.post(ORDER, _lines(**{"reason-0": "Arrived damaged", "photo-0": big}))

    assert answer.status_code == 422 and "over" in answer.content.decode()
    assert not Return.objects.exists()


def test_an_exchange_names_the_product_wanted_instead(labels, client):
    _find(client)

    client.post(ORDER, _lines(resolution="exchange", exchange_sku="MUG-BLUE", exchange_quantity="2"))

    rma = Return.objects.get()
    assert (rma.resolution, rma.exchange_lines) == ("exchange", [{"sku": "MUG-BLUE", "quantity": 2}])


def test_nothing_chosen_and_an_exchange_without_a_product_are_shown_with_nothing_created(labels, client):
    _find(client)

    nothing = client.post(ORDER, _lines(**{"quantity-0": "0"}))
    no_product = client.post(ORDER, _lines(resolution="exchange"))

    assert nothing.status_code == no_product.status_code == 422
    assert "Choose at least one item" in nothing.content.decode()
    assert "Say what the shopper wants instead" in no_product.content.decode()
    assert not Return.objects.exists()


def test_a_non_returnable_sku_is_shown_and_cannot_be_chosen(labels, client):
    services.return_policy_update(
        tenant_id=labels.tenant.pk, changes=services.PolicyInput(non_returnable_skus=["MUG-BLUE"])
    )
    _find(client)

    page = client.get(ORDER).content.decode()
    client.post(ORDER, _lines(**{"quantity-0": "0", "quantity-1": "1", "reason-1": "Too small"}))

    assert "This item cannot be returned" in page and 'name="quantity-1"' not in page
    assert not Return.objects.exists()


def test_units_already_on_a_return_are_not_offered_again(labels, client):
    services.return_create(
        tenant_id=labels.tenant.pk, order_id=labels.order.pk, lines=[{"sku": "TEE-RED-M", "quantity": 3, "reason": "x"}]
    )
    _find(client)

    page = client.get(ORDER).content.decode()

    assert "Already being returned" in page and 'name="quantity-0"' not in page


def test_outside_the_window_the_form_says_so_and_nothing_is_created(client, django_capture_on_commit_callbacks):
    ensure_default_carrier()
    warehouse = inv.warehouse()
    _address(warehouse)
    tenant = stocked_tenant(warehouse, tenant=TenantFactory(slug="acme"))
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="OLD-1")
    shipping_services.shipment_tracking_event_add(shipment_id=shipment.pk, code="delivered", occurred_at=NOW)
    with time_machine.travel(NOW + timedelta(days=45), tick=False):
        _find(client, "OLD-1")
        answer = client.post(ORDER, {"quantity-0": "1", "reason-0": "Too small", "resolution": "refund"})

    assert answer.status_code == 422 and "window closed on" in answer.content.decode()
    assert not Return.objects.exists()


# -- the RMA page --------------------------------------------------------------------------------


def test_another_shops_token_and_a_made_up_token_are_404(labels, client):
    rma = services.return_create(
        tenant_id=labels.tenant.pk, order_id=labels.order.pk, lines=[{"sku": "TEE-RED-M", "quantity": 1, "reason": "x"}]
    )
    TenantFactory(slug="globex")

    assert client.get(f"/returns/acme/r/{rma.public_token}/").status_code == 200
    assert client.get(f"/returns/globex/r/{rma.public_token}/").status_code == 404
    assert client.get(f"/returns/globex/r/{rma.public_token}/label.pdf").status_code == 404
    assert client.get("/returns/acme/r/not-a-real-token-at-all/").status_code == 404


def test_a_refused_label_leaves_the_rma_requested_and_the_shopper_may_ask_again(labels, client, monkeypatch):
    from shipping.carriers import gateway

    def refuse(*args, **kwargs):
        raise gateway.CarrierError("Demo Post: the label was refused: no service there", code="carrier_refused")

    monkeypatch.setattr(gateway, "buy", refuse)
    _find(client)
    answer = client.post(ORDER, _lines(), follow=True)
    rma = Return.objects.get()
    assert rma.status == ReturnStatus.REQUESTED and not ReturnLabel.objects.exists()
    assert "could not be made" in answer.content.decode()
    monkeypatch.undo()

    again = client.post(f"/returns/acme/r/{rma.public_token}/label/", follow=True)

    rma.refresh_from_db()
    assert rma.status == ReturnStatus.LABEL_ISSUED and "label.pdf" in again.content.decode()


# -- in Chromium -----------------------------------------------------------------------------------

FITS = "() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})"


def _fits(page, width):
    found = page.evaluate(FITS)
    assert found["scrollWidth"] <= found["innerWidth"] == width


@pytest.mark.parametrize("width", [360, 1366])
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
def test_a_shopper_returns_a_delivered_order_on_a_phone_and_a_desktop(page, live_server, width):
    ensure_default_carrier()
    warehouse = inv.warehouse()
    _address(warehouse)
    tenant = stocked_tenant(warehouse, tenant=TenantFactory(slug="acme", name="Acme Apparel", brand_color="#C2410C"))
    from orders.tests.factories import order as new_order
    from returns.tests.factories import ship

    created = new_order(tenant, external_id="WEB-1001", lines=[("TEE", 2), ("MUG", 1)])
    ship(created, deliver=True)
    services.return_policy_update(
        tenant_id=tenant.pk, changes=services.PolicyInput(label_account="demo-post", label_service="standard")
    )
    page.set_viewport_size({"width": width, "height": 800})

    page.goto(f"{live_server.url}/returns/acme/")
    assert page.locator("#merchant").inner_text() == "Acme Apparel"
    _fits(page, width)
    page.fill("#number", "WEB-1001")
    page.fill("#contact", "wrong@example.com")
    with page.expect_navigation():
        page.click("text=Find my order")
    assert page.locator("#lookup-error").is_visible()
    page.fill("#contact", "M5H 1A1")
    with page.expect_navigation():
        page.click("text=Find my order")
    _fits(page, width)
    page.select_option("#quantity-0", "2")
    page.select_option("#reason-0", "Arrived damaged")
    with page.expect_navigation():
        page.click("#submit-return")
    assert page.locator("#problems").is_visible()  # a damaged item needs its photo
    _fits(page, width)
    page.select_option("#quantity-0", "2")
    page.select_option("#reason-0", "Arrived damaged")
    page.set_input_files("#photo-0", files=[{"name": "tee.png", "mimeType": "image/png", "buffer": _png()}])
    page.check("#resolution-exchange")
    page.select_option("#exchange_sku", "MUG")
    with page.expect_navigation():
        page.click("#submit-return")

    rma = Return.objects.get()
    assert page.locator("#rma-number").inner_text() == rma.number
    assert page.locator("#status-words").inner_text() == "Label ready: send your parcel"
    assert page.locator("#tracking-number").inner_text() == rma.label.tracking_number
    _fits(page, width)
    href = page.locator("#label-link").get_attribute("href")
    pdf = page.request.get(f"{live_server.url}{href}")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    assert (rma.resolution, rma.exchange_lines, rma.photos.count()) == ("exchange", [{"sku": "MUG", "quantity": 1}], 1)


@pytest.mark.django_db(transaction=True)
def test_the_demo_shopper_returns_the_delivered_demo_order_with_a_label(client):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    text = out.getvalue()
    assert "/returns/acme/" in text and "try order DEMO-ACME-2 with shopper@example.com (delivered)" in text
    assert _find(client, "DEMO-ACME-2", "shopper@example.com").status_code == 302
    lines = {"quantity-0": "1", "reason-0": "Too large", "quantity-1": "0", "resolution": "refund"}
    answer = client.post(ORDER, lines, follow=True)
    rma = Return.objects.get(source="shopper")
    assert rma.status == ReturnStatus.LABEL_ISSUED and rma.label.account.carrier_id == "demo-post"
    assert "Download the label" in answer.content.decode()


def test_the_return_email_goes_once_per_rma(labels):
    from returns import notifications

    rma = services.return_create(
        tenant_id=labels.tenant.pk, order_id=labels.order.pk, lines=[{"sku": "TEE-RED-M", "quantity": 1, "reason": "x"}]
    )

    first = notifications.send_return_email(return_id=rma.pk)
    second = notifications.send_return_email(return_id=rma.pk)

    assert (first, second) == ("sent", "already_sent") and len(mail.outbox) == 1
    assert mail.outbox[0].attachments == []  # no label yet: the warehouse address instead
    assert "Write " in mail.outbox[0].body and "100 Logistics Dr" in mail.outbox[0].body
