"""Label purchase and void: idempotent, with no carrier call inside a transaction that holds locks.

A purchase runs in steps, each its own short transaction around the carrier call:

1. read the shipment and shop for rates (no locks; carriers called);
2. claim: lock the order then the shipment, re-check that it is packed with no live label, and
   insert a ``LabelPurchase`` in ``calling`` (its id is the purchase key; a partial unique index
   allows one calling-or-bought purchase per shipment, so a second task cannot claim it too);
3. call the carrier (no transaction);
4. store the carrier's answer on the purchase at once (shipment reference, tracking numbers,
   label) before anything else is done with it;
5. lock the order and shipment again, re-check, record the label on the shipment and packages,
   mark the order shipped and publish ``shipment.label_purchased``.

A worker killed during step 3 leaves the purchase ``calling``: after LABEL_PURCHASE_LEASE_SECONDS
the sweep buys it again with the same key where that is safe (a rate-sheet carrier prints
numbers derived from the key) and otherwise marks it ``interrupted`` and opens an exception for
a person to check the carrier account: never a second label bought blindly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from fulfillment.errors import FieldRefusal
from fulfillment.fees import services as fees
from fulfillment.jobs import enqueue
from fulfillment.webhooks.services import event_publish
from orders import services as orders_services
from orders.models import Status as OrderStatus
from packing import services as packing_services
from packing.models import Shipment, ShipmentStatus
from shipping import locks, selectors
from shipping.carriers import gateway
from shipping.models import (
    CarrierAccount,
    ExceptionCode,
    LabelPurchase,
    PurchaseStatus,
    ShippingException,
)
from shipping.services import rating, tracking
from shipping.services.payloads import shipment_payload

logger = logging.getLogger(__name__)

ACTOR = "shipping"
# deadlock_detected, serialization_failure: the transaction was rolled back whole and may run again.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
PURCHASE_TASK = "shipping.tasks.purchase_label"


class LabelError(FieldRefusal):
    code = "label_refused"


@dataclass(frozen=True)
class PurchaseOutcome:
    """What a purchase attempt came to: ``bought`` (the label is on the shipment), ``skipped``
    (nothing to do: bought already, not packed, another attempt calling), ``exception`` (waits in
    the exceptions queue) or ``retry`` (a carrier outage: try again after ``retry_in`` seconds)."""

    result: str
    shipment_id: object
    purchase: LabelPurchase | None = None
    message: str = ""
    retry_in: float | None = None


def _shipment(shipment_id) -> Shipment | None:
    return Shipment.objects.select_related("order", "warehouse").filter(pk=shipment_id).first()


def _packages(shipment: Shipment) -> list:
    return list(shipment.packages.order_by("number"))


def _live(shipment_id) -> LabelPurchase | None:
    return (
        LabelPurchase.objects.filter(
            shipment_id=shipment_id, status__in=[PurchaseStatus.CALLING, PurchaseStatus.BOUGHT]
        )
        .select_related("account")
        .first()
    )


def _refuse_unpurchasable(shipment: Shipment | None) -> None:
    if shipment is None:
        raise LabelError("No such shipment.", code="not_found", status=404)
    if shipment.has_label or _live(shipment.pk) is not None:
        raise LabelError("This shipment has a label already; void it first.", code="already_purchased", status=409)
    if shipment.status != ShipmentStatus.PACKED or shipment.order.status != OrderStatus.PACKED:
        raise LabelError(
            f"The order is {shipment.order.status}: only a packed order's shipment gets a label.",
            code="not_packed",
            status=409,
        )


# -- exceptions queue -------------------------------------------------------------------------


def _open_exception(shipment: Shipment, *, code: str, message: str, details=None) -> ShippingException:
    """Open (or update) the shipment's exception and tell the merchant (``shipment.exception``)."""
    with transaction.atomic():
        existing = (
            ShippingException.objects.select_for_update().filter(shipment=shipment, resolved_at__isnull=True).first()
        )
        if existing is not None:
            existing.code, existing.message, existing.details = code, message[:500], details or []
            existing.save(update_fields=["code", "message", "details"])
            return existing
        created = ShippingException.objects.create(
            tenant_id=shipment.tenant_id, shipment=shipment, code=code, message=message[:500], details=details or []
        )
        data = shipment_payload(shipment)
        data["exception"] = {"code": code, "message": message[:500]}
        event_publish(tenant_id=shipment.tenant_id, type="shipment.exception", data=data)
        orders_services.order_note(
            order_id=shipment.order_id,
            type="shipping_exception",
            message=f"Label not bought: {message[:300]}",
            actor=ACTOR,
        )
        return created


