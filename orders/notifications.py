"""E-mails to the shopper (the merchant's customer), per tenant, optional: order confirmation,
shipped, out for delivery, delivered and delayed.

Sent through Django's e-mail backend (settings.EMAIL_BACKEND: SMTP in production, the console in
development, locmem in tests). ``send_shopper_email`` is idempotent: it records an OrderEvent
"email_sent" {"kind": ...} in the same transaction that decides to send, and does nothing when
that event exists, so each kind goes to a shopper at most once per order. When the backend fails,
the exception rolls the event back and propagates, so that the Celery task retries. Addresses or
names that would break or inject a header are skipped with a warning: retrying could never fix them.

A tenant sends them when ``shopper_emails`` is on and the kind is not in ``shopper_email_opt_out``
(the merchant portal's Shopper e-mails page). Every e-mail carries the merchant's name, brand colour
and logo; shipped and the tracking kinds link to the public tracking page. Links are absolute,
under settings.PUBLIC_BASE_URL. The tracking kinds carry no address of the shopper's, only the name.

Shipments belong to packing, a later stage: they are read through ``order.shipments`` (the reverse
relation), never imported. The tracking kinds are queued by shipping's tracking service by task name.
"""

from __future__ import annotations

import logging
from email.utils import formataddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat

from fulfillment.tenancy.models import ShopperEmailKind
from fulfillment.tenancy.selectors import branding_get
from orders.locks import shopper_email_lock
from orders.models import Order, OrderEvent, Status

logger = logging.getLogger(__name__)

CONFIRMATION = ShopperEmailKind.CONFIRMATION.value
SHIPPED = ShopperEmailKind.SHIPPED.value
OUT_FOR_DELIVERY = ShopperEmailKind.OUT_FOR_DELIVERY.value
DELIVERED = ShopperEmailKind.DELIVERED.value
DELAYED = ShopperEmailKind.DELAYED.value
KINDS = tuple(ShopperEmailKind.values)
# Told by tracking about a parcel on its way: never for a cancelled order.
TRACKING_KINDS = (OUT_FOR_DELIVERY, DELIVERED, DELAYED)
# The kinds that link to the public tracking page of each shipment.
LINKED_KINDS = (SHIPPED, *TRACKING_KINDS)
EVENT_TYPE = "email_sent"

# The accent of a merchant without a brand colour: the e-mail's own text colour (as the packing
# slip, whose default is black).
DEFAULT_BRAND_COLOR = "#1F2328"


def wants_email(tenant, kind: str | None = None) -> bool:
    """Whether the tenant sends e-mails to its shoppers (given ``kind``: that kind of e-mail)."""
    if tenant is None:
        return False
    if kind is None:
        return bool(tenant.shopper_emails)
    return tenant.sends_shopper_email(kind)


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


def public_url(path: str) -> str:
    """``path`` (from the site's root) as shoppers reach it: under settings.PUBLIC_BASE_URL."""
    return f"{settings.PUBLIC_BASE_URL}{path}"


def tracking_path(token: str) -> str:
    """The path of a shipment's public tracking page (shipping's URL "public-tracking", reversed by
    name: orders does not import shipping)."""
    return reverse("public-tracking", kwargs={"token": token})


