from django.urls import path
from rest_framework.routers import SimpleRouter

from billing.api import views

router = SimpleRouter()
router.register("fees", views.FeeViewSet, basename="fee")
router.register("invoices", views.InvoiceViewSet, basename="invoice")

urlpatterns = [
    path("tenants/<slug:slug>/rate-card/", views.RateCardView.as_view(), name="rate-card"),
    path("default-rate-card/", views.DefaultRateCardView.as_view(), name="default-rate-card"),
    path(
        "invoices/<uuid:pk>/invoice.pdf",
        views.InvoiceDocumentViewSet.as_view({"get": "invoice_pdf"}),
        name="invoice-pdf",
    ),
    path(
        "invoices/<uuid:pk>/invoice.csv",
        views.InvoiceDocumentViewSet.as_view({"get": "invoice_csv"}),
        name="invoice-csv",
    ),
    *router.urls,
]
