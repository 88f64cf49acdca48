from returns.views import handheld, manager, portal, public

app_name = "returns"

# Pages: the merchant portal, the handheld and the managers' page (the API is returns/api/urls.py).
urlpatterns = [*portal.urlpatterns, *handheld.urlpatterns, *manager.urlpatterns]

# The shopper's public returns portal, outside the "returns" namespace (fulfillment.urls includes it on
# its own): /returns/<tenant_slug>/ is "public-returns", an RMA's page "public-return".
public_urlpatterns = [*public.urlpatterns]
