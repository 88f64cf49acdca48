"""Shopper e-mails: order confirmation and shipped, once each, only when the tenant wants them (and
has not opted out of the kind); the tracking kinds where no shipment is needed (the rest, with
shipments, in tests/test_shopper_emails.py)."""

from __future__ import annotations

import hashlib
import logging
import smtplib
import time
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from django.core.mail import EmailMultiAlternatives

from fulfillment import jobs
from fulfillment.celery import app as celery_app
from fulfillment.tenancy import services as tenancy_services
from fulfillment.tenancy.models import Tenant
from fulfillment.tenancy.tests.factories import TenantFactory, image_bytes
from inventory.tests.factories import product, stock, warehouse
from orders import notifications, services, tasks
from orders.models import OrderEvent, Status
from orders.tests.factories import order as create_order
from orders.tests.factories import ship_to
from tests.threads import race

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(django_capture_on_commit_callbacks):
    """acme sends shopper e-mails from hello@acme.test and sells a Red tee (TEE), 50 in MAIN."""
    main = warehouse("MAIN")
    acme = TenantFactory(
        slug="acme", name="Acme Outfitters", default_warehouse_code="MAIN", shopper_emails=True,
        email_from="hello@acme.test",
    )  # fmt: skip
    stock(acme, product(acme, "TEE", name="Red tee"), main, "01-01-1", 50)

    def make(external_id="SHOP-1001", **fields):
        # Intake would queue the confirmation itself; the tests below run the task by hand,
        # so orders are created while the setting is off and it is switched back on after.
        fields.setdefault("lines", [("TEE", 2)])
        Tenant.objects.filter(pk=acme.pk).update(shopper_emails=False)
        with django_capture_on_commit_callbacks(execute=True):
            created = create_order(acme, external_id=external_id, **fields)
        Tenant.objects.filter(pk=acme.pk).update(shopper_emails=True)
        created.refresh_from_db()
        return created

    return {"tenant": acme, "make": make}


def send(order, kind="confirmation"):
    return tasks.send_shopper_email.apply(kwargs={"order_id": str(order.pk), "kind": kind}).get()


def sent_events(order):
    return list(OrderEvent.objects.filter(order=order, type="email_sent").values_list("data", flat=True))


def ship(order):
    services.order_mark_picking(order_id=order.pk, actor="test")
    for allocation in order.lines.get().allocations.all():
        services.allocation_pick(allocation_id=allocation.pk, quantity=allocation.quantity, actor="test")
    services.order_mark_picked(order_id=order.pk, actor="test")
    services.order_mark_packed(order_id=order.pk, actor="test")
    services.order_mark_shipped(order_id=order.pk, actor="test")


def test_wants_email_follows_the_tenant_setting():
    assert notifications.wants_email(TenantFactory(shopper_emails=True)) is True
    assert notifications.wants_email(TenantFactory(shopper_emails=False)) is False
    assert notifications.wants_email(None) is False


def test_wants_email_of_a_kind_follows_the_switch_and_the_opt_outs():
    picky = TenantFactory(shopper_emails=True, shopper_email_opt_out=["delivered", "shipped"])
    off = TenantFactory(shopper_emails=False, shopper_email_opt_out=[])

    assert [k for k in notifications.KINDS if notifications.wants_email(picky, k)] == [
        "confirmation",
        "out_for_delivery",
        "delayed",
    ]
    assert [k for k in notifications.KINDS if notifications.wants_email(off, k)] == []
    assert notifications.wants_email(None, "confirmation") is False


