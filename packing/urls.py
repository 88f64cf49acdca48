from packing.views import materials

app_name = "packing"

# Manager pages live under /packing/... (see each module).
urlpatterns = [
    *materials.urlpatterns,
]
