from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from fulfillment.tenancy.actor import Actor


class ApiKeyRateThrottle(SimpleRateThrottle):
    """``API_RATE_LIMIT`` per API key (or staff token); session pages are not limited here."""

    scope = "api_key"

    def get_rate(self):
        return settings.API_RATE_LIMIT

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        auth = getattr(request, "auth", None)
        if not isinstance(auth, Actor):
            return None
        return self.cache_format % {"scope": self.scope, "ident": auth.label}
