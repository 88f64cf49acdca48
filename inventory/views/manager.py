"""Pages: manager."""

urlpatterns: list = []
