"""The row-level-security scope of a request (fulfillment.tenancy.rls)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.utils.module_loading import import_string

from fulfillment.tenancy import rls
from fulfillment.tenancy.authentication import actor_for_user, merchant_actor_for_user
from fulfillment.tenancy.models import StaffProfile


def session_scope(user) -> rls.Scope:
    """The scope of a signed-in user: staff (operator admins included) or a merchant's portal user.

    Read in operator scope (the membership naming a merchant user's tenant is a tenant row itself).
    A staff member's profile comes with their tenants in one query, and stays cached on the user.
    """
    if user is None or not user.is_authenticated:
        return rls.NONE
    with rls.operator():
        if user.is_superuser:
            return rls.actor_scope(actor_for_user(user))
        if "staff_profile" not in user._state.fields_cache:
            tenants = import_string(settings.RLS_STAFF_TENANTS)(user_id=user.pk)
            profile = StaffProfile.objects.filter(user_id=user.pk).annotate(scope=ArraySubquery(tenants)).first()
            user._state.fields_cache["staff_profile"] = profile
            if profile is not None:
                return rls.Scope.of_tenants(profile.scope)
        if actor_for_user(user) is not None:
            return rls.actor_scope(actor_for_user(user))
        return rls.actor_scope(merchant_actor_for_user(user))


class RlsScopeMiddleware:
    """Every request starts with no scope; a signed-in session user's actor sets it. Bearer keys set
    theirs when DRF authenticates them. The scope in force before the request comes back after it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        token = rls.enter(rls.NONE)
        try:
            rls.enter(session_scope(getattr(request, "user", None)))
            return self.get_response(request)
        finally:
            rls.leave(token)