def _resolve_exceptions(shipment_id, *, resolution: str, now: datetime) -> None:
    ShippingException.objects.filter(shipment_id=shipment_id, resolved_at__isnull=True).update(
        resolved_at=now, resolution=resolution[:200]
    )


# -- rates --------------------------------------------------------------------------------------


def shipment_rates(*, shipment_id, now: datetime | None = None) -> rating.ShopResult:
    """Quotes for a packed shipment from every active account, stored as its latest rate shop."""
    shipment = _shipment(shipment_id)
    if shipment is None:
        raise LabelError("No such shipment.", code="not_found", status=404)
    result = rating.shop(shipment=shipment, packages=_packages(shipment), now=now)
    rating.rate_shop_record(shipment=shipment, result=result)
    return result


def _named_account(account_id) -> CarrierAccount | None:
    """The account a person named for a purchase (None when none was); LabelError when there is no
    such account or it is inactive, before any carrier is asked."""
    if not account_id:
        return None
    account = CarrierAccount.objects.filter(pk=account_id).first()
    if account is None:
        raise LabelError("No such carrier account.", code="unknown_carrier_account", field="carrier_account")
    if not account.active:
        raise LabelError(
            f"{account.carrier_id} is not active.", code="inactive_carrier_account", field="carrier_account"
        )
    return account


def _pick(result: rating.ShopResult, *, account: CarrierAccount | None, service_code: str) -> dict:
    """The quote a person asked for; LabelError naming the field otherwise."""
    for quote in result.quotes:
        if account is not None and quote["carrier_account"] != str(account.pk):
            continue
        if service_code and quote["service"] != service_code:
            continue
        return quote
    asked = " ".join(filter(None, [account.carrier_id if account else "", service_code]))
    raise LabelError(
        f"No quote for {asked}: the service is not offered or cannot carry these parcels there.",
        code="no_such_quote",
        field="service" if service_code else "carrier_account",
    )


# -- purchase -------------------------------------------------------------------------------------


def _claim(shipment_id, quote: dict, *, reason: str, actor: str, now: datetime) -> LabelPurchase | None:
    """Step 2: the purchase row in ``calling``, under the order and shipment locks; None when the
    shipment no longer needs a label or another attempt holds it."""
    with transaction.atomic():
        order, shipment = locks.order_and_shipment_lock(shipment_id)
        if shipment is None:
            return None
        if shipment.status != ShipmentStatus.PACKED or shipment.has_label or order.status != OrderStatus.PACKED:
            return None
        if _live(shipment_id) is not None:
            return None
        try:
            with transaction.atomic():
                return LabelPurchase.objects.create(
                    tenant_id=shipment.tenant_id,
                    shipment=shipment,
                    account_id=quote["carrier_account"],
                    service_code=quote["service"],
                    service_name=quote["service_name"],
                    quoted_charge=Decimal(quote["total_charge"]),
                    currency=quote["currency"],
                    transit_days=quote["transit_days"],
                    estimated_delivery_date=date.fromisoformat(quote["estimated_delivery_date"]),
                    reason=reason[:300],
                    actor=actor[:100],
                    started_at=now,
                )
        except IntegrityError:
            return None  # another attempt claimed it first


def _call_carrier(
    purchase: LabelPurchase, shipment: Shipment, *, label_type: str = "", packages: list | None = None
) -> gateway.Label:
    """Buy (or, on a rate sheet, draw again: the same key gives the same numbers) the purchase's label.
    A rate sheet's label is bought as ZPL (a few ms) and drawn as PDF on demand; carriers' as PDF."""
    account = CarrierAccount.objects.prefetch_related("services").get(pk=purchase.account_id)
    label_type = label_type or ("ZPL" if account.carrier_name == "generic" else "PDF")
    return gateway.buy(
        selectors.connection(account),
        shipper=selectors.ship_from(shipment.warehouse),
        recipient=selectors.ship_to(shipment.order),
        parcels=selectors.parcels(shipment, packages if packages is not None else _packages(shipment)),
        service_code=purchase.service_code,
        purchase_key=str(purchase.pk),
        reference=shipment.order.number,
        label_type=label_type,
    )


