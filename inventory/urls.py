from inventory.views import counts, handheld_inbound, manager, replenishment

app_name = "inventory"

# Manager pages live under /inventory/..., handheld pages under /handheld/... (see each module).
urlpatterns = [
    *manager.urlpatterns,
    *counts.urlpatterns,
    *replenishment.urlpatterns,
    *handheld_inbound.urlpatterns,
]
