"""Bearer authentication for merchant API keys and staff tokens, and the actor of a request."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions

from fulfillment.tenancy import rls
from fulfillment.tenancy.actor import Actor, MerchantPrincipal
from fulfillment.tenancy.models import ApiKey, StaffToken

_INVALID = "Invalid or revoked API key."


def actor_for_user(user) -> Actor | None:
    """The staff actor of a logged-in user, or None when the user is not staff."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_superuser:
        return Actor(kind="staff", user_id=user.pk, role="admin", label=user.get_username())
    profile = getattr(user, "staff_profile", None)
    if profile is None:
        return None
    return Actor(kind="staff", user_id=user.pk, role=profile.role, label=user.get_username())


def merchant_actor_for_user(user) -> Actor | None:
    """The merchant actor of a logged-in portal user, or None when the user belongs to no tenant."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    membership = getattr(user, "merchant_membership", None)
    if membership is None:
        return None
    return Actor(kind="merchant", tenant_id=membership.tenant_id, label=f"user:{user.get_username()}")


def resolve_bearer(raw: str):
    """(user-like, Actor) for a raw key, or None."""
    # Keys belong to tenants, so they are read in operator scope: the request has none yet.
    with rls.operator():
        return _resolve_bearer(raw)


def _resolve_bearer(raw: str):
    parts = ApiKey.split(raw)
    if parts is None:
        return None
    kind, prefix = parts
    digest = ApiKey.hash(raw)
    now = timezone.now()
    if kind == ApiKey.KIND:
        key = ApiKey.objects.active().select_related("tenant").filter(prefix=prefix).first()
        if key is None or key.key_hash != digest:
            return None
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        actor = Actor(kind="merchant", tenant_id=key.tenant_id, label=f"api_key:{key.prefix}")
        return MerchantPrincipal(key.tenant, key), actor
    if kind == StaffToken.KIND:
        token = StaffToken.objects.active().select_related("user").filter(prefix=prefix).first()
        if token is None or token.key_hash != digest or not token.user.is_active:
            return None
        actor = actor_for_user(token.user)
        if actor is None:
            return None
        StaffToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, actor
    return None


class BearerKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise exceptions.AuthenticationFailed("Authorization must be 'Bearer <key>'.")
        resolved = resolve_bearer(raw.strip())
        if resolved is None:
            raise exceptions.AuthenticationFailed(_INVALID)
        # The rest of the request sees what this key's actor may see (RlsScopeMiddleware restores
        # the scope from before the request when it ends).
        rls.enter(rls.actor_scope(resolved[1]))
        return resolved

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def request_actor(request) -> Actor | None:
    """The actor of a DRF request: from the bearer key, else from the session user."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, Actor):
        return auth
    user = getattr(request, "user", None)
    return actor_for_user(user) or merchant_actor_for_user(user)
