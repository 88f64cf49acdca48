"""HTML pages of stage 1, one module per topic; each module exports ``urlpatterns``."""
