"""HTML pages of orders: the merchant portal's order pages and the managers' order queue."""

from django.urls import path  # noqa: F401  (pages register below)

app_name = "orders"

urlpatterns: list = []
