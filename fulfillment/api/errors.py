"""RFC 9457 problem documents for every API error."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, UnreadablePostError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from fulfillment.errors import INVALID_FIELDS, Refusal

logger = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"

    def __init__(self, detail=None, *, code=None, retry_after: int | None = None):
        super().__init__(detail, code)
        self.retry_after = retry_after


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class Unprocessable(exceptions.APIException):
    """422: the request is well-formed but the action is refused (e.g. a wrong scan)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request could not be processed."
    default_code = "unprocessable"

    def __init__(self, detail=None, *, errors: list[dict] | None = None, code=None):
        super().__init__(detail, code)
        self.errors = errors or []


def flatten_errors(detail, path: str = "") -> list[dict]:
    """DRF's nested error dict/list as [{field, code, message}] with paths like lines[0].sku."""
    out: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "non_field_errors":
                out.extend(flatten_errors(value, path))
            elif isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                out.extend(flatten_errors(value, f"{path}[{key}]"))
            else:
                out.extend(flatten_errors(value, f"{path}.{key}" if path else str(key)))
    elif isinstance(detail, list):
        if all(isinstance(item, (exceptions.ErrorDetail, str)) for item in detail):
            for item in detail:
                out.append(
                    {
                        "field": path or None,
                        "code": getattr(item, "code", "invalid"),
                        "message": str(item),
                    }
                )
        else:
            for index, item in enumerate(detail):
                if item:
                    out.extend(flatten_errors(item, f"{path}[{index}]"))
    else:
        out.append({"field": path or None, "code": getattr(detail, "code", "invalid"), "message": str(detail)})
    return out


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable entity",
    429: "Too many requests",
}


def problem_response(status_code: int, detail: str, *, errors=None, extra=None, headers=None) -> Response:
    body = {
        "type": "about:blank",
        "title": _TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return Response(without_nul(body), status=status_code, headers=headers, content_type=PROBLEM)


def without_nul(value):
    """``value`` with NUL characters in its strings replaced by U+FFFD.

    Error messages quote the offending input, and a NUL cannot be stored in PostgreSQL text or
    jsonb (the idempotency record keeps the answer), nor is it useful to show.
    """
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_nul(v) for v in value]
    return value


def has_nul(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def problem_exception_handler(exc, context):
    if isinstance(exc, Refusal):
        # A service said no: its problem document, and nothing of the request's transaction stays.
        set_rollback()
        problem = exc.problem()
        return problem_response(problem.status, problem.detail, errors=problem.errors, extra=problem.extra)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    elif isinstance(exc, (SuspiciousOperation, UnreadablePostError)):
        # e.g. too many form fields or files, a broken upload: the client's fault, never a 500
        exc = exceptions.ParseError(str(exc) or "The request could not be read.")
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 handler logs it
    headers = {k: v for k, v in response.headers.items() if k in {"WWW-Authenticate", "Retry-After", "Allow"}}
    errors = None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        detail = INVALID_FIELDS if errors else "Invalid request."
        status_code = 422 if response.status_code == 400 else response.status_code
        if isinstance(exc.detail, dict) and set(exc.detail) == {"non_field_errors"} and errors:
            detail = errors[0]["message"]
    elif isinstance(exc, exceptions.ParseError):
        status_code = 400
        detail = str(exc.detail)
    else:
        status_code = response.status_code
        detail = str(exc.detail) if hasattr(exc, "detail") else str(exc)
        if isinstance(exc, Unprocessable):
            errors = exc.errors
        if isinstance(exc, Conflict) and exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(int(exc.wait) + 1)
    return problem_response(status_code, detail, errors=errors, headers=headers)


def field_error(message: str, *, field: str | None, code: str = "invalid") -> exceptions.ValidationError:
    """A 422 problem naming one field (``lines[0].sku``) for input a view checks itself; a service
    refuses with a ``fulfillment.errors.Refusal`` instead, which the handler answers the same way."""
    error = exceptions.ErrorDetail(message, code=code)
    if not field:
        return exceptions.ValidationError({"non_field_errors": [error]})
    return exceptions.ValidationError({field: [error]})
