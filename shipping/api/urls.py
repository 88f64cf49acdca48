from django.urls import path

from shipping.api import accounts, cartonization, labels, manifests, views

shipment_list = views.ShipmentViewSet.as_view({"get": "list"})
shipment_detail = views.ShipmentViewSet.as_view({"get": "retrieve"})

urlpatterns = [
    path("cartonization/", cartonization.CartonizationView.as_view(), name="cartonization"),
    path(
        "orders/<uuid:pk>/cartonization/",
        cartonization.OrderCartonizationView.as_view(),
        name="order-cartonization",
    ),
    path("carrier-accounts/", accounts.CarrierAccountListView.as_view(), name="carrier-account-list"),
    path("carrier-accounts/<uuid:pk>/", accounts.CarrierAccountDetailView.as_view(), name="carrier-account-detail"),
    path("carrier-accounts/<uuid:pk>/check/", accounts.CarrierAccountCheckView.as_view(), name="carrier-account-check"),
    path("shipments/", shipment_list, name="shipment-list"),
    path("shipments/<uuid:pk>/", shipment_detail, name="shipment-detail"),
    path("shipments/<uuid:pk>/rates/", labels.ShipmentRatesView.as_view(), name="shipment-rates"),
    path("shipments/<uuid:pk>/purchase/", labels.ShipmentPurchaseView.as_view(), name="shipment-purchase"),
    path("shipments/<uuid:pk>/void/", labels.ShipmentVoidView.as_view(), name="shipment-void"),
    path(
        "shipments/<uuid:pk>/tracking-events/",
        labels.ShipmentTrackingEventView.as_view(),
        name="shipment-tracking-events",
    ),
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
    path(
        "shipping-exceptions/",
        labels.ShippingExceptionViewSet.as_view({"get": "list"}),
        name="shipping-exception-list",
    ),
    path(
        "shipping-exceptions/<uuid:pk>/retry/",
        labels.ShippingExceptionViewSet.as_view({"post": "retry"}),
        name="shipping-exception-retry",
    ),
    path("manifests/", manifests.ManifestListView.as_view(), name="manifest-list"),
    path("manifests/<uuid:pk>/", manifests.ManifestDetailView.as_view(), name="manifest-detail"),
    path("manifests/<uuid:pk>/manifest.pdf", manifests.ManifestPdfView.as_view(), name="manifest-pdf"),
]
