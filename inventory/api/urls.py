from django.urls import path
from rest_framework.routers import SimpleRouter

from inventory.api import views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("inbound-shipments", views.InboundShipmentViewSet, basename="inbound-shipment")

urlpatterns = [
    path("inventory/adjustments/", views.AdjustmentView.as_view(), name="inventory-adjustments"),
    *router.urls,
]
