"""Pages: handheld_inbound."""

urlpatterns: list = []
