from rest_framework.routers import SimpleRouter

from returns.api import views

router = SimpleRouter()
router.register("returns", views.ReturnViewSet, basename="return")

urlpatterns = router.urls
