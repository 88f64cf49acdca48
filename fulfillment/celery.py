import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfillment.settings")

app = Celery("fulfillment")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(
    lambda: [
        "fulfillment.api",
        "fulfillment.webhooks",
        "inventory",
        "orders",
        "picking",
        "packing",
        "shipping",
        "returns",
        "billing",
    ]
)


# Row-level security: a task runs in the scope it was queued in (fulfillment.tenancy.rls). The scope
# travels in a message header; a task with none (beat's periodic sweeps) starts with no scope and
# takes the operator scope itself where it needs every tenant's rows.
_scope_tokens: dict[str, object] = {}


@before_task_publish.connect
def _carry_scope(headers=None, **_):
    from fulfillment.tenancy import rls

    if headers is not None:
        headers["rls_scope"] = rls.current().as_header()


@task_prerun.connect
def _enter_scope(task_id=None, task=None, **_):
    from fulfillment.tenancy import rls

    if task.request.is_eager:
        return  # run in-process: it keeps the caller's scope
    header = getattr(task.request, "rls_scope", None)
    _scope_tokens[task_id] = rls.enter(rls.Scope.from_header(header) if header else rls.NONE)


@task_postrun.connect
def _leave_scope(task_id=None, **_):
    from fulfillment.tenancy import rls

    token = _scope_tokens.pop(task_id, None)
    if token is not None:
        rls.leave(token)
