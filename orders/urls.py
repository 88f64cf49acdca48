"""HTML pages of orders: the merchant portal's order pages and the managers' order queue."""

from django.urls import path  # noqa: F401  (pages register below)

app_name = "orders"

urlpatterns: list = []

# Manager pages: the order queue, one order with hold/release/cancel, the exceptions list.
from orders.views import manager  # noqa: E402

urlpatterns += manager.urlpatterns

# The merchant portal's order pages (/portal/, /portal/orders/<id>/).
from orders.views import portal as _portal  # noqa: E402

urlpatterns += _portal.urlpatterns

# The merchant portal's CSV import pages (/portal/imports/...).
from orders.views import imports as _imports  # noqa: E402

urlpatterns += _imports.urlpatterns
