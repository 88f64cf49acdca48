"""Receipts per parcel (a return may arrive in several) with a graded condition. Lines received
before keep their totals and get one receipt each: the old free-text condition becomes a grade
when it is one, else ``opened`` with the words kept as the note."""

import django.db.models.deletion
from django.db import migrations, models

from fulfillment.tenancy.rls import EnableTenantRLS

GRADES = {"new", "opened", "damaged", "defective"}


def forwards(apps, schema_editor):
    ReturnLine = apps.get_model("returns", "ReturnLine")
    ReturnReceipt = apps.get_model("returns", "ReturnReceipt")
    receipts = []
    for line in ReturnLine.objects.filter(received_quantity__gt=0).select_related("rma").iterator():
        words = (line.condition or "").strip()
        grade = words.lower() if words.lower() in GRADES else "opened"
        receipts.append(
            ReturnReceipt(
                tenant_id=line.tenant_id,
                rma_id=line.rma_id,
                line_id=line.pk,
                quantity=line.received_quantity,
                grade=grade,
                disposition=line.disposition or "quarantine",
                note="" if grade == words.lower() else words[:200],
                received_at=line.rma.received_at or line.rma.updated_at,
            )
        )
        if grade != words.lower():
            line.condition = grade
            line.save(update_fields=["condition"])
    ReturnReceipt.objects.bulk_create(receipts, batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0011_warehouse_address'),
        ('returns', '0003_return_policy'),
        ('tenancy', '0006_shopper_email_opt_out'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReturnReceipt',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('quantity', models.PositiveIntegerField()),
                ('grade', models.CharField(choices=[('new', 'New'), ('opened', 'Opened'), ('damaged', 'Damaged'), ('defective', 'Defective')], max_length=20)),
                ('disposition', models.CharField(choices=[('restock', 'Restock'), ('quarantine', 'Quarantine'), ('dispose', 'Dispose')], max_length=20)),
                ('note', models.CharField(blank=True, default='', help_text="The inspector's words", max_length=200)),
                ('received_at', models.DateTimeField()),
                ('actor', models.CharField(blank=True, default='', max_length=100)),
                ('line', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='receipts', to='returns.returnline')),
                ('location', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='inventory.location')),
                ('rma', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='receipts', to='returns.return')),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.tenant')),
            ],
            options={
                'ordering': ['received_at', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('quantity__gt', 0)), name='return_receipt_quantity_positive')],
            },
        ),
        EnableTenantRLS("returns_returnreceipt"),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