def test_confirmation_is_sent_once_even_if_the_task_runs_twice(shop, mailoutbox):
    order = shop["make"]()

    assert send(order) == "sent"
    assert send(order) == "already_sent"

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.subject == "Acme Outfitters: order SHOP-1001 confirmed"
    assert mail.from_email == "Acme Outfitters <hello@acme.test>"
    assert mail.to == ["Ada Lovelace <ada@example.com>"]
    promised = order.promised_delivery_date.strftime("%A, %B %-d, %Y")
    for text in (mail.body, mail.alternatives[0][0]):
        assert "SHOP-1001" in text and order.number in text
        assert "Red tee" in text and "TEE" in text
        assert promised in text
        assert order.ship_to["line1"] in text
        assert f"{order.ship_to['postal_code']} {order.ship_to['city']} {order.ship_to['region']}" in text
    assert "  2 x Red tee (TEE)" in mail.body
    assert mail.alternatives[0][1] == "text/html"
    assert sent_events(order) == [{"kind": "confirmation", "to": "ada@example.com"}]


def test_confirmation_and_shipped_are_sent_once_each(shop, mailoutbox, django_capture_on_commit_callbacks):
    order = shop["make"]()
    send(order)
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)  # order_mark_shipped enqueues the shipped e-mail
    assert send(order, "shipped") == "already_sent"
    assert [m.subject for m in mailoutbox] == [
        "Acme Outfitters: order SHOP-1001 confirmed",
        "Acme Outfitters: order SHOP-1001 has shipped",
    ]
    assert "Tracking details will follow." in mailoutbox[1].body  # no shipment recorded by packing here
    assert sorted(e["kind"] for e in sent_events(order)) == ["confirmation", "shipped"]


def test_nothing_is_sent_when_the_tenant_has_emails_off(
    shop, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    order = shop["make"]()
    type(shop["tenant"]).objects.filter(pk=shop["tenant"].pk).update(shopper_emails=False)
    assert send(order) == "disabled"
    enqueued = []
    send_now = jobs.send_now
    monkeypatch.setattr(jobs, "send_now", lambda name, **kw: enqueued.append(name) or send_now(name, **kw))
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)
    assert "orders.tasks.send_shopper_email" not in enqueued  # not even a message for the worker
    assert mailoutbox == []
    assert sent_events(order) == []


@pytest.mark.parametrize("email", ["", "   ", "not-an-address", "a@example.com, b@example.com", None])
def test_nothing_is_sent_without_a_valid_address(shop, mailoutbox, email):
    order = shop["make"](ship_to=ship_to(email=email))
    assert send(order) == "no_address"
    assert mailoutbox == []
    assert sent_events(order) == []


def test_a_line_break_in_the_shoppers_name_cannot_add_a_header(shop, mailoutbox):
    order = shop["make"](ship_to=ship_to(name="Ada\r\nBcc: victim@example.com"))
    assert send(order) == "sent"
    raw = mailoutbox[0].message().as_bytes()
    parsed = message_from_bytes(raw)
    assert parsed["Bcc"] is None
    assert parsed["To"] == '"Ada Bcc: victim@example.com" <ada@example.com>'
    assert mailoutbox[0].recipients() == ['"Ada Bcc: victim@example.com" <ada@example.com>']


def test_a_line_break_in_the_address_is_skipped_and_logged_not_retried(shop, mailoutbox, caplog):
    order = shop["make"](ship_to=ship_to(email="ada@example.com\nBcc: victim@example.com"))
    with caplog.at_level(logging.WARNING, logger="orders.notifications"):
        assert send(order) == "no_address"
        assert send(order) == "no_address"
    assert mailoutbox == []
    assert sent_events(order) == []
    assert [r.getMessage() for r in caplog.records if r.name == "orders.notifications"] == [
        f"order {order.number}: shopper e-mail address is not valid; confirmation e-mail skipped"
    ] * 2


def test_a_line_break_in_the_merchant_name_is_kept_out_of_the_headers(shop, mailoutbox):
    type(shop["tenant"]).objects.filter(pk=shop["tenant"].pk).update(name="Acme\nBcc: victim@example.com")
    order = shop["make"]()
    assert send(order) == "sent"
    parsed = message_from_bytes(mailoutbox[0].message().as_bytes())
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Acme Bcc: victim@example.com: order SHOP-1001 confirmed"


