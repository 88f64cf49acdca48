"""A default box catalog, so that packing works right after ``migrate`` (API.md).

Inner dimensions in mm, smallest to largest; operators edit or deactivate them in the admin.
Existing boxes with the same code are left as they are.
"""

from django.db import migrations

DEFAULT_BOXES = [
    # code, name, length, width, height, max contents weight g, tare g
    ("MAILER-S", "Small poly mailer", 230, 160, 40, 1000, 20),
    ("BOX-S", "Small box", 200, 150, 100, 5000, 150),
    ("MAILER-L", "Large padded mailer", 350, 250, 60, 2000, 60),
    ("BOX-M", "Medium box", 300, 230, 150, 10000, 300),
    ("BOX-L", "Large box", 400, 300, 250, 20000, 550),
    ("CARTON-XL", "Extra-large carton", 600, 400, 400, 30000, 1000),
]


def create_boxes(apps, schema_editor):
    Box = apps.get_model("packing", "Box")
    for code, name, length, width, height, max_weight, tare in DEFAULT_BOXES:
        Box.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "length_mm": length,
                "width_mm": width,
                "height_mm": height,
                "max_weight_g": max_weight,
                "tare_weight_g": tare,
                "is_active": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("packing", "0001_initial"),
    ]

    operations = [
        # Reversing keeps the boxes: packages may already point at them.
        migrations.RunPython(create_boxes, migrations.RunPython.noop),
    ]
