from django.urls import path
from rest_framework.routers import SimpleRouter

from orders.api import views

router = SimpleRouter()
router.register("orders", views.OrderViewSet, basename="order")

urlpatterns = [
    path("inventory/", views.InventoryLevelView.as_view(), name="inventory-levels"),
    *router.urls,
]

# CSV order imports (orders.api.imports): explicit paths, so that errors.csv has no trailing slash.
from orders.api.imports import OrderImportViewSet as _Imports  # noqa: E402

urlpatterns += [
    path("order-imports/", _Imports.as_view({"get": "list", "post": "create"}), name="order-import-list"),
    path("order-imports/<uuid:pk>/", _Imports.as_view({"get": "retrieve"}), name="order-import-detail"),
    path("order-imports/<uuid:pk>/errors.csv", _Imports.as_view({"get": "errors_csv"}), name="order-import-errors"),
]
