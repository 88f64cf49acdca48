"""Row-level security on the new tenant tables, and the generic carrier account with its rate sheet
(shipping.rate_sheet), so that packing and shipping work offline right after ``migrate`` (API.md).
An existing account with the same carrier_id is left alone."""

from django.db import migrations

from fulfillment.tenancy.rls import EnableTenantRLS


def create_generic(apps, schema_editor):
    from shipping.rate_sheet import DEFAULT_ACCOUNT, DEFAULT_SERVICES

    CarrierAccount = apps.get_model("shipping", "CarrierAccount")
    CarrierService = apps.get_model("shipping", "CarrierService")
    account, created = CarrierAccount.objects.get_or_create(
        carrier_id=DEFAULT_ACCOUNT["carrier_id"],
        defaults={
            "carrier_name": DEFAULT_ACCOUNT["carrier_name"],
            "display_name": DEFAULT_ACCOUNT["display_name"],
            "account_country": DEFAULT_ACCOUNT["account_country"],
            "test_mode": True,
            "active": True,
        },
    )
    if not created:
        return
    for service in DEFAULT_SERVICES:
        CarrierService.objects.create(account=account, active=True, **service)


class Migration(migrations.Migration):
    dependencies = [("shipping", "0005_karrio_accounts")]

    operations = [
        EnableTenantRLS("shipping_rateshop"),
        EnableTenantRLS("shipping_labelpurchase"),
        EnableTenantRLS("shipping_shippingexception"),
        migrations.RunPython(create_generic, migrations.RunPython.noop),
    ]
