"""Row-level security: the database itself keeps tenants apart, even where the code forgets to.

The app connects as DATABASE_APP_ROLE (no BYPASSRLS); every tenant table has forced RLS with the
tenant-scope policy; the scope comes from the actor (fulfillment.tenancy.rls).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, ProgrammingError, connection, connections, transaction
from django.test import Client
from django.utils import timezone

from fulfillment import celery as celery_signals
from fulfillment.tenancy import rls
from fulfillment.tenancy.models import ApiKey, Tenant
from fulfillment.tenancy.scoping import TenantQuerySet
from fulfillment.tenancy.tests.factories import TenantFactory, staff_client, staff_with_token, tenant_with_key
from inventory.models import InboundShipment, Product, Warehouse
from inventory.tests import factories as inv
from orders.models import Order
from orders.tests.factories import order
from tests import test_tenant_isolation

pytestmark = pytest.mark.django_db

# The fixture "world": tenant A with one of everything (product, ASN, order, shipment, return, endpoint).
world = test_tenant_isolation.world


@pytest.fixture
def two_tenants():
    main, west = inv.warehouse("MAIN"), inv.warehouse("WEST")
    acme = TenantFactory(slug="acme", default_warehouse_code="MAIN")
    globex = TenantFactory(slug="globex", default_warehouse_code="WEST")
    for tenant, code in ((acme, "MAIN"), (globex, "WEST")):
        inv.product(tenant, "TEE")
        order(tenant, external_id=f"{tenant.slug}-1", lines=[("TEE", 1)], warehouse=code)
    return {"acme": acme, "globex": globex, "main": main, "west": west}


def _table_flags() -> dict[str, tuple[bool, bool, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
              AND EXISTS (SELECT 1 FROM pg_attribute a
                          WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
            """
        )
        return {name: (enabled, forced, policies) for name, enabled, forced, policies in cursor.fetchall()}


def test_every_tenant_table_has_forced_row_level_security_with_its_policy():
    flags = _table_flags()

    assert len(flags) >= 35
    assert {name: value for name, value in flags.items() if value != (True, True, 1)} == {}


def test_queries_run_as_the_app_role_which_cannot_bypass_row_level_security():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (settings.DATABASE_APP_ROLE, False, False)


def test_an_unscoped_queryset_returns_only_the_current_tenants_rows(two_tenants):
    acme = two_tenants["acme"]

    with rls.tenants(acme.pk):
        orders = list(Order.objects.all())  # deliberately unscoped
        products = list(Product.objects.values_list("tenant__slug", flat=True))

    assert [o.external_id for o in orders] == ["acme-1"]
    assert products == ["acme"]


def test_a_forgotten_scope_sees_no_tenant_row(two_tenants):
    with rls.use(rls.NONE):
        assert Order.objects.count() == 0
        assert Product.objects.count() == 0
        assert ApiKey.objects.count() == 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders_orderline")
            assert cursor.fetchone() == (0,)

    assert Order.objects.count() == 2  # the operator scope of the test still sees both


def test_a_write_outside_the_scope_is_refused_and_changes_nothing(two_tenants):
    acme, globex = two_tenants["acme"], two_tenants["globex"]

    with rls.tenants(acme.pk), pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
        Product.objects.create(tenant=globex, sku="SNEAKY", name="Sneaky")
    with rls.tenants(acme.pk):
        renamed = Product.objects.filter(tenant=globex).update(name="Mine")
        deleted = Product.objects.filter(tenant=globex, sku="TEE").delete()[0]

    assert not Product.objects.filter(sku="SNEAKY").exists()
    assert (renamed, deleted) == (0, 0)
    assert Product.objects.get(tenant=globex).name != "Mine"
    assert Product.objects.filter(tenant=globex).count() == 1


