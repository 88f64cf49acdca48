"""The fee ledger: what each merchant owes the operator, one row per billable event.

A low layer of the kernel (below inventory) so that every stage records the fees its activity
earns in its own transaction without importing billing: ``fulfillment.fees.services.fee_record``.
Rate cards (the prices) live here too, because a fee is priced when it is written: a new card
applies from its date, and fees already written keep their prices. Billing (invoices, storage
snapshots, pages) reads this ledger and never changes it; the database refuses an UPDATE or a
DELETE of a fee row (migration 0001), and a correction is a new row with a reason.
"""
