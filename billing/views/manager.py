"""Managers' billing pages (to be built): month to date per merchant, rate cards, invoices."""

urlpatterns: list = []
