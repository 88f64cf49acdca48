"""Tracking in karrio's words: any number of scans per shipment (status, the carrier's code, the
incident reason), and a tracking state per labelled shipment (the newest status, when to poll
next, what was flagged). Existing scans get the karrio status of their old code; every shipment
with a label and not delivered gets a state due for polling now."""

import django.db.models.deletion
from django.db import migrations, models

from fulfillment.tenancy.rls import EnableTenantRLS

OLD_CODES = {
    "label_created": "pending",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    "exception": "on_hold",
}
TRACKING_OF_SHIPMENT = {
    "label_purchased": "pending",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    "exception": "on_hold",
}


def forwards(apps, schema_editor):
    from django.utils import timezone

    TrackingEvent = apps.get_model("shipping", "TrackingEvent")
    TrackingState = apps.get_model("shipping", "TrackingState")
    Shipment = apps.get_model("packing", "Shipment")
    for old, status in OLD_CODES.items():
        TrackingEvent.objects.filter(code=old).update(status=status)
    now = timezone.now()
    states = [
        TrackingState(
            shipment_id=pk,
            tenant_id=tenant_id,
            status=TRACKING_OF_SHIPMENT.get(status, "unknown"),
            status_at=updated_at,
            last_news_at=updated_at or now,
            next_poll_at=None if status == "delivered" else now,
        )
        for pk, tenant_id, status, updated_at in Shipment.objects.filter(label_purchased_at__isnull=False)
        .exclude(status="packed")
        .values_list("pk", "tenant_id", "status", "updated_at")
        .iterator()
    ]
    TrackingState.objects.bulk_create(states, batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('packing', '0009_package_tracking_number'),
        ('shipping', '0007_purchase_estimated_delivery'),
        ('tenancy', '0005_branding'),
    ]

    operations = [
        migrations.CreateModel(
            name='TrackingState',
            fields=[
                ('shipment', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='tracking_state', serialize=False, to='packing.shipment')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('picked_up', 'Picked Up'), ('in_transit', 'In Transit'), ('out_for_delivery', 'Out For Delivery'), ('delivered', 'Delivered'), ('on_hold', 'On Hold'), ('delivery_delayed', 'Delivery Delayed'), ('delivery_failed', 'Delivery Failed'), ('ready_for_pickup', 'Ready For Pickup'), ('return_to_sender', 'Return To Sender'), ('cancelled', 'Cancelled'), ('unknown', 'Unknown')], default='pending', max_length=20)),
                ('status_at', models.DateTimeField(blank=True, help_text='When the newest scan happened', null=True)),
                ('reason', models.CharField(blank=True, default='', help_text='The newest incident, in words', max_length=200)),
                ('next_poll_at', models.DateTimeField(blank=True, null=True)),
                ('last_polled_at', models.DateTimeField(blank=True, null=True)),
                ('last_news_at', models.DateTimeField(help_text='The last time a scan was new (or the label was bought)')),
                ('poll_failures', models.PositiveIntegerField(default=0)),
                ('carrier_estimate', models.DateField(blank=True, null=True)),
                ('delayed_at', models.DateTimeField(blank=True, help_text='When it was found late (once)', null=True)),
                ('exception_at', models.DateTimeField(blank=True, help_text='When the order was put in exception', null=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RemoveConstraint(
            model_name='trackingevent',
            name='tracking_event_code_unique',
        ),
        migrations.AddField(
            model_name='trackingevent',
            name='reason',
            field=models.CharField(blank=True, default='', help_text="karrio's incident reason, if any", max_length=60),
        ),
        migrations.AddField(
            model_name='trackingevent',
            name='source',
            field=models.CharField(default='poll', help_text="poll, push (a carrier's) or manual", max_length=10),
        ),
        migrations.AddField(
            model_name='trackingevent',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('picked_up', 'Picked Up'), ('in_transit', 'In Transit'), ('out_for_delivery', 'Out For Delivery'), ('delivered', 'Delivered'), ('on_hold', 'On Hold'), ('delivery_delayed', 'Delivery Delayed'), ('delivery_failed', 'Delivery Failed'), ('ready_for_pickup', 'Ready For Pickup'), ('return_to_sender', 'Return To Sender'), ('cancelled', 'Cancelled'), ('unknown', 'Unknown')], default='unknown', max_length=20),
        ),
        migrations.AlterField(
            model_name='trackingevent',
            name='code',
            field=models.CharField(help_text="The carrier's own event code", max_length=60),
        ),
        migrations.AddConstraint(
            model_name='trackingevent',
            constraint=models.UniqueConstraint(fields=('tenant', 'shipment', 'occurred_at', 'status', 'code', 'location'), name='tracking_event_scan_unique'),
        ),
        migrations.AddField(
            model_name='trackingstate',
            name='tenant',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.tenant'),
        ),
        migrations.AddIndex(
            model_name='trackingstate',
            index=models.Index(condition=models.Q(('next_poll_at__isnull', False)), fields=['next_poll_at'], name='tracking_state_due'),
        ),
        EnableTenantRLS("shipping_trackingstate"),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
