"""Pages: counts."""

urlpatterns: list = []