def test_a_sender_address_that_would_break_a_header_is_skipped(shop, mailoutbox, caplog):
    type(shop["tenant"]).objects.filter(pk=shop["tenant"].pk).update(email_from="hello@acme.test\nBcc: x@y.test")
    order = shop["make"]()
    with caplog.at_level(logging.WARNING, logger="orders.notifications"):
        assert send(order) == "bad_header"
    assert mailoutbox == []
    assert sent_events(order) == []
    assert "a header of the confirmation e-mail would break" in caplog.text


def test_a_non_ascii_name_is_encoded(shop, mailoutbox):
    order = shop["make"](ship_to=ship_to(name="Zoë Ünal"))
    send(order)
    parsed = message_from_bytes(mailoutbox[0].message().as_bytes())
    assert str(make_header(decode_header(parsed["To"]))) == "Zoë Ünal <ada@example.com>"
    assert "Hello Zoë Ünal," in mailoutbox[0].body


def test_html_part_escapes_what_the_merchant_sent(shop, mailoutbox):
    order = shop["make"](ship_to=ship_to(name="<script>alert(1)</script>"))
    send(order)
    html = mailoutbox[0].alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_failing_mail_server_raises_for_retry_and_leaves_no_event(shop, mailoutbox, monkeypatch):
    order = shop["make"]()
    attempts = []

    def refuse(self, fail_silently=False):
        attempts.append(self.to)
        raise smtplib.SMTPServerDisconnected("connection closed")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    # Eager tasks retry in-process only when failures are not propagated (as a worker would retry).
    celery_app.conf.task_eager_propagates = False
    try:
        result = tasks.send_shopper_email.apply(kwargs={"order_id": str(order.pk), "kind": "confirmation"})
    finally:
        celery_app.conf.task_eager_propagates = True
    assert result.state == "FAILURE"
    assert isinstance(result.result, smtplib.SMTPServerDisconnected)
    assert len(attempts) == 6  # the first try and five retries
    assert sent_events(order) == []

    monkeypatch.undo()
    assert send(order) == "sent"
    assert len(mailoutbox) == 1
    assert sent_events(order) == [{"kind": "confirmation", "to": "ada@example.com"}]


def test_no_confirmation_for_an_order_cancelled_before_the_task_ran(shop, mailoutbox):
    order = shop["make"]()
    services.order_cancel(order_id=order.pk, actor="test")
    assert send(order) == "cancelled"
    assert mailoutbox == []


@pytest.mark.parametrize("kind", ["out_for_delivery", "delivered", "delayed"])
def test_no_tracking_email_for_a_cancelled_order(shop, mailoutbox, kind):
    order = shop["make"]()
    services.order_cancel(order_id=order.pk, actor="test")

    assert send(order, kind) == "cancelled"

    assert mailoutbox == []
    assert sent_events(order) == []


@pytest.mark.parametrize("kind", ["confirmation", "shipped", "out_for_delivery", "delivered", "delayed"])
def test_a_kind_the_tenant_opted_out_of_is_disabled_and_records_nothing(shop, mailoutbox, kind):
    order = shop["make"]()
    Tenant.objects.filter(pk=shop["tenant"].pk).update(shopper_email_opt_out=[kind])

    assert send(order, kind) == "disabled"

    assert mailoutbox == []
    assert sent_events(order) == []


def test_an_opted_out_confirmation_is_not_even_queued_and_the_shipped_one_still_goes(
    shop, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    Tenant.objects.filter(pk=shop["tenant"].pk).update(shopper_email_opt_out=["confirmation"])
    shop["tenant"].refresh_from_db()  # intake reads the tenant it is given
    enqueued = []
    send_now = jobs.send_now
    monkeypatch.setattr(jobs, "send_now", lambda name, **kw: enqueued.append(kw.get("kind")) or send_now(name, **kw))
    with django_capture_on_commit_callbacks(execute=True):
        order = create_order(shop["tenant"], external_id="SHOP-2001", lines=[("TEE", 1)])
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)

    assert "confirmation" not in enqueued and "shipped" in enqueued
    assert [m.subject for m in mailoutbox] == ["Acme Outfitters: order SHOP-2001 has shipped"]
    assert [e["kind"] for e in sent_events(order)] == ["shipped"]