def _store_answer(purchase: LabelPurchase, label: gateway.Label, *, now: datetime) -> bool:
    """Step 4: keep what the carrier sold, first of all (compare-and-set from calling)."""
    with transaction.atomic():
        return (
            LabelPurchase.objects.filter(pk=purchase.pk, status=PurchaseStatus.CALLING).update(
                status=PurchaseStatus.BOUGHT,
                carrier_shipment_id=label.shipment_identifier[:100],
                tracking_numbers=label.tracking_numbers,
                label=label.label,
                label_type=label.label_type,
                total_charge=label.total_charge if label.total_charge is not None else purchase.quoted_charge,
                currency=label.currency or purchase.currency,
                finished_at=now,
            )
            == 1
        )


def _fail(purchase: LabelPurchase, error: gateway.CarrierError, *, now: datetime) -> None:
    LabelPurchase.objects.filter(pk=purchase.pk, status=PurchaseStatus.CALLING).update(
        status=PurchaseStatus.FAILED, error_code=error.code[:40], error_message=error.message[:500], finished_at=now
    )


def _record(purchase_id, *, now: datetime) -> PurchaseOutcome:
    """Step 5: the bought label onto the shipment; the order is shipped."""
    with transaction.atomic():
        purchase = LabelPurchase.objects.select_related("account").get(pk=purchase_id)
        shipment_id = purchase.shipment_id
        order, shipment = locks.order_and_shipment_lock(shipment_id)
        if shipment.has_label:
            return PurchaseOutcome("skipped", shipment_id, purchase, "the label was recorded already")
        if order.status != OrderStatus.PACKED or shipment.status != ShipmentStatus.PACKED:
            # Cancelled (or moved on) during the carrier call: the label must not ship anything.
            logger.warning("shipment %s: order became %s during the label purchase", shipment_id, order.status)
            return PurchaseOutcome("orphaned", shipment_id, purchase, f"the order is {order.status}")
        numbers = purchase.tracking_numbers or []
        estimate = purchase.estimated_delivery_date
        label_pdf = bytes(purchase.label) if purchase.label_type == "PDF" else None
        label_zpl = bytes(purchase.label).decode("utf-8", "replace") if purchase.label_type == "ZPL" else ""
        recorded = packing_services.shipment_record_label(
            shipment_id=shipment_id,
            label=packing_services.LabelRecord(
                carrier_code=purchase.account.carrier_id,
                service_code=purchase.service_code,
                tracking_number=numbers[0] if numbers else "",
                rate_amount=purchase.total_charge,
                rate_currency=purchase.currency,
                label_pdf=label_pdf,
                label_zpl=label_zpl,
                estimated_delivery_date=estimate,
                package_tracking_numbers=tuple(numbers),
            ),
            purchased_at=now,
        )
        if not recorded:
            return PurchaseOutcome("skipped", shipment_id, purchase, "the shipment changed")
        event = tracking.tracking_start(shipment=shipment, now=now)
        orders_services.order_mark_shipped(
            order_id=order.pk,
            actor=purchase.actor or ACTOR,
            data={
                "shipment": str(shipment.pk),
                "carrier": purchase.account.carrier_id,
                "service": purchase.service_code,
                "tracking_number": numbers[0] if numbers else "",
                "tracking_numbers": numbers,
                "charge": str(purchase.total_charge) if purchase.total_charge is not None else None,
                "currency": purchase.currency,
                "why": purchase.reason,
            },
        )
        _resolve_exceptions(shipment_id, resolution="label bought", now=now)
        if purchase.total_charge is not None:
            fees.fee_for_label(
                tenant_id=shipment.tenant_id,
                source_type=fees.SourceType.SHIPMENT,
                source_id=shipment.pk,
                reference=f"order {order.number} {numbers[0] if numbers else ''}".strip(),
                label_key=str(purchase.pk),
                charge=purchase.total_charge,
                currency=purchase.currency or "",
                warehouse_code=shipment.warehouse.code,
                actor=purchase.actor or ACTOR,
            )
        shipment.refresh_from_db()
        payload = shipment_payload(shipment, event)
        payload["tracking_numbers"] = numbers
        payload["rate"] = {"amount": str(purchase.total_charge), "currency": purchase.currency}
        event_publish(tenant_id=shipment.tenant_id, type="shipment.label_purchased", data=payload)
        event_publish(
            tenant_id=shipment.tenant_id, type="shipment.tracking_updated", data=shipment_payload(shipment, event)
        )
        return PurchaseOutcome("bought", shipment_id, purchase)


