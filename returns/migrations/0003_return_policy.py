"""Each merchant's return policy (row-level security like every tenant table)."""

import django.db.models.deletion
from django.db import migrations, models

from fulfillment.tenancy.rls import EnableTenantRLS


class Migration(migrations.Migration):

    dependencies = [
        ('returns', '0002_row_level_security'),
        ('tenancy', '0006_shopper_email_opt_out'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReturnPolicy',
            fields=[
                ('tenant', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='tenancy.tenant')),
                ('window_days', models.PositiveIntegerField(default=30)),
                ('non_returnable_skus', models.JSONField(blank=True, default=list)),
                ('restocking_fee_percent', models.DecimalField(decimal_places=2, default=0, max_digits=5)),
                ('return_shipping_fee', models.DecimalField(decimal_places=2, default=0, max_digits=10)),
                ('free_exchanges', models.BooleanField(default=True)),
                ('resolutions', models.JSONField(blank=True, default=list)),
                ('reasons', models.JSONField(blank=True, default=list)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('updated_by', models.CharField(blank=True, default='', max_length=100)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('window_days__lte', 3650)), name='return_policy_window_at_most_ten_years'), models.CheckConstraint(condition=models.Q(('restocking_fee_percent__gte', 0), ('restocking_fee_percent__lte', 100)), name='return_policy_restocking_fee_percent'), models.CheckConstraint(condition=models.Q(('return_shipping_fee__gte', 0)), name='return_policy_shipping_fee')],
            },
        ),
        EnableTenantRLS("returns_returnpolicy"),
    ]