def test_an_opted_out_shipped_email_is_not_queued(shop, mailoutbox, django_capture_on_commit_callbacks, monkeypatch):
    order = shop["make"]()
    Tenant.objects.filter(pk=shop["tenant"].pk).update(shopper_email_opt_out=["shipped"])
    enqueued = []
    send_now = jobs.send_now
    monkeypatch.setattr(jobs, "send_now", lambda name, **kw: enqueued.append(kw.get("kind")) or send_now(name, **kw))
    with django_capture_on_commit_callbacks(execute=True):
        ship(order)

    assert "shipped" not in enqueued
    assert mailoutbox == []


def test_the_confirmation_carries_the_merchants_colour_and_absolute_logo_url(shop, mailoutbox, settings):
    settings.PUBLIC_BASE_URL = "https://shop.example"
    logo = image_bytes()
    tenancy_services.tenant_branding_update(tenant_id=shop["tenant"].pk, brand_color="#aa3300", logo=logo)
    order = shop["make"]()

    assert send(order) == "sent"

    html = mailoutbox[0].alternatives[0][0]
    digest = hashlib.sha256(logo).hexdigest()[:12]
    assert f'<img src="https://shop.example/brand/acme/logo?v={digest}" alt="Acme Outfitters"' in html
    assert "border-top:4px solid #AA3300" in html
    assert order.ship_to["line1"] in html  # the confirmation still says where it goes


def test_the_tracking_path_is_the_documented_one_when_no_url_is_named_public_tracking():
    # shipping's page, reversed by name, is at the address API.md documents.
    assert notifications.tracking_path("abc-_123") == "/track/abc-_123/"


@pytest.mark.parametrize(
    ("color", "text"),
    [
        ("#1F2328", "#FFFFFF"),
        ("#0A7E3B", "#FFFFFF"),
        ("#1F6FEB", "#FFFFFF"),
        ("#FFE066", "#1F2328"),
        ("#FFFFFF", "#1F2328"),
    ],
)
def test_the_button_text_is_whichever_of_white_or_dark_reads_better(color, text):
    assert notifications._text_on(color) == text


def test_an_unknown_kind_is_refused(shop):
    order = shop["make"]()
    with pytest.raises(ValueError, match="unknown shopper e-mail kind 'invoice'"):
        notifications.send_shopper_email(order_id=order.pk, kind="invoice")
    assert order.status == Status.ALLOCATED


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_email_at_once_send_it_once(monkeypatch, mailoutbox):
    main = warehouse("MAIN")
    acme = TenantFactory(slug="acme", default_warehouse_code="MAIN", shopper_emails=False)
    stock(acme, product(acme, "TEE"), main, "01-01-1", 5)
    order = create_order(acme, external_id="RACE-1", lines=[("TEE", 1)])  # no confirmation queued by intake
    Tenant.objects.filter(pk=acme.pk).update(shopper_emails=True)
    real_send = EmailMultiAlternatives.send

    def slow_send(self, fail_silently=False):
        time.sleep(0.3)  # a slow mail server: the other worker arrives while this one is sending
        return real_send(self, fail_silently)

    monkeypatch.setattr(EmailMultiAlternatives, "send", slow_send)
    outcomes = race([lambda: notifications.send_shopper_email(order_id=order.pk, kind="confirmation")] * 2)

    assert sorted(outcomes) == ["already_sent", "sent"]
    assert len(mailoutbox) == 1
    assert sent_events(order) == [{"kind": "confirmation", "to": "ada@example.com"}]
