"""OpenAPI description of bearer authentication (merchant API keys and staff tokens)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "fulfillment.tenancy.authentication.BearerKeyAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A merchant API key (fk_...) or a staff token (fs_...).",
        }
