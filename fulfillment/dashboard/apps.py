from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "fulfillment.dashboard"
    label = "dashboard"
