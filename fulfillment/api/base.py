"""The base of every API view: the actor, scoped querysets, idempotent POSTs."""

from __future__ import annotations

from rest_framework import exceptions, permissions, viewsets
from rest_framework.response import Response

from fulfillment.api import idempotency
from fulfillment.api.errors import PROBLEM, has_nul, without_nul
from fulfillment.tenancy.actor import Actor
from fulfillment.tenancy.authentication import request_actor

IDEMPOTENCY_HEADER = "HTTP_IDEMPOTENCY_KEY"


class IsMerchant(permissions.BasePermission):
    message = "This endpoint needs a merchant API key."

    def has_permission(self, request, view):
        actor = request_actor(request)
        return actor is not None and actor.is_merchant


class IsStaff(permissions.BasePermission):
    message = "This endpoint needs a staff token."

    def has_permission(self, request, view):
        actor = request_actor(request)
        return actor is not None and actor.is_staff


class IsActor(permissions.BasePermission):
    """A merchant or a staff member (anonymous users and plain Django users are refused)."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request_actor(request) is None:
            raise exceptions.PermissionDenied("This account is neither a merchant nor staff.")
        return True


class ActorMixin:
    permission_classes = [IsActor]

    @property
    def actor(self) -> Actor:
        return request_actor(self.request)

    # -- Idempotency-Key (Stripe semantics; see fulfillment/api/idempotency.py) ---------------

    def dispatch(self, request, *args, **kwargs):
        self._idempotency = None
        self._idempotency_lock = None
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            if self._idempotency is not None:
                # An exception escaped the view (a 500): no answer to keep, the key is free again.
                idempotency.abandon(self._idempotency)
                self._idempotency = None
            if self._idempotency_lock is not None:
                idempotency.release_lock(self._idempotency_lock)
                self._idempotency_lock = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.META.get(IDEMPOTENCY_HEADER)
        if request.method != "POST" or key is None:
            return
        idempotency.validate_key(key)
        digest = idempotency.request_digest(request.body)
        owner = self.actor.owner_key
        wait = idempotency.WAIT_SECONDS
        self._idempotency_lock = idempotency.acquire_lock(owner, key, wait=wait)
        self._idempotency = idempotency.claim(
            owner=owner,
            key=key,
            method=request.method,
            path=request.path,
            digest=digest,
        )

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            record = exc.record
            response = Response(
                record.response_body,
                status=record.status_code,
                content_type=PROBLEM if record.status_code >= 400 else None,
            )
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(self, "_idempotency", None)
        if record is not None:
            body = getattr(response, "data", None)
            if has_nul(body):
                # Kept answers live in jsonb, which cannot hold NUL; the client gets what is kept.
                body = response.data = without_nul(body)
            idempotency.store_answer(record, status_code=response.status_code, body=body)
            self._idempotency = None
        return response


class ScopedViewSet(ActorMixin, viewsets.GenericViewSet):
    """Every queryset comes from ``scoped_queryset`` with the actor: no bare ``objects.all()``.

    Subclasses set ``model`` (a TenantScoped model) and may narrow ``base_queryset``; overriding
    ``get_queryset`` is refused so that scoping cannot be skipped by accident.
    """

    model = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__} must not override get_queryset; override base_queryset(qs)")

    def base_queryset(self, qs):
        return qs

    def get_queryset(self):
        return self.base_queryset(self.model.objects.visible_to(self.actor))
