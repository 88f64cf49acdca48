import pytest

from packing.tests.factories import ensure_default_boxes
from shipping.tests.factories import ensure_default_carrier


@pytest.fixture(autouse=True)
def _default_catalogs(request):
    """Boxes and the generic carrier account of the data migrations; a transactional test may have flushed them."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("db")
    ensure_default_boxes()
    ensure_default_carrier()
