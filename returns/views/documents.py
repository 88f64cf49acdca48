"""What the returns pages serve as files: a shopper's photo (for the merchant and the inspector)."""

from __future__ import annotations

from django.http import HttpResponse

# Shopper photos: image types are shown as what they are; anything else is only downloaded.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif"})


def photo_response(content: bytes, content_type: str, *, photo_id) -> HttpResponse:
    """A stored photo, never run as anything but an image: an image type is sent as itself, sandboxed
    and not sniffed; anything else as a download."""
    content_type = (content_type or "").lower()
    image = content_type in IMAGE_TYPES
    response = HttpResponse(bytes(content), content_type=content_type if image else "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    if not image:
        response["Content-Disposition"] = f'attachment; filename="return-photo-{photo_id}"'
    return response
