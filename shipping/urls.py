from shipping.views import carriers, end_of_day, exceptions, late, shipments

app_name = "shipping"

# Manager pages under /shipping/ (the API is shipping/api/urls.py).
urlpatterns = [
    *shipments.urlpatterns,
    *exceptions.urlpatterns,
    *late.urlpatterns,
    *carriers.urlpatterns,
    *end_of_day.urlpatterns,
]
