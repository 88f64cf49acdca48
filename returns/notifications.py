"""The shopper's e-mail of a return opened in the public returns portal: the RMA number, what to do
with the parcel, the link to the RMA's page and the prepaid label as a PDF attachment (when the
merchant's policy buys labels), or the warehouse address to send it to.

It follows orders.notifications: sent through Django's e-mail backend, only when the merchant sends
shopper e-mails (``Tenant.shopper_emails``, the portal's Shopper e-mails page; the e-mail kinds
listed there are the order's, so a return e-mail follows the switch itself), to ship_to.email when
it is one valid address, once per RMA: an order timeline entry "email_sent" {"kind": "return",
"return": id} is written in the same transaction that sends, and a failing backend rolls it back
and raises (the task retries).
"""

from __future__ import annotations

import logging
from email.utils import formataddr

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from inventory import selectors as inventory_selectors
from orders import notifications as order_emails
from orders.locks import shopper_email_lock
from orders.models import OrderEvent
from orders.services import order_note
from returns.models import LabelStatus, Return, ReturnLabel

logger = logging.getLogger(__name__)

KIND = "return"


def rma_path(rma: Return) -> str:
    return reverse("public-return", kwargs={"tenant_slug": rma.tenant.slug, "token": rma.public_token})


def label_path(rma: Return) -> str:
    return reverse("public-return-label", kwargs={"tenant_slug": rma.tenant.slug, "token": rma.public_token})


def _context(rma: Return, label: ReturnLabel | None) -> dict:
    order = rma.order
    return {
        "rma": rma,
        "order": order,
        "merchant": rma.tenant.name,
        "shopper_name": order_emails._one_line((order.ship_to or {}).get("name")),
        "brand": order_emails._brand(order),
        "lines": list(rma.lines.order_by("pk")),
        "label": label,
        "rma_url": order_emails.public_url(rma_path(rma)),
        "label_url": order_emails.public_url(label_path(rma)) if label is not None else None,
        "warehouse": inventory_selectors.warehouse_address(rma.warehouse),
    }


def build_message(rma: Return, *, to: str) -> EmailMultiAlternatives:
    label = ReturnLabel.objects.filter(rma_id=rma.pk).exclude(status=LabelStatus.VOIDED).first()
    context = _context(rma, label)
    sender = rma.tenant.email_from or settings.DEFAULT_FROM_EMAIL
    message = EmailMultiAlternatives(
        subject=order_emails._one_line(render_to_string("returns/email/return_subject.txt", context)),
        body=render_to_string("returns/email/return.txt", context),
        from_email=formataddr((order_emails._one_line(rma.tenant.name), sender)),
        to=[formataddr((context["shopper_name"], to))],
    )
    message.attach_alternative(render_to_string("returns/email/return.html", context), "text/html")
    if label is not None and label.label_type == "PDF":
        message.attach(f"return-label-{rma.number}.pdf", bytes(label.label), "application/pdf")
    message.message()  # a header with a line break is refused here, before anything is recorded
    return message


def send_return_email(*, return_id) -> str:
    """Send the shopper's e-mail of an RMA once: sent, already_sent, disabled, missing, no_address
    or bad_header. A failing backend raises with nothing recorded."""
    rma = Return.objects.select_related("order", "tenant", "warehouse").filter(pk=return_id).first()
    if rma is None:
        return "missing"
    with transaction.atomic():
        shopper_email_lock(rma.order_id, f"{KIND}:{rma.pk}")
        if not order_emails.wants_email(rma.tenant):
            return "disabled"
        sent = OrderEvent.objects.filter(
            order_id=rma.order_id, type=order_emails.EVENT_TYPE, data__kind=KIND, data__return=str(rma.pk)
        )
        if sent.exists():
            return "already_sent"
        address = order_emails.shopper_address(rma.order)
        if address is None:
            return "no_address"
        try:
            message = build_message(rma, to=address)
        except BadHeaderError:
            logger.warning("return %s: a header of the shopper's e-mail would break; skipped", rma.number)
            return "bad_header"
        order_note(
            order_id=rma.order_id,
            type=order_emails.EVENT_TYPE,
            message=f"Return {rma.number} e-mail sent to {address}"[:500],
            data={"kind": KIND, "return": str(rma.pk), "to": address},
            actor="system",
        )
        message.send()  # inside the transaction: a failing backend rolls the entry back
    return "sent"
