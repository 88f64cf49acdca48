import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfillment.settings")

app = Celery("fulfillment")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(
    lambda: [
        "fulfillment.api",
        "fulfillment.webhooks",
        "inventory",
        "orders",
        "picking",
        "packing",
        "shipping",
        "returns",
    ]
)
