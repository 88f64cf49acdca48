"""Shared piece of the concurrency tests: jobs run in threads let go at the same moment."""

import contextvars
import threading

from django.db import connection


def race(jobs, *, timeout=60, barrier_timeout=30) -> list:
    """Run each job (a callable) in its own thread and database connection, all let go at once by
    a barrier; answer what each returned or raised, in the order they finished."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = []

    def run(job) -> None:
        try:
            barrier.wait(timeout=barrier_timeout)
            outcomes.append(job())
        except BaseException as exc:  # answered to the caller, which asserts on it
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [in_context_thread(run, job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes


def run_together(jobs, *, timeout=60, barrier_timeout=30) -> list[BaseException]:
    """``race`` for jobs whose answers do not matter: what they raised."""
    return [o for o in race(jobs, timeout=timeout, barrier_timeout=barrier_timeout) if isinstance(o, BaseException)]


def in_context_thread(target, *args, **kwargs) -> threading.Thread:
    """A thread that runs in a copy of the caller's context: the same row-level-security scope."""
    return threading.Thread(target=contextvars.copy_context().run, args=(target, *args), kwargs=kwargs)
