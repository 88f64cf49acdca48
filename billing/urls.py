from billing.views import manager, portal

app_name = "billing"

# Pages: the managers' billing and the merchant portal's (the API is billing/api/urls.py).
urlpatterns = [*manager.urlpatterns, *portal.urlpatterns]
