"""Billing's writes: nightly storage snapshots (and their fees) and invoices."""

from billing.services.invoices import InvoiceError, invoice_issue, minimum_for_period
from billing.services.storage import storage_snapshot_take

__all__ = ["InvoiceError", "invoice_issue", "minimum_for_period", "storage_snapshot_take"]
