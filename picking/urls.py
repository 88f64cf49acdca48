from django.urls import path

from picking import views

app_name = "picking"
urlpatterns = [
    path("pick/", views.pick_lists, name="pick_lists"),
    path("pick/<uuid:pick_list_id>/", views.pick, name="pick"),
]
