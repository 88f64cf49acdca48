"""The sandbox carrier with standard, express and same-day services, so that shipping works right
after ``migrate`` without a carrier account (API.md). Existing rows with these codes are left alone.
"""

from decimal import Decimal

from django.db import migrations

SERVICES = [
    # code, name, transit business days, base rate, per kg
    ("standard", "Sandbox Standard", 5, Decimal("7.50"), Decimal("1.20")),
    ("express", "Sandbox Express", 2, Decimal("14.00"), Decimal("2.50")),
    ("same_day", "Sandbox Same Day", 0, Decimal("24.00"), Decimal("3.00")),
]


def create_sandbox(apps, schema_editor):
    Carrier = apps.get_model("shipping", "Carrier")
    ServiceLevel = apps.get_model("shipping", "ServiceLevel")
    carrier, _ = Carrier.objects.get_or_create(
        code="sandbox", defaults={"name": "Sandbox Carrier", "kind": "sandbox", "is_active": True}
    )
    for code, name, days, base, per_kg in SERVICES:
        ServiceLevel.objects.get_or_create(
            carrier=carrier,
            code=code,
            defaults={
                "name": name,
                "transit_business_days": days,
                "base_rate": base,
                "per_kg_rate": per_kg,
                "currency": "CAD",
                "is_active": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("shipping", "0001_initial"),
    ]

    operations = [
        # Reversing keeps the rows: shipments and configuration may refer to them.
        migrations.RunPython(create_sandbox, migrations.RunPython.noop),
    ]
