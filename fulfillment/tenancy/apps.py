from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "fulfillment.tenancy"
    label = "tenancy"
