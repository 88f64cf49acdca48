"""TrackingState.carrier_estimate was written and never read: the carrier's newer estimate is
the shipment's estimated_delivery_date."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('shipping', '0008_tracking_events_and_state'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='trackingstate',
            name='carrier_estimate',
        ),
    ]
