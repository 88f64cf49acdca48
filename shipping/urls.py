from shipping.views import carriers, end_of_day, exceptions, late, public, shipments

app_name = "shipping"

# Manager pages under /shipping/ (the API is shipping/api/urls.py).
urlpatterns = [
    *shipments.urlpatterns,
    *exceptions.urlpatterns,
    *late.urlpatterns,
    *carriers.urlpatterns,
    *end_of_day.urlpatterns,
]

# The shopper's public pages, outside the "shipping" namespace (fulfillment.urls includes them on
# their own): /track/<token>/ is "public-tracking", the name the API's tracking_url reverses.
public_urlpatterns = [
    *public.urlpatterns,
]
