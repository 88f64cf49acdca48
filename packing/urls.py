from packing.views import manager, materials, station

app_name = "packing"

# The pack station lives under /pack/ (bench) and /handheld/pack/, manager pages under /packing/.
urlpatterns = [
    *station.urlpatterns,
    *manager.urlpatterns,
    *materials.urlpatterns,
]
