"""Celery tasks of stage 1, one module per topic (autodiscovery imports this package)."""

from inventory.tasks import counts, replenishment  # noqa: F401
