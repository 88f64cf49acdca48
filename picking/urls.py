app_name = "picking"
urlpatterns: list = []
