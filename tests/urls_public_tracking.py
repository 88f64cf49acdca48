"""A test-only URLconf with a "public-tracking" URL of its own (at /t/<token>/), to show that shopper
e-mails link to wherever that URL name points (shipping's page, once installed) rather than a path
of their own."""

from django.http import HttpResponse
from django.urls import include, path


def _tracking_page(request, token):  # never requested: the tests only reverse its name
    return HttpResponse(token)


urlpatterns = [
    path("t/<str:token>/", _tracking_page, name="public-tracking"),
    path("", include("fulfillment.tenancy.views")),
]
