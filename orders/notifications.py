"""E-mails to the shopper (the merchant's customer): order confirmation and shipped, per tenant, optional.

Sent through Django's e-mail backend (settings.EMAIL_BACKEND: SMTP in production, the console in
development, locmem in tests). ``send_shopper_email`` is idempotent: it records an OrderEvent
"email_sent" {"kind": ...} in the same transaction that decides to send, and does nothing when
that event exists. When the backend fails, the exception rolls the event back and propagates, so
that the Celery task retries. Addresses or names that would break or inject a header are skipped
with a warning: retrying could never fix them.

Shipments belong to packing, a later stage: they are read through ``order.shipments`` (the reverse
relation), never imported.
"""

from __future__ import annotations

import logging
from email.utils import formataddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string

from orders.locks import shopper_email_lock
from orders.models import Order, OrderEvent, Status

logger = logging.getLogger(__name__)

CONFIRMATION = "confirmation"
SHIPPED = "shipped"
KINDS = (CONFIRMATION, SHIPPED)
EVENT_TYPE = "email_sent"


def wants_email(tenant) -> bool:
    """Whether the tenant sends order e-mails to its shoppers."""
    return bool(tenant is not None and tenant.shopper_emails)


def _one_line(value) -> str:
    """Header text on one line: CR, LF and other runs of whitespace become one space."""
    return " ".join(str(value or "").split())


def shopper_address(order: Order) -> str | None:
    """The shopper's e-mail address (ship_to.email) when it is one valid address, else None."""
    raw = (order.ship_to or {}).get("email")
    if not isinstance(raw, str):
        return None
    address = raw.strip()
    if not address or "\r" in address or "\n" in address or "," in address:
        return None
    try:
        validate_email(address)
    except ValidationError:
        return None
    return address


def _context(order: Order, kind: str) -> dict:
    lines = list(order.lines.select_related("product").order_by("pk"))
    context = {
        "order": order,
        "tenant": order.tenant,
        "merchant": order.tenant.name,
        "ship_to": order.ship_to or {},
        "shopper_name": _one_line((order.ship_to or {}).get("name")),
        "lines": lines,
        "units": sum(line.quantity for line in lines),
    }
    if kind == SHIPPED:
        context["shipments"] = [
            {
                "carrier": shipment.carrier_code,
                "service": shipment.service_code,
                "tracking_number": shipment.tracking_number,
                "estimated_delivery_date": shipment.estimated_delivery_date,
            }
            for shipment in order.shipments.order_by("created_at")
        ]
    return context


def build_message(order: Order, kind: str, *, to: str) -> EmailMultiAlternatives:
    """The e-mail of ``kind`` for ``order`` as text and HTML. Raises BadHeaderError if a header would break."""
    context = _context(order, kind)
    subject = _one_line(render_to_string(f"orders/email/{kind}_subject.txt", context))
    sender = order.tenant.email_from or settings.DEFAULT_FROM_EMAIL
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"orders/email/{kind}.txt", context),
        from_email=formataddr((_one_line(order.tenant.name), sender)),
        to=[formataddr((context["shopper_name"], to))],
    )
    message.attach_alternative(render_to_string(f"orders/email/{kind}.html", context), "text/html")
    # Build the MIME message now: Django refuses a header with a line break (BadHeaderError) here,
    # before anything is recorded, rather than in the backend after the event is written.
    message.message()
    return message


def send_shopper_email(*, order_id, kind: str) -> str:
    """Send the ``kind`` e-mail of an order once. Returns what happened (sent, already_sent, disabled, ...).

    A failing backend raises (nothing recorded, the caller retries); a bad address or header is
    logged and skipped.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown shopper e-mail kind {kind!r}")
    with transaction.atomic():
        shopper_email_lock(order_id, kind)
        order = Order.objects.select_related("tenant").filter(pk=order_id).first()
        if order is None:
            return "missing"
        if not wants_email(order.tenant):
            return "disabled"
        if kind == CONFIRMATION and order.status == Status.CANCELLED:
            return "cancelled"
        if OrderEvent.objects.filter(order_id=order.pk, type=EVENT_TYPE, data__kind=kind).exists():
            return "already_sent"
        address = shopper_address(order)
        if address is None:
            if (order.ship_to or {}).get("email"):
                logger.warning("order %s: shopper e-mail address is not valid; %s e-mail skipped", order.number, kind)
            return "no_address"
        try:
            message = build_message(order, kind, to=address)
        except BadHeaderError:
            logger.warning("order %s: a header of the %s e-mail would break; skipped", order.number, kind)
            return "bad_header"
        OrderEvent.objects.create(
            tenant_id=order.tenant_id,
            order=order,
            type=EVENT_TYPE,
            message=f"{kind.capitalize()} e-mail sent to {address}"[:500],
            data={"kind": kind, "to": address},
            actor="system",
        )
        # Inside the transaction on purpose: if the backend raises, the event is rolled back.
        message.send()
    return "sent"
