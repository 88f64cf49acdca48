"""Row-level security: the tenant scope of the code running now, and the policy every tenant table has.

Every table with a ``tenant_id`` column has row-level security enabled and forced, with one policy:
a row is visible (and writable) when its tenant is in the scope of the connection's current
transaction, or when the connection runs in the operator scope. The app connects as
``DATABASE_APP_ROLE``, a role without BYPASSRLS (``fulfillment.db.base``), so a query that forgot
its tenant filter sees only the tenants in scope, and a connection with no scope sees no tenant row.

The scope follows the actor, set once at each entry point:

- a request: the authenticated merchant's tenant; a staff member: the tenants of the warehouses
  they work in (``settings.RLS_STAFF_TENANTS`` names the resolver); an operator admin: operator
  (``RlsScopeMiddleware`` for sessions, ``BearerKeyAuthentication`` for keys and tokens);
- a Celery task: the scope it was queued in, carried in a message header (``fulfillment.celery``);
- a periodic sweep or a management command that must see every tenant: ``operator()``, explicitly.

The scope lives in a context variable, so threads and requests never share one; the database
backend sends it with ``set_config`` before a query whenever it differs from what the connection has.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import migrations


@dataclass(frozen=True)
class Scope:
    operator: bool = False
    tenants: frozenset[str] = frozenset()

    @classmethod
    def of_tenants(cls, tenant_ids: Iterable[object]) -> Scope:
        return cls(tenants=frozenset(str(tenant_id) for tenant_id in tenant_ids))

    def as_header(self) -> dict:
        return {"operator": self.operator, "tenants": sorted(self.tenants)}

    @classmethod
    def from_header(cls, value: dict) -> Scope:
        if value.get("operator"):
            return OPERATOR
        return cls.of_tenants(value.get("tenants") or ())


NONE = Scope()
OPERATOR = Scope(operator=True)

_current: contextvars.ContextVar[Scope] = contextvars.ContextVar("fulfillment_rls_scope", default=NONE)

SET_SCOPE_SQL = "SELECT set_config('fulfillment.operator', %s, false), set_config('fulfillment.tenants', %s, false)"


def scope_params(scope: Scope) -> tuple[str, str]:
    return ("on" if scope.operator else "", ",".join(sorted(scope.tenants)))


def current() -> Scope:
    return _current.get()


def enter(scope: Scope) -> contextvars.Token:
    """Make ``scope`` current until ``leave(token)`` (or the end of the request or task)."""
    return _current.set(scope)


def leave(token: contextvars.Token) -> None:
    _current.reset(token)


@contextmanager
def use(scope: Scope) -> Iterator[Scope]:
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


def operator() -> contextmanager:
    """Every tenant's rows: for sweeps, commands and the lookups that find the actor itself."""
    return use(OPERATOR)


def tenants(*tenant_ids: object) -> contextmanager:
    return use(Scope.of_tenants(tenant_ids))


def actor_scope(actor) -> Scope:
    """The scope of an actor (``fulfillment.tenancy.actor.Actor``); None or an unknown kind: nothing."""
    if actor is None:
        return NONE
    if actor.is_merchant:
        return Scope.of_tenants([actor.tenant_id])
    if actor.is_staff:
        if actor.sees_all_warehouses:
            return OPERATOR
        from django.conf import settings
        from django.utils.module_loading import import_string

        with operator():
            return Scope.of_tenants(list(import_string(settings.RLS_STAFF_TENANTS)(user_id=actor.user_id)))
    return NONE


# The policy. ``current_setting(..., true)`` is NULL when never set, which matches nothing.
POLICY_USING = (
    "current_setting('fulfillment.operator', true) = 'on' "
    "OR tenant_id = ANY (string_to_array(current_setting('fulfillment.tenants', true), ',')::uuid[])"
)


class EnableTenantRLS(migrations.operations.base.Operation):
    """Enable and force row-level security on a tenant table, with the tenant-scope policy.

    Put it in the migration that creates the table (``EnableTenantRLS("app_model")``).
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, table: str) -> None:
        self.table = table

    def state_forwards(self, app_label, state) -> None:
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        table = schema_editor.quote_name(self.table)
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        schema_editor.execute(
            f"CREATE POLICY tenant_scope ON {table} USING ({POLICY_USING}) WITH CHECK ({POLICY_USING})"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        table = schema_editor.quote_name(self.table)
        schema_editor.execute(f"DROP POLICY IF EXISTS tenant_scope ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self) -> str:
        return f"Row-level security on {self.table}"

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.table], {})


def grant_app_role(connection, role: str) -> None:
    """Create the app role if missing (no login, no BYPASSRLS) and grant it what the app needs.

    Run by ``migrate`` as the owner; idempotent. Default privileges cover tables created later.
    """
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE ROLE {quoted} NOLOGIN NOSUPERUSER NOBYPASSRLS")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            cursor.execute(f"GRANT {quoted} TO current_user")  # so that the owner may SET ROLE to it
        for statement in (
            "GRANT USAGE ON SCHEMA public TO {r}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
            "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {r}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {r}",
        ):
            cursor.execute(statement.format(r=quoted))


def in_operator_scope(func):
    """A periodic sweep (Celery beat) or a command that works across every tenant, explicitly."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with operator():
            return func(*args, **kwargs)

    return wrapper
