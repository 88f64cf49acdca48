"""The database itself refuses to change or remove a stock movement.

(TRUNCATE stays possible: it is how a test database is emptied, and needs table ownership.)
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION inventory_movement_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stock movements are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER inventory_movement_no_update_delete
    BEFORE UPDATE OR DELETE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_movement_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS inventory_movement_no_update_delete ON inventory_stockmovement;
DROP FUNCTION IF EXISTS inventory_movement_append_only();
"""


def forward(apps, schema_editor):
    schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_depth")]
    operations = [migrations.RunPython(forward, backward)]
