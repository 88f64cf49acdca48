from django.urls import path

from fulfillment.tenancy.api import views

urlpatterns = [
    path("branding/", views.BrandingView.as_view(), name="branding"),
]