def _void_orphan(purchase: LabelPurchase) -> None:
    """A label bought for an order cancelled during the call: void it with the carrier."""
    try:
        _carrier_void(purchase)
    except gateway.CarrierError as error:
        logger.warning("purchase %s: could not void the orphaned label: %s", purchase.pk, error.message)
        return
    LabelPurchase.objects.filter(pk=purchase.pk, status=PurchaseStatus.BOUGHT).update(
        status=PurchaseStatus.VOIDED, voided_at=timezone.now(), error_message="order cancelled during the purchase"
    )


def _buy(
    purchase: LabelPurchase, shipment: Shipment, *, attempt: int, now: datetime, packages: list | None = None
) -> PurchaseOutcome:
    try:
        label = _call_carrier(purchase, shipment, packages=packages)
    except gateway.CarrierError as error:
        _fail(purchase, error, now=timezone.now())
        if error.retryable and attempt < settings.LABEL_PURCHASE_ATTEMPTS:
            delay = settings.LABEL_PURCHASE_BACKOFF_SECONDS * 2 ** (attempt - 1)
            return PurchaseOutcome("retry", shipment.pk, purchase, error.message, retry_in=delay)
        code = ExceptionCode.LABEL_FAILED if error.retryable else ExceptionCode.CARRIER_REFUSED
        _open_exception(shipment, code=code, message=error.message, details=error.details)
        return PurchaseOutcome("exception", shipment.pk, purchase, error.message)
    if not _store_answer(purchase, label, now=timezone.now()):
        # The sweep marked this call interrupted meanwhile: keep the answer on that row anyway.
        LabelPurchase.objects.filter(pk=purchase.pk).update(
            carrier_shipment_id=label.shipment_identifier[:100], tracking_numbers=label.tracking_numbers
        )
        return PurchaseOutcome("skipped", shipment.pk, purchase, "the purchase was marked interrupted")
    outcome = _record_retrying(purchase.pk, now=now)
    if outcome.result == "orphaned":
        _void_orphan(purchase)
    return outcome


RECORD_ATTEMPTS = 3


def _record_retrying(purchase_id, *, now: datetime) -> PurchaseOutcome:
    """_record, again after a deadlock or a serialization failure (PostgreSQL rolled it back whole);
    a label bought must not stay unrecorded for want of a second try. The sweep tries later too."""
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        try:
            return _record(purchase_id, now=now)
        except OperationalError as error:
            if attempt == RECORD_ATTEMPTS or getattr(error.__cause__, "sqlstate", "") not in RETRYABLE_SQLSTATES:
                raise
            logger.warning("purchase %s: recording the label failed (%s); trying again", purchase_id, error)
    raise AssertionError("unreachable")


def shipment_purchase_label(
    *,
    shipment_id,
    carrier_account=None,
    service: str = "",
    actor: str = ACTOR,
    attempt: int = 1,
    refuse: bool = False,
    now: datetime | None = None,
) -> PurchaseOutcome:
    """Shop and buy the label of a packed shipment; the order is shipped.

    ``carrier_account``/``service`` pick the quote (a person at the API or a page); otherwise the
    rate shop's choice. ``refuse``: raise LabelError for what a person must hear about (already
    bought: 409; no such quote: 422; the carrier said no: 422; unreachable: 502) instead of
    leaving it to the exceptions queue."""
    now = now or timezone.now()
    account = _named_account(carrier_account)
    shipment = _shipment(shipment_id)
    if refuse:
        _refuse_unpurchasable(shipment)
    elif shipment is None or shipment.has_label or shipment.status != ShipmentStatus.PACKED:
        return PurchaseOutcome("skipped", shipment_id, message="nothing to buy")
    if shipment.order.status != OrderStatus.PACKED:
        return PurchaseOutcome("skipped", shipment_id, message=f"the order is {shipment.order.status}")
    unrecorded = _live(shipment.pk)
    if unrecorded is not None and unrecorded.status == PurchaseStatus.BOUGHT:
        # Bought, but recording it failed (a crash or a deadlock after the answer was stored).
        return _record_retrying(unrecorded.pk, now=now)
    packages = _packages(shipment)
    result = rating.shop(shipment=shipment, packages=packages, now=now)
    rating.rate_shop_record(shipment=shipment, result=result)
    if carrier_account or service:
        quote = _pick(result, account=account, service_code=service)
        reason = f"Chosen by {actor}: {quote['carrier']} {quote['service']}."
    elif result.choice is not None:
        quote, reason = result.choice, result.reason
    else:
        message = result.reason
        if result.errors:
            message += " Carriers that failed: " + "; ".join(f"{e['carrier']}: {e['message']}" for e in result.errors)
        if refuse:
            raise LabelError(message, code="no_quote")
        _open_exception(shipment, code=ExceptionCode.NO_QUOTE, message=message, details=result.errors)
        return PurchaseOutcome("exception", shipment_id, message=message)
    purchase = _claim(shipment.pk, quote, reason=reason, actor=actor, now=now)
    if purchase is None:
        if refuse:
            raise LabelError(
                "This shipment has a label already, or one is being bought.", code="already_purchased", status=409
            )
        return PurchaseOutcome("skipped", shipment_id, message="claimed by another attempt")
    outcome = _buy(purchase, shipment, attempt=attempt, now=now, packages=packages)
    if refuse and outcome.result in {"retry", "exception"}:
        purchase.refresh_from_db()
        status = 502 if purchase.error_code == "carrier_unavailable" else 422
        if outcome.result == "retry":
            _open_exception(shipment, code=ExceptionCode.LABEL_FAILED, message=outcome.message)
        raise LabelError(outcome.message, code=purchase.error_code or "carrier_refused", status=status)
    return outcome


