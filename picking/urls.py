from picking.views import handheld
from picking.views import manager as wave_views
from picking.views import performance as performance_views

app_name = "picking"

# Handheld pages live under /handheld/..., manager pages under /picking/... (see each module).
urlpatterns = [
    *handheld.urlpatterns,
    *performance_views.urlpatterns,
    *wave_views.urlpatterns,
]
