import pytest
from django.core.exceptions import ValidationError

from inventory.models import Warehouse, even_cross_aisles

pytestmark = pytest.mark.django_db


def _warehouse(**fields) -> Warehouse:
    return Warehouse(code="W", name="W", aisles=4, bays=20, levels=1, **fields)


def test_a_valid_layout_passes_clean():
    _warehouse(cross_aisles=[10], depot_aisle=3).clean()


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"cross_aisles": [12, 8]}, "cross_aisles"),
        ({"cross_aisles": [20]}, "cross_aisles"),
        ({"cross_aisles": "10"}, "cross_aisles"),
        ({"cross_aisles": [True]}, "cross_aisles"),
        ({"depot_aisle": 5}, "depot_aisle"),
        ({"aisle_pitch_m": 0}, "aisle_pitch_m"),
        ({"bay_width_m": 25}, "bay_width_m"),
    ],
)
def test_clean_refuses_a_layout_routes_cannot_use(fields, field):
    with pytest.raises(ValidationError) as refused:
        _warehouse(**fields).clean()
    assert field in refused.value.message_dict


@pytest.mark.parametrize(
    "bays, blocks, expected", [(20, 1, []), (20, 2, [10]), (30, 3, [10, 20]), (10, 3, [3, 7]), (3, 3, [1, 2])]
)
def test_even_cross_aisles_split_the_bays_into_blocks_of_nearly_equal_depth(bays, blocks, expected):
    assert even_cross_aisles(bays=bays, blocks=blocks) == expected
