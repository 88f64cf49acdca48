"""Manager pages of shipping, under /shipping/: shipments (re-print, void, quotes and buy), the
exceptions queue, late and at-risk shipments, carrier accounts (managers only) and end of day.

Staff only, limited to the warehouses the user works in (another warehouse's shipment is 404); every
write is one call of shipping.services, and a refusal is shown with its message (refusal_shown).
Staff may do here what the API lets them do (buy, void, retry, close the day); carrier accounts,
as in the API, are changed by managers only.
"""
