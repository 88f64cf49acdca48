from django.urls import path
from rest_framework.routers import SimpleRouter

from returns.api import policy, views

router = SimpleRouter()
router.register("returns", views.ReturnViewSet, basename="return")

urlpatterns = [
    path("return-policy/", policy.ReturnPolicyView.as_view(), name="return-policy"),
    path(
        "returns/<uuid:pk>/label.pdf",
        views.ReturnLabelViewSet.as_view({"get": "label_pdf"}),
        name="return-label-pdf",
    ),
    *router.urls,
]
