"""Checking a merchant's branding input: the #RRGGBB colour and the logo image (Pillow).

A logo is accepted when it is at most ``LOGO_MAX_BYTES``, Pillow reads it as a PNG or a JPEG (the
bytes decide, not a file name or a declared type), it is at most ``LOGO_MAX_SIDE`` pixels on each
side, and it decodes whole (a truncated or corrupt file is refused). The pixel size is read from the
header before anything is decoded, so that a small file claiming a huge image (a decompression bomb)
is refused without allocating it.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from fulfillment.tenancy.models import BRAND_COLOR_PATTERN

LOGO_MAX_BYTES = 256 * 1024
LOGO_MAX_SIDE = 2048
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}

_COLOR = re.compile(BRAND_COLOR_PATTERN)


@dataclass(frozen=True)
class CheckedLogo:
    content: bytes
    content_type: str
    width: int
    height: int


class LogoProblem(ValueError):
    """Why an upload is not a usable logo: ``code`` and a message for the merchant."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def normalized_color(value: str) -> str | None:
    """``#RRGGBB`` upper-cased, "" for no colour, or None when ``value`` is not such a colour."""
    value = (value or "").strip()
    if not value:
        return ""
    return value.upper() if _COLOR.fullmatch(value) else None


def check_logo(content: bytes) -> CheckedLogo:
    """The logo's type and size, or LogoProblem saying what is wrong with it."""
    if not content:
        raise LogoProblem("empty", "The logo file is empty.")
    if len(content) > LOGO_MAX_BYTES:
        raise LogoProblem(
            "too_large",
            f"The logo is {len(content) // 1024} KB; the limit is {LOGO_MAX_BYTES // 1024} KB.",
        )
    not_an_image = LogoProblem("not_an_image", "The logo must be a PNG or JPEG image.")
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its pixel limit; any bomb warning is a refusal here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                kind, (width, height) = image.format, image.size
                if kind not in LOGO_TYPES:
                    raise not_an_image
                if width > LOGO_MAX_SIDE or height > LOGO_MAX_SIDE:
                    raise LogoProblem(
                        "too_many_pixels",
                        f"The logo is {width}×{height} pixels; at most {LOGO_MAX_SIDE}×{LOGO_MAX_SIDE} is accepted.",
                    )
                image.load()  # decodes it all: a truncated or corrupt file fails here
    except LogoProblem:
        raise
    except UnidentifiedImageError:
        raise not_an_image from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LogoProblem(
            "too_many_pixels", f"The logo has far too many pixels; at most {LOGO_MAX_SIDE}×{LOGO_MAX_SIDE} is accepted."
        ) from None
    except (OSError, SyntaxError, ValueError):
        # Pillow's words for a file that starts like an image and then breaks.
        raise LogoProblem("broken_image", "The logo image is damaged or incomplete.") from None
    return CheckedLogo(content=content, content_type=LOGO_TYPES[kind], width=width, height=height)
