"""Cartonization over plain data: no database."""

import random
from decimal import Decimal

import pytest

from packing.cartonization import (
    IMPERIAL_DIM_DIVISOR,
    BoxSpec,
    ItemSpec,
    billable_weight_g,
    cartonize,
    dim_weight_g,
)

POLY = BoxSpec("POLY", 350, 250, 50, max_weight_g=2000, tare_weight_g=10, kind="poly", cost=Decimal("0.10"))
SMALL = BoxSpec("SMALL", 200, 150, 100, max_weight_g=5000, tare_weight_g=150, cost=Decimal("0.45"))  # 3.0 L
MEDIUM = BoxSpec("MEDIUM", 300, 200, 150, max_weight_g=10000, tare_weight_g=300, cost=Decimal("0.80"))  # 9.0 L
LARGE = BoxSpec("LARGE", 400, 300, 250, max_weight_g=20000, tare_weight_g=550, cost=Decimal("1.25"))  # 30 L
BOXES = [LARGE, POLY, SMALL, MEDIUM]  # deliberately not in size order


def tee(quantity: int) -> ItemSpec:
    return ItemSpec("TEE", quantity, length_mm=250, width_mm=200, height_mm=20, weight_g=200, poly_ok=True)


def mug(quantity: int, **rules) -> ItemSpec:
    return ItemSpec("MUG", quantity, length_mm=120, width_mm=100, height_mm=100, weight_g=400, **rules)


def check_placements(items: list[ItemSpec], plan) -> None:
    """Independently of the engine: every unit once, a rotation of itself, inside, no overlap, weight."""
    seen = [0] * len(items)
    for package in plan:
        box = package.box
        weight = 0
        for p in package.placements:
            item = items[p.item]
            seen[p.item] += 1
            weight += item.weight_g
            assert sorted((p.length_mm, p.width_mm, p.height_mm)) == sorted(
                (item.length_mm, item.width_mm, item.height_mm)
            )
            if box is None:
                continue
            assert p.x_mm >= 0 and p.x_mm + p.length_mm <= box.length_mm
            assert p.y_mm >= 0 and p.y_mm + p.width_mm <= box.width_mm
            assert p.z_mm >= 0 and p.z_mm + p.height_mm <= box.height_mm
        if box is not None:
            assert weight <= box.max_weight_g
        for i, a in enumerate(package.placements):
            for b in package.placements[i + 1 :]:
                apart = (
                    a.x_mm + a.length_mm <= b.x_mm
                    or b.x_mm + b.length_mm <= a.x_mm
                    or a.y_mm + a.width_mm <= b.y_mm
                    or b.y_mm + b.width_mm <= a.y_mm
                    or a.z_mm + a.height_mm <= b.z_mm
                    or b.z_mm + b.height_mm <= a.z_mm
                )
                assert apart, (a, b)
    assert seen == [max(item.quantity, 0) for item in items]


def test_dim_weight_is_volume_over_the_divisor_rounded_up():
    assert dim_weight_g(300, 200, 150) == 1800  # 9 L at 5000 cm³/kg is 1.8 kg
    assert dim_weight_g(123, 45, 67) == 75  # 370,845 mm³ is 74.2 g: carriers round up
    assert IMPERIAL_DIM_DIVISOR == 5022  # 139 in³/lb
    assert billable_weight_g(MEDIUM, contents_g=100) == 1800
    assert billable_weight_g(MEDIUM, contents_g=4000) == 4300


def test_one_mug_goes_into_the_box_with_the_least_billable_weight_with_its_position():
    plan = cartonize([mug(1)], BOXES)

    assert [(p.box.code, p.items, p.weight_g, p.billable_weight_g) for p in plan] == [("SMALL", [("MUG", 1)], 550, 600)]
    (placement,) = plan[0].placements
    assert (placement.x_mm, placement.y_mm, placement.z_mm) == (0, 0, 0)
    assert plan[0].fill_ratio == 0.4


def test_soft_goods_go_into_a_poly_mailer_but_a_mug_never_does():
    assert [p.box.code for p in cartonize([tee(2)], BOXES)] == ["POLY"]
    assert [p.box.code for p in cartonize([mug(1)], [POLY, LARGE])] == ["LARGE"]


def test_a_fragile_soft_item_never_goes_into_a_poly_mailer():
    vase_scarf = ItemSpec("SILK", 1, 250, 200, 20, 100, poly_ok=True, fragile=True)

    assert [p.box.code for p in cartonize([vase_scarf], BOXES)] == ["MEDIUM"]


def test_an_item_is_turned_to_fit_the_box():
    upright = ItemSpec("POSTER", 1, length_mm=30, width_mm=140, height_mm=190, weight_g=100)

    plan = cartonize([upright], BOXES)

    assert [p.box.code for p in plan] == ["SMALL"]
    check_placements([upright], plan)
    (placement,) = plan[0].placements
    assert placement.height_mm <= 100


def test_an_upright_item_keeps_its_height_vertical_and_takes_a_taller_box():
    bottle = ItemSpec("WINE", 1, length_mm=90, width_mm=90, height_mm=180, weight_g=1300)

    lying = cartonize([bottle], BOXES)
    standing = cartonize([ItemSpec(**{**vars(bottle), "upright": True})], BOXES)

    assert [p.box.code for p in lying] == ["SMALL"]
    assert [p.box.code for p in standing] == ["LARGE"]  # MEDIUM is 150 mm tall
    assert standing[0].placements[0].height_mm == 180