def purchases_recover(*, now: datetime | None = None, limit: int = 200) -> int:
    """Purchases left ``calling`` past their lease (a worker died during the carrier call): bought
    again with the same key where the carrier makes that safe, else marked interrupted with an
    exception for a person; and labels bought but never recorded on their shipment (the worker
    died, or the recording lost a deadlock, after the answer was stored): recorded now. The
    number handled."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.LABEL_PURCHASE_LEASE_SECONDS)
    stale = list(
        LabelPurchase.objects.filter(status=PurchaseStatus.CALLING, started_at__lt=cutoff)
        .select_related("account", "shipment__order", "shipment__warehouse")
        .order_by("started_at")[:limit]
    )
    unrecorded = list(
        LabelPurchase.objects.filter(
            status=PurchaseStatus.BOUGHT,
            shipment__label_purchased_at__isnull=True,
            finished_at__lt=now - timedelta(seconds=30),
        )
        .order_by("finished_at")
        .values_list("pk", flat=True)[:limit]
    )
    for purchase_id in unrecorded:
        try:
            _record_retrying(purchase_id, now=now)
        except OperationalError:
            logger.warning(
                "purchase %s: the bought label could not be recorded; next sweep", purchase_id, exc_info=True
            )
    for purchase in stale:
        shipment = purchase.shipment
        if purchase.account.carrier_name == "generic":
            _buy(purchase, shipment, attempt=settings.LABEL_PURCHASE_ATTEMPTS, now=now)
            continue
        marked = LabelPurchase.objects.filter(pk=purchase.pk, status=PurchaseStatus.CALLING).update(
            status=PurchaseStatus.INTERRUPTED, finished_at=now, error_code="interrupted"
        )
        if marked:
            _open_exception(
                shipment,
                code=ExceptionCode.PURCHASE_INTERRUPTED,
                message=(
                    f"The label purchase from {purchase.account.display_name} was interrupted; the carrier may have "
                    f"sold a label (reference {shipment.order.number}). Check the carrier account and void it there "
                    "if so, then retry."
                ),
            )
    return len(stale) + len(unrecorded)


def shipments_recover_labels(*, older_than_seconds: int = 60, now: datetime | None = None) -> int:
    """Buy the labels that a lost task message left unbought (no exception open); the number bought."""
    bought = 0
    for shipment_id in selectors.shipments_without_label(older_than_seconds=older_than_seconds, now=now):
        outcome = shipment_purchase_label(shipment_id=shipment_id)
        bought += outcome.result == "bought"
    return bought


def shipping_exception_retry(*, exception_id, actor: str) -> ShippingException:
    """A person retries: the exception is resolved and the purchase runs again (in the worker)."""
    with transaction.atomic():
        found = ShippingException.objects.select_for_update().filter(pk=exception_id).first()
        if found is None:
            raise LabelError("No such shipping exception.", code="not_found", status=404)
        if found.resolved_at is not None:
            raise LabelError("This exception is resolved already.", code="resolved", status=409)
        found.resolved_at = timezone.now()
        found.resolution = f"retried by {actor}"[:200]
        found.save(update_fields=["resolved_at", "resolution"])
        enqueue(PURCHASE_TASK, shipment_id=str(found.shipment_id))
    return found


# -- void -----------------------------------------------------------------------------------------


def _carrier_void(purchase: LabelPurchase) -> bool:
    account = CarrierAccount.objects.prefetch_related("services").get(pk=purchase.account_id)
    return gateway.void(
        selectors.connection(account),
        shipment_identifier=purchase.carrier_shipment_id or (purchase.tracking_numbers or [""])[0],
        service_code=purchase.service_code,
    )


def shipment_void_label(*, shipment_id, actor: str, now: datetime | None = None) -> Shipment:
    """Void an unused label with the carrier; the order is packed again and may be bought anew.

    Refused (409) when there is no label, the carrier has scanned the parcel, or the label is on a
    closed manifest."""
    now = now or timezone.now()
    shipment = _shipment(shipment_id)
    if shipment is None:
        raise LabelError("No such shipment.", code="not_found", status=404)
    purchase = LabelPurchase.objects.filter(shipment_id=shipment_id, status=PurchaseStatus.BOUGHT).first()
    if purchase is None or not shipment.has_label:
        raise LabelError("This shipment has no label to void.", code="no_label", status=409)
    if shipment.status != ShipmentStatus.LABEL_PURCHASED:
        raise LabelError(
            f"The parcel is {shipment.status.replace('_', ' ')}: a label the carrier has scanned cannot be voided.",
            code="in_carrier_hands",
            status=409,
        )
    if purchase.manifest_id:
        raise LabelError(
            "The label is on a closed manifest (end of day): it has been handed over.", code="manifested", status=409
        )
    try:
        with_carrier = _carrier_void(purchase)  # no lock held during the call
    except gateway.CarrierError as error:
        raise LabelError(error.message, code=error.code, status=502 if error.retryable else 422) from error
    with transaction.atomic():
        order, locked = locks.order_and_shipment_lock(shipment_id)
        if LabelPurchase.objects.filter(pk=purchase.pk, status=PurchaseStatus.BOUGHT, manifest__isnull=True).update(
            status=PurchaseStatus.VOIDED, voided_at=now
        ) != 1 or not packing_services.shipment_clear_label(shipment_id=shipment_id):
            raise LabelError("The shipment changed while its label was being voided.", code="conflict", status=409)
        tracking.tracking_forget(shipment_id=shipment_id)
        fees.fee_for_label_void(tenant_id=order.tenant_id, label_key=str(purchase.pk), actor=actor)
        if order.status == OrderStatus.SHIPPED:
            orders_services.order_mark_unshipped(
                order_id=order.pk,
                actor=actor,
                message=f"Label {locked.tracking_number or shipment.tracking_number} voided"
                + ("" if with_carrier else " (the carrier bills only scanned labels)"),
                data={"tracking_numbers": purchase.tracking_numbers, "carrier": purchase.account.carrier_id},
            )
    shipment.refresh_from_db()
    return shipment


# -- label documents --------------------------------------------------------------------------


def label_document(*, shipment: Shipment, kind: str) -> bytes | str | None:
    """The label as PDF (bytes) or ZPL (text); the format the carrier did not send is made once
    from the same purchase and kept. None when there is no label or the format cannot be made."""
    if not shipment.has_label:
        return None
    if kind == "pdf" and shipment.label_pdf:
        return bytes(shipment.label_pdf)
    if kind == "zpl" and shipment.label_zpl:
        return shipment.label_zpl
    purchase = (
        LabelPurchase.objects.filter(shipment_id=shipment.pk, status=PurchaseStatus.BOUGHT)
        .select_related("account")
        .first()
    )
    if purchase is None:
        return None
    made = _other_format(purchase, shipment, kind)
    if made is None:
        return None
    if kind == "pdf":
        packing_services.shipment_store_label_document(shipment_id=shipment.pk, label_pdf=made)
    else:
        packing_services.shipment_store_label_document(shipment_id=shipment.pk, label_zpl=made)
    return made


def _other_format(purchase: LabelPurchase, shipment: Shipment, kind: str):
    from shipping import documents

    if purchase.account.carrier_name == "generic":
        # A rate-sheet label is drawn by karrio from the purchase: the same key, the same numbers.
        full = Shipment.objects.select_related("order", "warehouse").get(pk=shipment.pk)
        try:
            label = _call_carrier(purchase, full, label_type=kind.upper())
        except gateway.CarrierError:
            logger.warning("shipment %s: could not draw the %s label", shipment.pk, kind, exc_info=True)
            return None
        return label.label.decode() if kind == "zpl" else label.label
    if kind == "zpl" and purchase.label_type == "PDF" and purchase.label:
        return documents.pdf_to_zpl(bytes(purchase.label))
    return None
