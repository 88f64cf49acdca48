"""Packing materials as operator stock (materials, balances per warehouse, an append-only ledger,
low-stock alerts) and per-merchant insert rules (a tenant table: row-level security).

Depends on 0004; a branch that adds another 0005 re-points this onto it.
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models

from fulfillment.tenancy.rls import EnableTenantRLS

# The database itself refuses to change or remove a material movement (as inventory 0003 does for
# stock movements); TRUNCATE stays possible, it is how a test database is emptied.
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION packing_material_movement_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'material movements are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER packing_material_movement_no_update_delete
    BEFORE UPDATE OR DELETE ON packing_materialmovement
    FOR EACH ROW EXECUTE FUNCTION packing_material_movement_append_only();
"""

APPEND_ONLY_BACKWARD = """
DROP TRIGGER IF EXISTS packing_material_movement_no_update_delete ON packing_materialmovement;
DROP FUNCTION IF EXISTS packing_material_movement_append_only();
"""


def append_only(apps, schema_editor):
    schema_editor.execute(APPEND_ONLY, params=None)


def append_only_backward(apps, schema_editor):
    schema_editor.execute(APPEND_ONLY_BACKWARD, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0009_product_packing_rules'),
        ('packing', '0005_pack_sessions'),
        ('tenancy', '0004_row_level_security'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='box',
            name='void_fill_per_package',
            field=models.PositiveSmallIntegerField(default=0, help_text='Units of the void fill material a package in this box uses'),
        ),
        migrations.CreateModel(
            name='Material',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('code', models.CharField(max_length=30, unique=True)),
                ('name', models.CharField(max_length=100)),
                ('kind', models.CharField(choices=[('box', 'Box'), ('mailer', 'Mailer'), ('poly', 'Poly'), ('void_fill', 'Void Fill'), ('tape', 'Tape'), ('other', 'Other')], max_length=10)),
                ('unit_cost', models.DecimalField(decimal_places=4, default=0, max_digits=10)),
                ('currency', models.CharField(default='USD', max_length=3)),
                ('reorder_point', models.PositiveIntegerField(default=0, help_text='At or below this on hand, an alert is raised')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('box', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='material', to='packing.box')),
            ],
            options={
                'ordering': ['code'],
            },
        ),
        migrations.CreateModel(
            name='MaterialAlert',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('on_hand', models.IntegerField(help_text='On hand when the alert was raised')),
                ('reorder_point', models.PositiveIntegerField()),
                ('message', models.CharField(max_length=200)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('resolved_at', models.DateTimeField(blank=True, null=True)),
                ('material', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='packing.material')),
                ('warehouse', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inventory.warehouse')),
            ],
            options={
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='MaterialBalance',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('on_hand', models.IntegerField(default=0)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('material', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='balances', to='packing.material')),
                ('warehouse', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='material_balances', to='inventory.warehouse')),
            ],
        ),
        migrations.CreateModel(
            name='MaterialMovement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('quantity_delta', models.IntegerField()),
                ('reason', models.CharField(choices=[('received', 'Received'), ('consumed', 'Consumed'), ('adjusted', 'Adjusted'), ('counted', 'Counted')], max_length=10)),
                ('reference', models.CharField(blank=True, help_text='e.g. the order number, a delivery note', max_length=100)),
                ('actor', models.CharField(blank=True, max_length=100)),
                ('note', models.CharField(blank=True, max_length=200)),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('material', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='movements', to='packing.material')),
                ('package', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='packing.package')),
                ('shipment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='packing.shipment')),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('warehouse', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='inventory.warehouse')),
            ],
            options={
                'ordering': ['-at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='InsertRule',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('quantity', models.PositiveIntegerField(default=1)),
                ('when', models.CharField(choices=[('always', 'Always'), ('first_order', 'First Order')], default='always', max_length=20)),
                ('active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='inventory.product')),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.tenant')),
            ],
            options={
                'ordering': ['created_at', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('quantity__gt', 0)), name='insert_rule_quantity_positive')],
            },
        ),
        migrations.AddConstraint(
            model_name='material',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'void_fill')), fields=('kind',), name='material_one_void_fill'),
        ),
        migrations.AddConstraint(
            model_name='materialalert',
            constraint=models.UniqueConstraint(condition=models.Q(('resolved_at__isnull', True)), fields=('warehouse', 'material'), name='material_one_open_alert'),
        ),
        migrations.AddConstraint(
            model_name='materialbalance',
            constraint=models.UniqueConstraint(fields=('warehouse', 'material'), name='material_balance_unique'),
        ),
        migrations.AddIndex(
            model_name='materialmovement',
            index=models.Index(fields=['warehouse', 'material', 'at'], name='packing_mat_warehou_d2482e_idx'),
        ),
        migrations.AddConstraint(
            model_name='materialmovement',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('quantity_delta', 0), _negated=True), ('reason', 'counted'), _connector='OR'), name='material_movement_not_zero'),
        ),
        migrations.RunPython(append_only, append_only_backward),
        EnableTenantRLS("packing_insertrule"),
    ]
