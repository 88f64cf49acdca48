from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from fulfillment.tenancy.authentication import resolve_bearer
from fulfillment.tenancy.models import ApiKey, Tenant

pytestmark = pytest.mark.django_db


def _run(*args, **options) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue().strip().splitlines()


def test_create_tenant_prints_a_working_api_key_last():
    lines = _run("create_tenant", "acme", "--name", "Acme Inc")

    tenant = Tenant.objects.get()
    assert (tenant.slug, tenant.name, tenant.default_warehouse_code) == ("acme", "Acme Inc", "")
    _principal, actor = resolve_bearer(lines[-1])
    assert (actor.kind, actor.tenant_id) == ("merchant", tenant.pk)


def test_create_tenant_with_a_warehouse_sets_the_default():
    _run("create_warehouse", "main", "--name", "Main", "--aisles", "1", "--bays", "1", "--levels", "1")

    _run("create_tenant", "acme", "--name", "Acme", "--warehouse", "main")

    assert Tenant.objects.get().default_warehouse_code == "MAIN"


def test_create_tenant_with_an_unknown_warehouse_creates_nothing():
    with pytest.raises(CommandError, match="unknown warehouse NOPE"):
        _run("create_tenant", "acme", "--name", "Acme", "--warehouse", "nope")

    assert not Tenant.objects.exists()
    assert not ApiKey.objects.exists()


def test_create_tenant_refuses_a_taken_slug_and_creates_nothing():
    _run("create_tenant", "acme", "--name", "Acme")

    with pytest.raises(CommandError, match="tenant 'acme' already exists"):
        _run("create_tenant", "acme", "--name", "Other")

    assert list(Tenant.objects.values_list("name", flat=True)) == ["Acme"]
    assert ApiKey.objects.count() == 1


@pytest.mark.parametrize(("slug", "name"), [("bad slug!", "Acme"), ("acme", "  ")])
def test_create_tenant_refuses_a_bad_slug_or_an_empty_name(slug, name):
    with pytest.raises(CommandError):
        _run("create_tenant", slug, "--name", name)

    assert not Tenant.objects.exists()


def test_create_api_key_prints_another_working_key_last():
    first = _run("create_tenant", "acme", "--name", "Acme")[-1]

    second = _run("create_api_key", "acme", "--name", "shopify")[-1]

    assert second != first
    tenant = Tenant.objects.get()
    assert resolve_bearer(second)[1].tenant_id == tenant.pk
    assert resolve_bearer(first)[1].tenant_id == tenant.pk
    assert sorted(ApiKey.objects.values_list("name", flat=True)) == ["first key", "shopify"]


def test_create_api_key_for_an_unknown_tenant_creates_nothing():
    with pytest.raises(CommandError, match="unknown tenant 'ghost'"):
        _run("create_api_key", "ghost")

    assert not ApiKey.objects.exists()
