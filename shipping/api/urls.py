from django.urls import path

from shipping.api import cartonization, views

shipment_list = views.ShipmentViewSet.as_view({"get": "list"})
shipment_detail = views.ShipmentViewSet.as_view({"get": "retrieve"})

urlpatterns = [
    path("cartonization/", cartonization.CartonizationView.as_view(), name="cartonization"),
    path(
        "orders/<uuid:pk>/cartonization/",
        cartonization.OrderCartonizationView.as_view(),
        name="order-cartonization",
    ),
    path("shipments/", shipment_list, name="shipment-list"),
    path("shipments/<uuid:pk>/", shipment_detail, name="shipment-detail"),
    path(
        "shipments/<uuid:pk>/label.pdf",
        views.ShipmentLabelViewSet.as_view({"get": "label_pdf"}),
        name="shipment-label-pdf",
    ),
    path(
        "shipments/<uuid:pk>/label.zpl",
        views.ShipmentLabelViewSet.as_view({"get": "label_zpl"}),
        name="shipment-label-zpl",
    ),
]
