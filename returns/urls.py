from returns.views import portal

app_name = "returns"

# Merchant portal pages (the API is returns/api/urls.py).
urlpatterns = [*portal.urlpatterns]
