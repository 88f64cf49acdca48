from django.urls import path
from rest_framework.routers import SimpleRouter

from packing.api import boxes, inserts, materials, sessions, views

router = SimpleRouter()
router.register("pack-sessions", sessions.PackSessionViewSet, basename="pack-session")
router.register("insert-rules", inserts.InsertRuleViewSet, basename="insert-rule")

urlpatterns = [
    path("boxes/", boxes.BoxListView.as_view(), name="box-list"),
    path("boxes/<str:code>/", boxes.BoxDetailView.as_view(), name="box-detail"),
    path("materials/", materials.MaterialListView.as_view(), name="material-list"),
    path("materials/<str:code>/", materials.MaterialDetailView.as_view(), name="material-detail"),
    path("materials/<str:code>/movements/", materials.MaterialMovementListView.as_view(), name="material-movements"),
    path("orders/<uuid:pk>/pack/", views.OrderPackView.as_view(), name="order-pack"),
    path("orders/<uuid:pk>/inserts/", inserts.OrderInsertsView.as_view(), name="order-inserts"),
    path("orders/<uuid:pk>/packing-slip.pdf", views.PackingSlipView.as_view(), name="order-packing-slip"),
    *router.urls,
]
