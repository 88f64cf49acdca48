"""Tenants (merchants), staff profiles, merchant API keys and staff tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

SLIP_MESSAGE_MAX = 300
BRAND_COLOR_PATTERN = r"^#[0-9A-Fa-f]{6}$"


class ShopperEmailKind(models.TextChoices):
    """The e-mails a merchant may send its shoppers (orders.notifications sends them)."""

    CONFIRMATION = "confirmation", "Order confirmed"
    SHIPPED = "shipped", "Shipped, with the tracking link"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"
    DELAYED = "delayed", "Delayed, with the new estimate"


class Tenant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    # Warehouses live in a higher layer (inventory); the tenant names its default by code.
    default_warehouse_code = models.CharField(max_length=20, blank=True)
    # Ship complete (False, the default) or split: allocate what is in stock and backorder the rest
    # as a separate order.
    allow_partial_shipments = models.BooleanField(default=False)
    # E-mails to the shopper (ship_to.email), sent from email_from: all of them on or off, and the
    # kinds (ShopperEmailKind values) the merchant does not want sent even when they are on.
    shopper_emails = models.BooleanField(default=False)
    shopper_email_opt_out = models.JSONField(default=list, blank=True)
    email_from = models.EmailField(blank=True)
    # Branding of the packing slip (and later the tracking page and returns portal): the accent colour
    # as #RRGGBB, and a line printed at the foot of every slip. The logo is a TenantLogo row.
    brand_color = models.CharField(
        max_length=7, blank=True, validators=[RegexValidator(BRAND_COLOR_PATTERN, "Use a #RRGGBB colour.")]
    )
    slip_message = models.CharField(max_length=SLIP_MESSAGE_MAX, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(brand_color="") | models.Q(brand_color__regex=BRAND_COLOR_PATTERN),
                name="tenant_brand_color_hex",
            ),
            models.CheckConstraint(
                condition=models.Q(shopper_email_opt_out__contained_by=ShopperEmailKind.values),
                name="tenant_shopper_email_opt_out_kinds",
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    def sends_shopper_email(self, kind: str) -> bool:
        """Whether the shopper e-mail ``kind`` goes out: e-mails are on and the kind is not opted out."""
        return bool(self.shopper_emails) and kind not in (self.shopper_email_opt_out or ())


class TenantLogo(models.Model):
    """A tenant's logo as uploaded (PNG or JPEG, checked by fulfillment.tenancy.branding), kept apart
    from Tenant so that the many reads of a tenant never carry the image's bytes."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True, related_name="+")
    content = models.BinaryField()
    content_type = models.CharField(max_length=20)
    # The ETag of /brand/<slug>/logo and the version in its URL.
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"logo of {self.tenant_id}"


class MerchantMembership(models.Model):
    """A merchant's user of the web portal: sees only its tenant's data."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_membership")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="members")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant.slug}"


class Role(models.TextChoices):
    MANAGER = "manager"
    ASSOCIATE = "associate"


class StaffProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    role = models.CharField(max_length=20, choices=Role.choices)

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class _BaseKey(models.Model):
    """A bearer credential: ``<kind>_<prefix>_<secret>``; only the SHA-256 of the whole key is kept."""

    KIND = ""
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = KeyQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def generate(cls) -> tuple[str, str, str]:
        prefix = secrets.token_hex(6)
        raw = f"{cls.KIND}_{prefix}_{secrets.token_urlsafe(32)}"
        return raw, prefix, _hash(raw)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash(raw)

    @staticmethod
    def split(raw: str) -> tuple[str, str] | None:
        parts = raw.split("_", 2)
        if len(parts) != 3:
            return None
        return parts[0], parts[1]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiKey(_BaseKey):
    KIND = "fk"
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")

    def __str__(self) -> str:
        return f"{self.tenant.slug}:{self.prefix}"


class StaffToken(_BaseKey):
    KIND = "fs"
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_tokens")

    def __str__(self) -> str:
        return f"{self.user}:{self.prefix}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying an Idempotency-Key, replayed for retries."""

    owner = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    # The hourly purge of expired keys (fulfillment.api.tasks) finds them by age.
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")]
