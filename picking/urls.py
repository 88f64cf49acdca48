from picking.views import handheld

app_name = "picking"

# Handheld pages live under /handheld/..., manager pages under /picking/... (see each module).
urlpatterns = [
    *handheld.urlpatterns,
]
