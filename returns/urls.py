from returns.views import portal, public

app_name = "returns"

# Merchant portal pages (the API is returns/api/urls.py).
urlpatterns = [*portal.urlpatterns]

# The shopper's public returns portal, outside the "returns" namespace (fulfillment.urls includes it on
# its own): /returns/<tenant_slug>/ is "public-returns", an RMA's page "public-return".
public_urlpatterns = [*public.urlpatterns]
