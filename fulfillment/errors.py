"""Refusals: a business rule that says no.

A service raises a ``Refusal`` (or an app's subclass of it) with a ``code`` naming the rule, a
``message`` saying why and the HTTP ``status`` that answers it (422 refused input, 409 a conflict
with the current state, 404 nothing to act on, 413 too large). Interfaces do not catch it to
translate it: the API's exception handler (fulfillment.api.errors) answers ``problem()`` as a
problem document, and a page shows it with ``refusal_shown`` (below).

This is the kernel's lowest layer: every app may import it, and it imports no app.
"""

from __future__ import annotations

from typing import NamedTuple

from django.contrib import messages
from django.http import Http404

# The API's detail for a validation error that names fields (a serializer's, or a refusal's).
INVALID_FIELDS = "The request has invalid fields."


class Problem(NamedTuple):
    """What the API answers for a refusal: status, detail, errors (None: no such key) and extra keys."""

    status: int
    detail: str
    errors: list[dict] | None = None
    extra: dict | None = None


class Refusal(Exception):
    """A refused action. ``field`` names the input at fault, ``errors`` the fields at fault
    ([{field, code, message}]); ``extra`` adds keys to the problem document (e.g. the id of the
    existing object a duplicate collides with); ``detail`` words the problem document when it must
    not be the message."""

    status: int = 422
    code: str = "invalid"
    detail: str | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        field: str | None = None,
        errors: list[dict] | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code
        self.status = status or type(self).status
        self.field = field
        self.errors = errors or []
        self.extra = extra or {}

    def problem(self) -> Problem:
        """The message as detail; ``errors`` always at 422 (perhaps empty), else only when there are some."""
        errors = self.errors if self.errors or self.status == 422 else None
        return Problem(self.status, self.detail or self.message, errors, self.extra)

    def field_messages(self) -> list[tuple[str | None, str]]:
        """(field, message) for a page's form: one per error, else the one ``field`` (None: the whole form)."""
        if self.errors:
            return [(error.get("field"), error["message"]) for error in self.errors]
        return [(self.field, self.message)]


class FieldRefusal(Refusal):
    """Refused input, answered at 422 as a serializer's validation error is: ``errors`` name the
    fields (else the one ``field``, or none), and the detail is DRF's wording when a field is named."""

    def problem(self) -> Problem:
        if self.status != 422:
            return super().problem()
        errors = self.errors or [{"field": self.field, "code": self.code, "message": self.message}]
        detail = INVALID_FIELDS if any(error["field"] for error in errors) else self.message
        return Problem(422, detail, errors, self.extra)


class refusal_shown:  # noqa: N801 - used as a context manager, like contextlib.suppress
    """The page helper: a refusal raised in the ``with`` block is caught and shown, and the page goes on
    after the block.

    - with ``request``: as an error message (``prefix`` + message + ``suffix``), for a page that redirects;
    - with ``form``: as errors of the form's fields (the form's own when it has no such field);
    - with neither: kept as ``refusal`` for the page to render (``if refused:``).

    A 404 refusal is the page's 404 whichever way the page shows the others.
    """

    def __init__(self, request=None, *, form=None, prefix: str = "", suffix: str = ""):
        self.request = request
        self.form = form
        self.prefix = prefix
        self.suffix = suffix
        self.refusal: Refusal | None = None

    def __enter__(self) -> refusal_shown:
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if not isinstance(exc, Refusal):
            return False
        if exc.status == 404:
            raise Http404(exc.message) from None
        self.refusal = exc
        if self.request is not None:
            messages.error(self.request, f"{self.prefix}{exc.message}{self.suffix}")
        if self.form is not None:
            for field, message in exc.field_messages():
                name = (field or "").split("[", 1)[0]  # lines[0].sku and events[2] are fields of the form
                self.form.add_error(name if name in self.form.fields else None, message)
        return True

    def __bool__(self) -> bool:
        return self.refusal is not None


def sentence(text: str) -> str:
    """``text`` ending with a full stop, as a page shows a service's message (which has none)."""
    return text if text.endswith((".", "!", "?")) else f"{text}."
