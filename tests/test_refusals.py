"""The kernel's refusal: its problem document (the API's exception handler) and refusal_shown (pages)."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import Http404
from django.test import RequestFactory

from fulfillment.api.errors import problem_exception_handler
from fulfillment.errors import FieldRefusal, Refusal, refusal_shown


def _problem(exc) -> tuple[int, str, dict]:
    response = problem_exception_handler(exc, {})
    return response.status_code, response.content_type, response.data


def _request():
    request = RequestFactory().post("/somewhere/")
    request._messages = CookieStorage(request)
    return request


class _Form(forms.Form):
    url = forms.CharField()
    events = forms.CharField()


def test_a_refusal_is_answered_with_its_status_message_and_extra_keys():
    refused = Refusal("the same file is being imported", status=409, code="in_progress", extra={"existing_id": "7"})

    assert _problem(refused) == (
        409,
        "application/problem+json",
        {
            "type": "about:blank",
            "title": "Conflict",
            "status": 409,
            "detail": "the same file is being imported",
            "existing_id": "7",
        },
    )


def test_a_422_refusal_always_lists_its_errors_even_none():
    named = Refusal("bad lines", errors=[{"field": "lines[0].sku", "code": "unknown_sku", "message": "unknown"}])

    assert _problem(named)[2]["errors"] == [{"field": "lines[0].sku", "code": "unknown_sku", "message": "unknown"}]
    assert _problem(named)[2]["detail"] == "bad lines"
    assert _problem(Refusal("no"))[2]["errors"] == []


def test_a_field_refusal_reads_like_a_serializers_validation_error():
    named = FieldRefusal("unknown SKU X", field="sku", code="unknown_sku")
    unnamed = FieldRefusal("no warehouse is configured", code="no_warehouse")

    assert _problem(named)[2] == {
        "type": "about:blank",
        "title": "Unprocessable entity",
        "status": 422,
        "detail": "The request has invalid fields.",
        "errors": [{"field": "sku", "code": "unknown_sku", "message": "unknown SKU X"}],
    }
    assert _problem(unnamed)[2]["detail"] == "no warehouse is configured"
    assert _problem(unnamed)[2]["errors"] == [
        {"field": None, "code": "no_warehouse", "message": "no warehouse is configured"}
    ]
    assert "errors" not in _problem(FieldRefusal("taken", field="sku", status=409))[2]


def test_a_refusal_on_a_page_becomes_its_message_and_the_page_goes_on():
    request = _request()
    after = []

    with refusal_shown(request, prefix="Not retried: ", suffix=".") as refused:
        raise Refusal("the endpoint is disabled", status=409)
    after.append("went on")

    assert refused and refused.refusal.code == "invalid"
    assert [str(m) for m in get_messages(request)] == ["Not retried: the endpoint is disabled."]
    assert after == ["went on"]


def test_a_refusal_on_a_form_page_puts_its_errors_on_the_fields():
    form = _Form({"url": "x", "events": "y"})
    assert form.is_valid()
    errors = [
        {"field": "events[1]", "code": "invalid_choice", "message": "unknown event"},
        {"field": "secret", "code": "invalid", "message": "not on this form"},
    ]

    with refusal_shown(form=form):
        raise Refusal("unknown event types", errors=errors)

    assert form.errors == {"events": ["unknown event"], "__all__": ["not on this form"]}


def test_a_404_refusal_is_the_pages_404_and_other_errors_pass_through():
    with pytest.raises(Http404), refusal_shown(_request()):
        raise Refusal("no such endpoint", status=404)
    with pytest.raises(KeyError), refusal_shown(_request()):
        raise KeyError("not a refusal")
    with refusal_shown() as refused:
        pass
    assert not refused
