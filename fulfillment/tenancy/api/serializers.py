"""The branding API's input and output (GET/PATCH /api/v1/branding/)."""

from __future__ import annotations

import base64
import binascii
import math
import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fulfillment.tenancy.branding import LOGO_MAX_BYTES
from fulfillment.tenancy.models import BRAND_COLOR_PATTERN, SLIP_MESSAGE_MAX

# Base64 of the largest logo accepted, with room for a data: URL prefix; longer is too large unread.
_MAX_BASE64 = 4 * math.ceil(LOGO_MAX_BYTES / 3) + 100
_DATA_URL = re.compile(r"^data:[\w/+.-]+;base64,", re.I)


@extend_schema_field(OpenApiTypes.BYTE)
class Base64LogoField(serializers.Field):
    """A logo as base64 (standard alphabet; a ``data:image/png;base64,`` prefix is allowed); null removes it."""

    default_error_messages = {
        "invalid": "Send the logo as a base64 string (or null to remove it).",
        "too_large": f"The logo is larger than the limit of {LOGO_MAX_BYTES // 1024} KB.",
    }

    def to_internal_value(self, data) -> bytes:
        if not isinstance(data, str):
            self.fail("invalid")
        if len(data) > _MAX_BASE64:
            self.fail("too_large")
        text = "".join(_DATA_URL.sub("", data.strip()).split())
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            self.fail("invalid")

    def to_representation(self, value):  # input only
        return None


class BrandingSerializer(serializers.Serializer):
    """What GET and PATCH answer."""

    name = serializers.CharField(help_text="The merchant's name, printed beside the logo")
    brand_color = serializers.CharField(help_text="#RRGGBB, or empty for the default colour")
    slip_message = serializers.CharField(help_text="Printed at the foot of every packing slip")
    logo_url = serializers.CharField(
        allow_null=True, help_text="Public URL of the logo (cacheable, with an ETag); null when there is none"
    )
    logo_content_type = serializers.CharField(allow_null=True, help_text="image/png or image/jpeg; null without logo")


class BrandingPatchSerializer(serializers.Serializer):
    brand_color = serializers.RegexField(
        BRAND_COLOR_PATTERN,
        required=False,
        allow_blank=True,
        help_text="#RRGGBB (e.g. #1F6FEB); empty for the default colour",
    )
    slip_message = serializers.CharField(
        max_length=SLIP_MESSAGE_MAX, required=False, allow_blank=True, help_text="Printed at the foot of every slip"
    )
    logo = Base64LogoField(
        required=False,
        allow_null=True,
        help_text=(
            f"PNG or JPEG, base64-encoded (a data: URL prefix is allowed); at most {LOGO_MAX_BYTES // 1024} KB "
            "and 2048 pixels a side; null removes the logo"
        ),
    )

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send brand_color, slip_message and/or logo.")
        return attrs
