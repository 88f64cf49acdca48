from returns.views import handheld, manager, portal

app_name = "returns"

# Pages: the merchant portal, the handheld and the managers' page (the API is returns/api/urls.py).
urlpatterns = [*portal.urlpatterns, *handheld.urlpatterns, *manager.urlpatterns]
