"""Pages: replenishment."""

urlpatterns: list = []
