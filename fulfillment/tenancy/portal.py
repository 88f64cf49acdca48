"""Gates of the server-rendered pages: the merchant portal runs as the signed-in merchant's actor,
staff pages as the staff actor (``staff_actor``)."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import resolve_url

from fulfillment.tenancy.actor import Actor
from fulfillment.tenancy.authentication import actor_for_user, merchant_actor_for_user

PORTAL_HOME = "/portal/"


def login_redirect(request) -> HttpResponse:
    """To the login page and back; an htmx request (a poll whose session expired) is sent there as
    a whole page (HX-Redirect) rather than having the login form swapped into a fragment."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
        return response
    return redirect_to_login(request.get_full_path())


def merchant_required(view):
    """Log in first (anonymous users go to the login page); then merchant users only (others: 403).

    The view receives the merchant actor as ``actor``; every query it makes is scoped with it.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return login_redirect(request)
        actor = merchant_actor_for_user(request.user)
        if actor is None:
            raise PermissionDenied("The merchant portal is for merchant users.")
        return view(request, *args, actor=actor, **kwargs)

    return wrapper


def staff_actor(request, *, manager: bool = False) -> Actor:
    """The staff actor of a page request; anyone else (merchant users included) is refused with 403,
    and so are associates when ``manager`` is asked for."""
    actor = actor_for_user(request.user)
    if actor is None:
        raise PermissionDenied("Staff only.")
    if manager and not actor.is_manager:
        raise PermissionDenied("Managers only.")
    return actor
