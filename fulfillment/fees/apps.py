from django.apps import AppConfig


class FeesConfig(AppConfig):
    name = "fulfillment.fees"
    label = "fees"
