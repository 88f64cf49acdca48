"""Shared piece of the concurrency tests: jobs run in threads let go at the same moment."""

import contextvars
import threading

from django.db import connection


def run_together(jobs, *, timeout=60) -> list[BaseException]:
    """Run each job (a callable) in its own thread and database connection, all let go at once by
    a barrier; answer what they raised."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job) -> None:
        try:
            barrier.wait(timeout=30)
            job()
        except BaseException as exc:  # answered to the caller, which asserts on it
            errors.append(exc)
        finally:
            connection.close()

    # Each thread starts in a copy of the caller's context: the same row-level-security scope.
    threads = [threading.Thread(target=contextvars.copy_context().run, args=(run, job)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return errors
