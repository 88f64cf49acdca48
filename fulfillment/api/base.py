"""The base of every API view: the actor, scoped querysets, idempotent POSTs."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from rest_framework import exceptions, permissions, viewsets
from rest_framework.response import Response

from fulfillment.api.errors import PROBLEM, Conflict
from fulfillment.tenancy.actor import Actor
from fulfillment.tenancy.authentication import request_actor
from fulfillment.tenancy.models import IdempotencyRecord

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


class _Replay(Exception):
    def __init__(self, record: IdempotencyRecord):
        self.record = record


class ActorMixin:
    permission_classes = [IsActor]

    @property
    def actor(self) -> Actor:
        return request_actor(self.request)

    # -- Idempotency-Key (Stripe semantics) --------------------------------------------------

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency = None
        key = request.META.get(IDEMPOTENCY_HEADER)
        if request.method != "POST" or not key:
            return
        if len(key) > 255:
            raise exceptions.ValidationError({"Idempotency-Key": ["Must be at most 255 characters."]})
        digest = hashlib.sha256(request.body or b"").hexdigest()
        owner = self.actor.owner_key
        existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    existing = IdempotencyRecord.objects.create(
                        owner=owner, key=key, method=request.method, path=request.path, request_hash=digest
                    )
                self._idempotency = existing
                return
            except IntegrityError:
                existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
                if existing is None:
                    raise Conflict("A request with this Idempotency-Key is being processed.") from None
        if existing.request_hash != digest or existing.path != request.path:
            raise Conflict("This Idempotency-Key was used with a different request.")
        if existing.status_code is None:
            raise Conflict("A request with this Idempotency-Key is being processed; retry later.")
        raise _Replay(existing)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
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
            self._idempotency = None
            if response.status_code >= 500:
                record.delete()  # let the client retry a server failure with the same key
            else:
                record.status_code = response.status_code
                record.response_body = getattr(response, "data", None)
                record.save(update_fields=["status_code", "response_body"])
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