def test_staff_see_the_tenants_of_their_warehouses_only(two_tenants):
    user, _ = staff_with_token(username="west-manager", warehouse=two_tenants["west"])
    from fulfillment.tenancy.actor import Actor

    scope = rls.actor_scope(Actor(kind="staff", user_id=user.pk, role="manager"))

    assert scope == rls.Scope.of_tenants([two_tenants["globex"].pk])
    with rls.use(scope):
        assert list(Order.objects.values_list("external_id", flat=True)) == ["globex-1"]


def test_staff_of_no_warehouse_see_no_tenant():
    TenantFactory(slug="acme", default_warehouse_code="MAIN")
    inv.warehouse("MAIN")
    user, _ = staff_with_token(username="nobody")
    from fulfillment.tenancy.actor import Actor

    assert rls.actor_scope(Actor(kind="staff", user_id=user.pk, role="manager")) == rls.NONE


def test_an_operator_admin_has_the_operator_scope():
    from fulfillment.tenancy.actor import Actor

    assert rls.actor_scope(Actor(kind="staff", user_id=1, role="admin")) == rls.OPERATOR


@pytest.mark.django_db(transaction=True)
def test_with_every_app_filter_forgotten_the_database_still_keeps_tenants_apart(world, monkeypatch, api_as):
    """The access matrix with ``visible_to`` reduced to ``all()``: only row-level security is left."""
    a, b, ids = world
    monkeypatch.setattr(TenantQuerySet, "visible_to", lambda self, actor: self.all())
    west_wh = inv.warehouse("WEST")
    _, manager_token = staff_with_token(username="west", warehouse=west_wh)
    _, associate_token = staff_with_token(username="west-floor", role="associate", warehouse=west_wh)
    west_staff = [api_as(manager_token), api_as(associate_token)]

    for resource, object_id in ids.items():
        assert b.get(f"/api/v1/{resource}/{object_id}/").status_code == 404, resource
        assert object_id not in b.get(f"/api/v1/{resource}/").content.decode(), resource
        if resource != "webhook-endpoints":  # a merchant-only resource
            for west in west_staff:
                assert west.get(f"/api/v1/{resource}/{object_id}/").status_code in (403, 404), resource
                assert object_id not in west.get(f"/api/v1/{resource}/").content.decode(), resource
        assert a.get(f"/api/v1/{resource}/{object_id}/").status_code == 200, resource
    assert b.get("/api/v1/inventory/").json()["results"] == []
    for west in west_staff:
        assert west.get("/api/v1/inventory/").json()["results"] == []


