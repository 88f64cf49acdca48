from django.urls import path
from rest_framework.routers import SimpleRouter

from inventory.api import adjustments, counts, inbound, replenishment, views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("inbound-shipments", inbound.InboundShipmentViewSet, basename="inbound-shipment")

# Each topic module may add its own routes in a module-level ``urlpatterns`` list.
urlpatterns = [
    path("inventory/adjustments/", adjustments.AdjustmentView.as_view(), name="inventory-adjustments"),
    *adjustments.urlpatterns,
    *counts.urlpatterns,
    *inbound.urlpatterns,
    *replenishment.urlpatterns,
    *router.urls,
]
