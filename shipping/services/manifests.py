"""End of day: a manifest closes one carrier account's unmanifested labels at one warehouse.

A label is on at most one manifest (compare-and-set on ``LabelPurchase.manifest``); a manifested
label can no longer be voided. Carriers whose karrio connector has a manifest call (Canada Post)
are sent the shipments too, outside any transaction; the PDF is drawn here for every carrier.
"""

from __future__ import annotations

import base64
import logging
import uuid

from django.db import transaction
from django.db.models import Sum

from fulfillment.errors import FieldRefusal
from inventory.models import Warehouse
from packing.models import Package, ShipmentStatus
from shipping import selectors
from shipping.carriers import gateway
from shipping.models import CarrierAccount, LabelPurchase, Manifest, PurchaseStatus

logger = logging.getLogger(__name__)


class ManifestError(FieldRefusal):
    code = "manifest_refused"


def _open_labels(*, warehouse: Warehouse, account: CarrierAccount):
    return LabelPurchase.objects.filter(
        account=account,
        status=PurchaseStatus.BOUGHT,
        manifest__isnull=True,
        shipment__warehouse=warehouse,
    ).exclude(shipment__status=ShipmentStatus.PACKED)


def _account(reference) -> CarrierAccount | None:
    """An account by its id or its carrier_id."""
    reference = str(reference or "").strip()
    try:
        return CarrierAccount.objects.filter(pk=uuid.UUID(reference)).first()
    except ValueError:
        return CarrierAccount.objects.filter(carrier_id=reference.lower()).first()


def manifest_preview(*, warehouse: Warehouse, account: CarrierAccount) -> dict:
    """What closing the day would hand over: shipments, packages and weight."""
    labels = _open_labels(warehouse=warehouse, account=account)
    shipment_ids = list(labels.values_list("shipment_id", flat=True))
    packages = Package.objects.filter(shipment_id__in=shipment_ids)
    return {
        "shipments": len(shipment_ids),
        "packages": packages.count(),
        "weight_g": packages.aggregate(total=Sum("weight_g"))["total"] or 0,
    }


def manifest_close(*, warehouse_code: str, carrier_account, actor: str) -> Manifest:
    """Close the day's unmanifested labels of an account at a warehouse into a manifest (with PDF).

    422 for an unknown warehouse or account; 409 when there is nothing to close."""
    from shipping import documents

    warehouse = Warehouse.objects.filter(code=str(warehouse_code or "").upper()).first()
    if warehouse is None:
        raise ManifestError(f"unknown warehouse {warehouse_code!r}", field="warehouse", code="unknown_warehouse")
    account = _account(carrier_account)
    if account is None:
        raise ManifestError("unknown carrier account", field="carrier_account", code="unknown_carrier_account")
    labels = list(_open_labels(warehouse=warehouse, account=account).select_related("shipment__order"))
    if not labels:
        raise ManifestError(
            f"{account.display_name} has no labels at {warehouse.code} waiting for end of day.",
            code="nothing_to_manifest",
            status=409,
        )
    carrier_reference, carrier_document = "", None
    if "manifest" in gateway.capabilities(account.carrier_name):
        try:
            carrier_reference, carrier_document = gateway.manifest(
                selectors.connection(account),
                shipment_identifiers=[label.carrier_shipment_id for label in labels if label.carrier_shipment_id],
                address=selectors.ship_from(warehouse),
            )
        except gateway.CarrierError as error:
            raise ManifestError(error.message, code=error.code, status=502 if error.retryable else 422) from error
    with transaction.atomic():
        manifest = Manifest.objects.create(
            warehouse=warehouse,
            account=account,
            carrier_reference=carrier_reference[:100],
            carrier_document=carrier_document,
            created_by=actor[:100],
        )
        closed = LabelPurchase.objects.filter(
            pk__in=[label.pk for label in labels], status=PurchaseStatus.BOUGHT, manifest__isnull=True
        ).update(manifest=manifest)
        if not closed:
            raise ManifestError("Another end of day closed these labels first.", code="nothing_to_manifest", status=409)
        kept = list(
            LabelPurchase.objects.filter(manifest=manifest)
            .select_related("shipment__order")
            .order_by("shipment__order__number")
        )
        packages = Package.objects.filter(shipment_id__in=[label.shipment_id for label in kept])
        manifest.shipments_count = len(kept)
        manifest.packages_count = packages.count()
        manifest.total_weight_g = packages.aggregate(total=Sum("weight_g"))["total"] or 0
        manifest.document_pdf = documents.manifest_pdf(manifest, kept, list(packages.order_by("shipment_id", "number")))
        manifest.save(update_fields=["shipments_count", "packages_count", "total_weight_g", "document_pdf"])
    return manifest


def carrier_document_b64(manifest: Manifest) -> str:
    return base64.b64encode(bytes(manifest.carrier_document)).decode() if manifest.carrier_document else ""
