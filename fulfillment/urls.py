from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from returns.urls import public_urlpatterns as returns_public
from shipping.urls import public_urlpatterns as shipping_public


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any database failure means unhealthy
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


api_v1 = [
    path("", include("inventory.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("picking.api.urls")),
    path("", include("packing.api.urls")),
    path("", include("shipping.api.urls")),
    path("", include("returns.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("fulfillment.webhooks.api.urls")),
    path("", include("fulfillment.tenancy.api.urls")),
]


def favicon(request):
    """Pages name their icon; this is for clients that ask /favicon.ico anyway. Without it they get
    the 404 page, whose template mints a CSRF cookie that can overwrite the one a login form just got."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/", include(api_v1)),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("inventory.urls")),
    path("", include("picking.urls")),
    path("", include("packing.urls")),
    path("", include("shipping.urls")),
    path("", include(shipping_public)),  # /track/<token>/: the shopper's page, "public-tracking"
    path("", include(returns_public)),  # /returns/<tenant_slug>/: the shopper's returns portal
    path("", include("orders.urls")),
    path("", include("returns.urls")),
    path("", include("billing.urls")),
    path("", include("fulfillment.tenancy.views")),  # merchant portal: API keys
    path("", include("fulfillment.webhooks.views")),  # merchant portal: webhooks and deliveries
    path("", include("dashboard.urls")),
]

handler404 = "fulfillment.api.errors_pages.not_found"
handler500 = "fulfillment.api.errors_pages.server_error"