def test_nothing_is_stacked_on_a_fragile_unit():
    # Two tins fit the small box only one above the other: a fragile one goes on top, and two
    # fragile ones cannot share it (nor the medium box, where they do not fit side by side).
    tin = ItemSpec("TIN", 1, length_mm=190, width_mm=140, height_mm=45, weight_g=300)
    glass = ItemSpec("GLASS", 1, length_mm=190, width_mm=140, height_mm=45, weight_g=300, fragile=True)

    with_glass = cartonize([glass, tin], [SMALL, MEDIUM, LARGE])
    two_glasses = cartonize([ItemSpec(**{**vars(glass), "quantity": 2})], [SMALL, MEDIUM, LARGE])

    assert [p.box.code for p in with_glass] == ["SMALL"]
    by_item = {p.item: p for p in with_glass[0].placements}
    assert by_item[0].z_mm == by_item[1].z_mm + by_item[1].height_mm  # the glass rests on the tin
    assert [(p.box.code, p.items) for p in two_glasses] == [("SMALL", [("GLASS", 1)]), ("SMALL", [("GLASS", 1)])]


def test_a_unit_that_ships_in_its_own_container_goes_alone_without_a_box():
    tv = ItemSpec("TV", 1, length_mm=300, width_mm=200, height_mm=100, weight_g=3000, own_container=True)

    plan = cartonize([mug(1), tv], BOXES)

    assert [(p.box.code if p.box else None, p.items) for p in plan] == [("SMALL", [("MUG", 1)]), (None, [("TV", 1)])]
    assert (plan[1].length_mm, plan[1].width_mm, plan[1].height_mm) == (300, 200, 100)
    assert plan[1].billable_weight_g == 3000


def test_an_item_bigger_than_every_box_ships_as_is_in_its_own_package():
    bike = ItemSpec("BIKE", 2, length_mm=1500, width_mm=200, height_mm=800, weight_g=12000)

    plan = cartonize([mug(1), bike], BOXES)

    assert [(p.box.code if p.box else None, p.items) for p in plan] == [
        ("SMALL", [("MUG", 1)]),
        (None, [("BIKE", 1)]),
        (None, [("BIKE", 1)]),
    ]
    assert (plan[1].length_mm, plan[1].width_mm, plan[1].height_mm, plan[1].weight_g) == (1500, 800, 200, 12000)
    assert plan[1].billable_weight_g == 48000  # 240 L of bike


def test_an_order_too_heavy_for_any_box_is_split_by_weight():
    anvil = ItemSpec("ANVIL", 3, length_mm=100, width_mm=100, height_mm=50, weight_g=4000)

    plan = cartonize([anvil], [SMALL, MEDIUM])

    check_placements([anvil], plan)
    assert sorted(q for p in plan for _, q in p.items) == [1, 2]
    assert all(p.weight_g - p.box.tare_weight_g <= p.box.max_weight_g for p in plan)


def test_two_medium_boxes_beat_one_large_when_they_bill_less():
    # Ten mugs (4 kg): the large box bills its 6 kg of DIM weight; a medium box takes six mugs
    # standing on end (2.7 kg) and another the other four (1.9 kg): 4.6 kg in all.
    plan = cartonize([mug(10)], BOXES)

    check_placements([mug(10)], plan)
    assert [(p.box.code, p.items, p.billable_weight_g) for p in plan] == [
        ("MEDIUM", [("MUG", 6)], 2700),
        ("MEDIUM", [("MUG", 4)], 1900),
    ]
    assert billable_weight_g(LARGE, 4000) == 6000


def test_a_larger_dim_divisor_can_make_the_bigger_box_worth_it():
    # At 5000 the split bills less; with a divisor so large that dim weight never counts,
    # one box (less tare) is lighter than two.
    plan = cartonize([mug(10)], BOXES, dim_divisor=1_000_000)

    assert [p.box.code for p in plan] == ["LARGE"]


def test_box_cost_breaks_a_tie_in_billable_weight():
    cheap = BoxSpec("CHEAP", 200, 150, 100, max_weight_g=5000, tare_weight_g=150, cost=Decimal("0.30"))

    assert [p.box.code for p in cartonize([mug(1)], [SMALL, cheap])] == ["CHEAP"]


def test_units_of_unknown_size_take_no_room_but_are_placed_and_weighed():
    unknown = ItemSpec("GIFT", 3, length_mm=0, width_mm=0, height_mm=0, weight_g=100)

    plan = cartonize([unknown, mug(1)], BOXES)

    check_placements([unknown, mug(1)], plan)
    assert [(p.box.code, p.items, p.weight_g) for p in plan] == [("SMALL", [("GIFT", 3), ("MUG", 1)], 850)]


def test_nothing_to_pack_plans_no_package():
    assert cartonize([mug(0)], BOXES) == []


@pytest.mark.parametrize("seed", range(5))
def test_random_orders_are_always_placed_validly(seed):
    rng = random.Random(seed)
    shapes = [(250, 200, 20, 200), (120, 100, 100, 400), (300, 220, 8, 150), (180, 110, 60, 350), (150, 150, 150, 700)]
    for _ in range(40):
        items = [
            ItemSpec(f"S{i}", rng.randint(1, 4), *shapes[rng.randrange(len(shapes))], fragile=rng.random() < 0.1)
            for i in range(rng.randint(1, 4))
        ]
        plan = cartonize(items, BOXES)
        check_placements(items, plan)