@pytest.mark.django_db(transaction=True)
def test_pages_of_a_manager_of_another_warehouse_show_no_tenant_row(world, monkeypatch):
    monkeypatch.setattr(TenantQuerySet, "visible_to", lambda self, actor: self.all())
    client = staff_client("west-mgr", "manager", inv.warehouse("WEST"))
    main = staff_client("main-mgr", "manager", Warehouse.objects.get(code="MAIN"))
    shipped = Order.objects.get()

    for path in ("/", "/orders/", "/orders/exceptions/", "/orders/?export=csv"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert shipped.number not in response.content.decode(), path
    assert client.get(f"/orders/{shipped.pk}/").status_code == 404
    asn = InboundShipment.objects.get()
    associate = staff_client("west-floor", "associate", Warehouse.objects.get(code="WEST"))
    main_floor = staff_client("main-floor", "associate", Warehouse.objects.get(code="MAIN"))
    assert associate.get(f"/handheld/receive/{asn.pk}/").status_code == 404
    assert main_floor.get(f"/handheld/receive/{asn.pk}/").status_code == 200
    assert shipped.number in main.get(f"/orders/{shipped.pk}/").content.decode()


def _pages() -> list[str]:
    """Every page without a path argument (the API, admin and the log-in pages left out)."""
    from django.urls import URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    skipped = ("api/", "admin/", "login/", "logout/", "healthz", "favicon.ico")
    return sorted(
        "/" + route for route in walk(get_resolver().url_patterns) if "<" not in route and not route.startswith(skipped)
    )


@pytest.mark.django_db(transaction=True)
def test_no_page_shows_a_tenant_row_to_staff_of_another_warehouse_or_another_merchant(world, monkeypatch):
    """Every page, opened by a manager and an associate of another warehouse and by another
    merchant's portal user, with every app filter forgotten: none shows tenant A's rows."""
    from fulfillment.tenancy.services import merchant_user_create

    _, _, ids = world
    monkeypatch.setattr(TenantQuerySet, "visible_to", lambda self, actor: self.all())
    west = inv.warehouse("WEST")
    shipped = Order.objects.get()
    # A fee's id is a small integer that any page holds as digits: the invoice's id stands for billing.
    secrets = [value for resource, value in ids.items() if resource != "fees"] + [shipped.number, shipped.external_id]
    bob = Client()
    bob.force_login(
        merchant_user_create(tenant=Tenant.objects.get(slug="bob"), username="bob-web", password="pw-123456789")
    )
    visitors = {
        "manager of WEST": staff_client("west-mgr", "manager", west),
        "associate of WEST": staff_client("west-floor", "associate", west),
        "merchant bob": bob,
    }
    pages = _pages()
    assert len(pages) > 20  # the walk found the pages

    opened = 0
    for who, client in visitors.items():
        for path in pages:
            response = client.get(path)
            assert response.status_code < 500, (who, path)
            if response.status_code == 200:
                opened += 1
                body = response.content.decode()
                assert not [s for s in secrets if s in body], (who, path)
    assert opened >= len(pages)  # each page opened by somebody (others are refused or redirected)


def test_a_task_runs_in_the_scope_it_was_queued_in(two_tenants):
    acme = two_tenants["acme"]
    headers: dict = {}
    with rls.tenants(acme.pk):
        celery_signals._carry_scope(headers=headers)

    class Request:
        is_eager = False
        rls_scope = headers["rls_scope"]

    class Task:
        request = Request()

    with rls.use(rls.NONE):
        celery_signals._enter_scope(task_id="t-1", task=Task())
        inside = rls.current()
        seen = list(Order.objects.values_list("external_id", flat=True))
        celery_signals._leave_scope(task_id="t-1")
        after = rls.current()

    assert inside == rls.Scope.of_tenants([acme.pk])
    assert seen == ["acme-1"]
    assert after == rls.NONE


def test_a_task_queued_without_a_scope_runs_with_none(two_tenants):
    class Request:
        is_eager = False

    class Task:
        request = Request()

    with rls.use(rls.NONE):
        celery_signals._enter_scope(task_id="t-2", task=Task())
        assert Order.objects.count() == 0
        celery_signals._leave_scope(task_id="t-2")


def test_a_periodic_sweep_takes_the_operator_scope_itself(two_tenants):
    from orders.tasks import sweep_unallocated_orders

    Order.objects.update(updated_at=timezone.now() - timedelta(minutes=5))  # waiting long enough
    with rls.use(rls.NONE):
        swept = sweep_unallocated_orders()

    assert swept == 2  # both tenants' unallocated orders, though it started with no scope


def test_a_merchant_request_runs_in_its_tenants_scope(api_as, monkeypatch):
    acme, key = tenant_with_key(slug="acme")
    TenantFactory(slug="globex")
    seen = []
    from orders.api import views

    original = views.OrderViewSet.list

    def spy(self, request, *args, **kwargs):
        seen.append(rls.current())
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(views.OrderViewSet, "list", spy)

    assert api_as(key).get("/api/v1/orders/").status_code == 200
    assert seen == [rls.Scope.of_tenants([acme.pk])]
    assert rls.current() == rls.OPERATOR  # the test's own scope is back after the request


def test_a_server_without_the_app_role_refuses_to_connect_and_never_runs_as_the_login_user(settings):
    settings.DATABASE_APP_ROLE = "fulfillment_no_such_role"
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        for _attempt in range(2):  # the second try must not reuse the half-made connection
            with pytest.raises(OperationalError, match=r'"fulfillment_no_such_role".*manage.py migrate'):
                other.cursor()
            assert other.connection is None
    finally:
        other.close()
