"""Suppliers, purchase orders, reorder suggestions, alerts."""

urlpatterns: list = []