def _text_on(color: str) -> str:
    """White or near-black, whichever reads better on the #RRGGBB ``color`` (WCAG relative luminance)."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # Contrast with white (1.05 / (L + 0.05)) against contrast with black ((L + 0.05) / 0.05).
    return "#FFFFFF" if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 else "#1F2328"


def _brand(order: Order) -> dict:
    branding = branding_get(tenant_id=order.tenant_id)
    color = branding.brand_color or DEFAULT_BRAND_COLOR
    return {
        "color": color,
        "text_on_color": _text_on(color),
        "logo_url": public_url(branding.logo_url) if branding.logo_url else None,
    }


def _local(moment, zone_name: str):
    try:
        zone = ZoneInfo(zone_name or settings.TIME_ZONE)
    except (KeyError, ValueError):
        zone = ZoneInfo(settings.TIME_ZONE)
    return moment.astimezone(zone)


def _shipment(shipment) -> dict:
    delivered_at = shipment.delivered_at
    return {
        "carrier": shipment.carrier_code,
        "service": shipment.service_code,
        "tracking_number": shipment.tracking_number,
        "estimated_delivery_date": shipment.estimated_delivery_date,
        "tracking_url": public_url(tracking_path(shipment.public_token)) if shipment.has_label else None,
        "delivered": delivered_at is not None,
        # In the time zone of the warehouse it left (the shopper's is not known), e.g.
        # "Monday, December 7, 2026 at 2:05 PM EST"; formatted here, since a template would show
        # a date-time in the site's time zone.
        "delivered_at": (
            dateformat.format(_local(delivered_at, shipment.warehouse.timezone), r"l, F j, Y \a\t g:i A T")
            if delivered_at
            else ""
        ),
    }


def _shipments_told(order: Order, kind: str) -> list[dict]:
    """The shipments an e-mail of ``kind`` is about: for shipped every one; for the tracking kinds
    those with a label that are out for delivery, delivered or still on their way (all of them
    with a label when none is in that state yet, e.g. a message that arrived before the status)."""
    shipments = list(order.shipments.select_related("warehouse").defer("label_pdf", "label_zpl").order_by("created_at"))
    if kind == SHIPPED:
        return [_shipment(s) for s in shipments]
    labelled = [s for s in shipments if s.has_label]
    if kind == OUT_FOR_DELIVERY:
        told = [s for s in labelled if s.status == "out_for_delivery"]
    elif kind == DELIVERED:
        told = [s for s in labelled if s.delivered_at is not None]
    else:  # DELAYED
        told = [s for s in labelled if s.delivered_at is None]
    return [_shipment(s) for s in (told or labelled)]


def _context(order: Order, kind: str) -> dict:
    context = {
        "order": order,
        "tenant": order.tenant,
        "merchant": order.tenant.name,
        "shopper_name": _one_line((order.ship_to or {}).get("name")),
        "brand": _brand(order),
    }
    if kind in (CONFIRMATION, SHIPPED):
        # The order's contents and where it goes: only in the e-mails that confirm them.
        lines = list(order.lines.select_related("product").order_by("pk"))
        context.update(ship_to=order.ship_to or {}, lines=lines, units=sum(line.quantity for line in lines))
    if kind in LINKED_KINDS:
        context["shipments"] = _shipments_told(order, kind)
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
    """Send the ``kind`` e-mail of an order once. Returns what happened: sent, already_sent,
    disabled (e-mails off, or this kind opted out), cancelled, already_delivered (out for delivery
    told after the parcel arrived), missing, no_address or bad_header.

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
        if not wants_email(order.tenant, kind):
            return "disabled"
        if order.status == Status.CANCELLED and kind in (CONFIRMATION, *TRACKING_KINDS):
            return "cancelled"
        if OrderEvent.objects.filter(order_id=order.pk, type=EVENT_TYPE, data__kind=kind).exists():
            return "already_sent"
        if kind == OUT_FOR_DELIVERY and _all_delivered(order):
            # A slow queue: the delivered e-mail says more, and "on its way" would now be wrong.
            return "already_delivered"
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
            message=f"{kind.replace('_', ' ').capitalize()} e-mail sent to {address}"[:500],
            data={"kind": kind, "to": address},
            actor="system",
        )
        # Inside the transaction on purpose: if the backend raises, the event is rolled back.
        message.send()
    return "sent"


def _all_delivered(order: Order) -> bool:
    labelled = order.shipments.filter(label_purchased_at__isnull=False)
    return labelled.exists() and not labelled.filter(delivered_at__isnull=True).exists()
