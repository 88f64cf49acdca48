from django.urls import path
from rest_framework.routers import SimpleRouter

from orders.api import views

router = SimpleRouter()
router.register("orders", views.OrderViewSet, basename="order")

urlpatterns = [
    path("inventory/", views.InventoryLevelView.as_view(), name="inventory-levels"),
    *router.urls,
]
