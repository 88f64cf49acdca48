"""The merchant portal's billing pages (to be built): month to date, invoices, fee rows."""

urlpatterns: list = []
