"""The shopper's own return, from the public returns portal: the RMA with the shopper's photos in
one transaction, then (outside it) the prepaid label, then the shopper's e-mail after commit."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from returns.models import Resolution, ReturnPhoto, ReturnSource
from returns.services.common import ReturnError, field_error
from returns.services.labels import OpenedReturn, return_label_offer, return_shopper_email_queue
from returns.services.rmas import return_create

logger = logging.getLogger(__name__)

ACTOR = "shopper"
# What a photo's first bytes are, by the type it is stored as.
_SIGNATURES = (
    ("image/jpeg", lambda b: b[:3] == b"\xff\xd8\xff"),
    ("image/png", lambda b: b[:8] == b"\x89PNG\r\n\x1a\n"),
    ("image/webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
)


@dataclass(frozen=True)
class ShopperPhoto:
    """A picture the shopper attached to the line of ``sku``."""

    sku: str
    content: bytes


def photo_type(content: bytes) -> str | None:
    """The image type of a photo by its content (JPEG, PNG or WebP), None for anything else."""
    return next((kind for kind, matches in _SIGNATURES if matches(content)), None)


def _photos_checked(photos: Sequence[ShopperPhoto], lines: Sequence[Mapping]) -> list[tuple[ShopperPhoto, str]]:
    skus = [str(line.get("sku") or "").strip() for line in lines]
    errors, checked = [], []
    limit = settings.RETURNS_PHOTO_MAX_BYTES
    for photo in photos:
        field = f"photos[{photo.sku}]"
        kind = photo_type(photo.content)
        if photo.sku not in skus:
            errors.append(
                field_error(field, "not_in_return", f"The photo of {photo.sku} is for no line being returned.")
            )
        elif kind is None:
            errors.append(
                field_error(field, "invalid_type", f"The photo of {photo.sku} must be a JPEG, PNG or WebP image.")
            )
        elif len(photo.content) > limit:
            errors.append(
                field_error(field, "too_large", f"The photo of {photo.sku} is over {limit // (1024 * 1024)} MB.")
            )
        else:
            checked.append((photo, kind))
    if errors:
        raise ReturnError("The photos cannot be taken.", errors=errors)
    return checked


def return_request_by_shopper(
    *,
    tenant_id,
    order_id,
    lines: Sequence[Mapping],
    resolution: str = Resolution.REFUND,
    exchange_lines: Sequence[Mapping] = (),
    photos: Sequence[ShopperPhoto] = (),
) -> OpenedReturn:
    """The shopper's return (``returns.services.return_create`` with source ``shopper``), its
    photos (JPEG, PNG or WebP up to RETURNS_PHOTO_MAX_BYTES each) kept with it in one transaction;
    then its prepaid label (``return_label_offer``) and the shopper's e-mail. A refused return or
    photo raises ReturnError with nothing written; a carrier that refuses the label leaves the RMA
    ``requested`` without one (``label_error``), which the shopper may ask again for."""
    checked = _photos_checked(photos, lines)
    with transaction.atomic():
        rma = return_create(
            tenant_id=tenant_id,
            order_id=order_id,
            lines=lines,
            actor=ACTOR,
            resolution=resolution,
            exchange_lines=exchange_lines,
            source=ReturnSource.SHOPPER,
        )
        by_sku = {line.sku: line for line in rma.lines.all()}
        ReturnPhoto.objects.bulk_create(
            [
                ReturnPhoto(
                    tenant_id=rma.tenant_id,
                    rma=rma,
                    line=by_sku[photo.sku],
                    content_type=kind,
                    content=photo.content,
                    size=len(photo.content),
                )
                for photo, kind in checked
            ]
        )
    label, label_error = return_label_offer(return_id=rma.pk, actor=ACTOR)
    return_shopper_email_queue(return_id=rma.pk)
    rma.refresh_from_db()
    return OpenedReturn(rma=rma, label=label, label_error=label_error)
