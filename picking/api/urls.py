from rest_framework.routers import SimpleRouter

from picking.api import views

router = SimpleRouter()
router.register("waves", views.WaveViewSet, basename="wave")
router.register("pick-lists", views.PickListViewSet, basename="pick-list")

urlpatterns = router.urls
