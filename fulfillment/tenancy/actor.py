"""The actor: who is asking. Resolved once per request; every scoping decision starts here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    kind: str  # "merchant" | "staff"
    tenant_id: object | None = None
    user_id: int | None = None
    role: str | None = None
    label: str = ""

    @property
    def is_merchant(self) -> bool:
        return self.kind == "merchant"

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def sees_all_warehouses(self) -> bool:
        """Operator admins (Django superusers) are not limited to assigned warehouses."""
        return self.kind == "staff" and self.role == "admin"

    @property
    def is_manager(self) -> bool:
        return self.kind == "staff" and self.role in {"manager", "admin"}

    @property
    def owner_key(self) -> str:
        """A stable string naming this principal (idempotency keys, rate limits)."""
        return f"t:{self.tenant_id}" if self.is_merchant else f"u:{self.user_id}"


class MerchantPrincipal:
    """Stands in for ``request.user`` when a merchant API key authenticated the request."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, tenant, api_key) -> None:
        self.tenant = tenant
        self.api_key = api_key

    def __str__(self) -> str:
        return f"merchant:{self.tenant.slug}"

    def has_perm(self, *_args, **_kwargs) -> bool:
        return False
