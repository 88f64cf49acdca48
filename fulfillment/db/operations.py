"""Migration operations of the project's own (row-level security's is fulfillment.tenancy.rls)."""

from __future__ import annotations

from django.db import migrations


class RefuseUpdateDelete(migrations.operations.base.Operation):
    """The database itself refuses UPDATE and DELETE on a table: an append-only ledger, an issued
    document. A row trigger raises ``restrict_violation`` with ``message``, the operation and the
    table. TRUNCATE stays possible: it is how a test database is emptied, and needs ownership.

    Put it in the migration that creates the table (``RefuseUpdateDelete("app_model", "...")``).
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, table: str, message: str) -> None:
        self.table = table
        self.message = message

    def state_forwards(self, app_label, state) -> None:
        pass

    def _names(self, schema_editor) -> tuple[str, str, str]:
        quote = schema_editor.quote_name
        return quote(self.table), quote(f"{self.table}_refuse_changes"), quote(f"{self.table}_no_update_delete")

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        table, function, trigger = self._names(schema_editor)
        message = self.message.replace("'", "''").replace("%", "%%")
        schema_editor.execute(
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{message}: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql""",
            params=None,
        )
        schema_editor.execute(
            f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()",
            params=None,
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        table, function, trigger = self._names(schema_editor)
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}", params=None)
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()", params=None)

    def describe(self) -> str:
        return f"Refuse UPDATE and DELETE on {self.table}"

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.table, self.message], {})
