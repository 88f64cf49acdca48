from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "fulfillment.tenancy"
    label = "tenancy"

    def ready(self) -> None:
        from fulfillment.tenancy import schema  # noqa: F401  (registers the OpenAPI auth scheme)
