import pytest

from packing.tests.factories import ensure_default_boxes


@pytest.fixture(autouse=True)
def _default_boxes(request):
    """The box catalog of the data migration; a transactional test elsewhere may have flushed it."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("db")
    ensure_default_boxes()
