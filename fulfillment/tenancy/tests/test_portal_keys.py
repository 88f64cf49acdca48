"""Merchant portal API keys (shown once, revoked with a confirmation) and the create_merchant_user command."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from fulfillment.tenancy.authentication import merchant_actor_for_user
from fulfillment.tenancy.models import ApiKey, MerchantMembership
from fulfillment.tenancy.services import api_key_create, merchant_user_create
from fulfillment.tenancy.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

KEYS = "/portal/api-keys/"
PASSWORD = "pass-word-123"
# Any merchant endpoint that a valid key may read.
PROBE = "/api/v1/webhook-endpoints/"

# ``acme`` and ``merchant_client`` (logged in as acme-web) come from the root conftest.py.


def _raw_key(response) -> str:
    return re.search(r'<code class="secret" id="raw-key">(fk_[^<]+)</code>', response.content.decode()).group(1)


def test_created_key_is_shown_once_and_works(merchant_client, acme, api_as):
    created = merchant_client.post(KEYS, {"name": "Shopify sync"}, follow=True)

    assert created.redirect_chain == [("/portal/api-keys/created/", 302)]
    assert created["Cache-Control"] == "no-store"
    raw = _raw_key(created)
    key = ApiKey.objects.get()
    assert (key.tenant_id, key.name, raw.split("_")[1]) == (acme.pk, "Shopify sync", key.prefix)
    assert api_as(raw).get(PROBE).status_code == 200
    # Never again: not on a second visit, not in the list.
    again = merchant_client.get("/portal/api-keys/created/", follow=True)
    listing = merchant_client.get(KEYS).content.decode()
    assert raw not in again.content.decode() and raw not in listing
    assert "shown only once" in again.content.decode()
    assert f'data-prefix="{key.prefix}"' in listing and "Shopify sync" in listing


def test_list_shows_last_use_and_only_the_tenants_keys(merchant_client, acme, api_as):
    mine, raw = api_key_create(tenant=acme, name="erp")
    theirs, _ = api_key_create(tenant=TenantFactory(slug="globex"), name="theirs")
    api_as(raw).get(PROBE)

    html = merchant_client.get(KEYS).content.decode()

    assert f'data-prefix="{mine.prefix}"' in html and f'data-prefix="{theirs.prefix}"' not in html
    mine.refresh_from_db()
    assert mine.last_used_at is not None and "never" not in html


def test_name_too_long_is_a_form_error_and_creates_nothing(merchant_client):
    response = merchant_client.post(KEYS, {"name": "x" * 101})

    assert response.status_code == 422
    assert "Ensure this value has at most 100 characters" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_revoke_asks_first_then_the_key_gets_401(merchant_client, acme, api_as):
    key, raw = api_key_create(tenant=acme, name="old")
    url = f"{KEYS}{key.pk}/revoke/"

    confirm = merchant_client.get(url)
    key.refresh_from_db()
    assert confirm.status_code == 200 and "Revoke key" in confirm.content.decode()
    assert key.revoked_at is None and api_as(raw).get(PROBE).status_code == 200

    response = merchant_client.post(url)

    assert response.status_code == 302 and response["Location"] == KEYS
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api_as(raw).get(PROBE).status_code == 401


def test_other_tenants_key_cannot_be_revoked(merchant_client, api_as):
    theirs, raw = api_key_create(tenant=TenantFactory(slug="globex"))

    assert merchant_client.get(f"{KEYS}{theirs.pk}/revoke/").status_code == 404
    assert merchant_client.post(f"{KEYS}{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None and api_as(raw).get(PROBE).status_code == 200


def test_posts_without_a_csrf_token_are_refused(acme):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(merchant_user_create(tenant=acme, username="acme-web", password=PASSWORD))
    key, _ = api_key_create(tenant=acme)

    assert strict.post(KEYS, {"name": "x"}).status_code == 403
    assert strict.post(f"{KEYS}{key.pk}/revoke/").status_code == 403
    assert ApiKey.objects.count() == 1
    key.refresh_from_db()
    assert key.revoked_at is None


# -- create_merchant_user ----------------------------------------------------------------------


def _run(*args) -> list[str]:
    out = StringIO()
    call_command("create_merchant_user", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_create_merchant_user_prints_the_username_and_the_login_works(acme, client):
    lines = _run("acme-ops", "--tenant", "acme", "--password", PASSWORD)

    assert lines[-1] == "acme-ops"
    user = get_user_model().objects.get(username="acme-ops")
    assert merchant_actor_for_user(user).tenant_id == acme.pk
    assert client.login(username="acme-ops", password=PASSWORD)
    assert client.get("/portal/").status_code == 200


def test_create_merchant_user_refuses_unknown_tenant_short_password_and_taken_name(acme):
    get_user_model().objects.create_user("someone", password=PASSWORD)

    with pytest.raises(CommandError, match="unknown tenant 'nope'"):
        _run("a-user", "--tenant", "nope", "--password", PASSWORD)
    with pytest.raises(CommandError, match="at least 8"):
        _run("a-user", "--tenant", "acme", "--password", "short")
    with pytest.raises(CommandError, match="user 'someone' already exists"):
        _run("someone", "--tenant", "acme", "--password", PASSWORD)

    assert not MerchantMembership.objects.exists()
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["someone"]
