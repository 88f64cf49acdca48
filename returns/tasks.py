"""Celery tasks of returns (queue ``default``): thin and idempotent (the services re-read state)."""

from __future__ import annotations

import smtplib

from celery import shared_task

from fulfillment.tenancy.rls import in_operator_scope
from returns import notifications, services


@shared_task(name="returns.tasks.poll_return_labels", acks_late=True)
@in_operator_scope
def poll_return_labels(**_: object) -> int:
    """Periodic (beat, RETURN_LABEL_POLL_SECONDS): the carriers' tracking of due return labels."""
    return services.return_labels_poll()


@shared_task(
    name="returns.tasks.send_return_email",
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, OSError),  # the mail server is down or refuses for now
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=5,
)
def send_return_email(*, return_id: str, **_: object) -> str:
    """The shopper's e-mail of an RMA opened in the returns portal (once per RMA)."""
    return notifications.send_return_email(return_id=return_id)
