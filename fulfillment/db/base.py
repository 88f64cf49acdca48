"""PostgreSQL, with every connection running as the non-superuser app role and its tenant scope.

Whatever user the settings name, a connection switches to ``DATABASE_APP_ROLE`` (no BYPASSRLS)
as soon as it opens, so that row-level security applies to every query of web, workers and
commands. Before each query the connection carries the scope of the code running now
(``fulfillment.tenancy.rls``): the setting is re-sent only when the scope changed, and again after
a rollback, which undoes a ``set_config`` made inside the rolled-back transaction.

The owner connection (``owner = True``: migrations, test database set-up, flush) keeps the user of
the settings and the operator scope.
"""

from __future__ import annotations

from django.conf import settings
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg import OperationalError, errors, pq

from fulfillment.tenancy import rls


class DatabaseWrapper(base.DatabaseWrapper):
    owner = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._scope_sent: rls.Scope | None = None

    @property
    def runs_as_owner(self) -> bool:
        # The "no database" connection creates and drops the test database: an owner's job.
        return self.owner or self.alias == NO_DB_ALIAS

    def connect(self) -> None:
        try:
            super().connect()
        except BaseException:
            # A connection that did not become the app role must never serve a query: without
            # this, Django would keep the half-configured connection and use it as the login user.
            if self.connection is not None:
                try:
                    self.connection.close()
                finally:
                    self.connection = None
            raise

    def _configure_role(self, connection) -> bool:
        self._scope_sent = None
        if self.runs_as_owner:
            return super()._configure_role(connection)
        role = settings.DATABASE_APP_ROLE
        with connection.cursor() as cursor:
            try:
                cursor.execute(f"SET ROLE {self.ops.quote_name(role)}")
            except errors.InvalidParameterValue as error:
                raise OperationalError(
                    f'the app role "{role}" (DATABASE_APP_ROLE) does not exist on this server yet: '
                    '"python manage.py migrate" creates it'
                ) from error
        return True

    def _cursor(self, name=None):
        cursor = super()._cursor(name)
        scope = rls.OPERATOR if self.runs_as_owner else rls.current()
        # Never inside a failed transaction: the rollback that follows must be able to run.
        if scope != self._scope_sent and self.connection is not None and not self._in_failed_transaction():
            with self.wrap_database_errors, self.connection.cursor() as raw:
                raw.execute(rls.SET_SCOPE_SQL, rls.scope_params(scope))
            self._scope_sent = scope
        return cursor

    def _in_failed_transaction(self) -> bool:
        return self.connection.info.transaction_status == pq.TransactionStatus.INERROR

    def _rollback(self) -> None:
        self._scope_sent = None
        super()._rollback()

    def _savepoint_rollback(self, sid) -> None:
        super()._savepoint_rollback(sid)
        self._scope_sent = None

    def _close(self) -> None:
        self._scope_sent = None
        super()._close()
