from packing.views import manager, station

app_name = "packing"

# The pack station lives under /pack/ (bench) and /handheld/pack/, the manager page under /packing/.
urlpatterns = [
    *station.urlpatterns,
    *manager.urlpatterns,
]
