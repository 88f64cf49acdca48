"""Recording fees: every stage calls these in the transaction of the activity that earns them.

A fee is priced when it is written, from the rate card in effect that day (the merchant's own,
else the operator's default), and never changes afterwards: the database refuses it. Amounts are
``quantity * unit_price`` rounded half-up to the cent, per row. An event that must be billed once
(a pick, a package, a label, a storage day) carries a ``dedupe_key``: recording it again is a no-op,
so a task run twice or a retried transaction never bills twice.
"""

from fulfillment.fees.models import FeeKind, SourceType
from fulfillment.fees.services.activities import (
    fee_for_label,
    fee_for_label_void,
    fees_for_packages,
    fees_for_pick,
    fees_for_receipt,
    fees_for_return_receipt,
)
from fulfillment.fees.services.cards import default_rate_card_set, rate_card_set
from fulfillment.fees.services.corrections import fee_correct
from fulfillment.fees.services.pricing import (
    Card,
    FeeError,
    FeeInput,
    card_for,
    fees_record,
    money,
    storage_fees_sql,
)

__all__ = [
    "Card",
    "FeeError",
    "FeeInput",
    "FeeKind",
    "SourceType",
    "card_for",
    "default_rate_card_set",
    "fee_correct",
    "fee_for_label",
    "fee_for_label_void",
    "fees_for_packages",
    "fees_for_pick",
    "fees_for_receipt",
    "fees_for_return_receipt",
    "fees_record",
    "money",
    "rate_card_set",
    "storage_fees_sql",
]
