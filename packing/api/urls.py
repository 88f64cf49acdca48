from django.urls import path
from rest_framework.routers import SimpleRouter

from packing.api import boxes, sessions, views

router = SimpleRouter()
router.register("pack-sessions", sessions.PackSessionViewSet, basename="pack-session")

urlpatterns = [
    path("boxes/", boxes.BoxListView.as_view(), name="box-list"),
    path("boxes/<str:code>/", boxes.BoxDetailView.as_view(), name="box-detail"),
    path("orders/<uuid:pk>/pack/", views.OrderPackView.as_view(), name="order-pack"),
    path("orders/<uuid:pk>/packing-slip.pdf", views.PackingSlipView.as_view(), name="order-packing-slip"),
    *router.urls,
]
