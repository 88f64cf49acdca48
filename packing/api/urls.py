from django.urls import path

from packing.api import views

urlpatterns = [
    path("boxes/", views.BoxListView.as_view(), name="box-list"),
    path("orders/<uuid:pk>/pack/", views.OrderPackView.as_view(), name="order-pack"),
    path("orders/<uuid:pk>/packing-slip.pdf", views.PackingSlipView.as_view(), name="order-packing-slip"),
]
