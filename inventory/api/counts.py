"""Cycle counts."""

urlpatterns: list = []
