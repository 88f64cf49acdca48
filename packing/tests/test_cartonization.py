"""Cartonization over plain data: no database."""

from packing.cartonization import BoxSpec, ItemSpec, cartonize, smallest_box

MAILER = BoxSpec("MAILER", 250, 180, 40, max_weight_g=1000, tare_weight_g=20)  # 1.8 L
SMALL = BoxSpec("SMALL", 200, 150, 100, max_weight_g=5000, tare_weight_g=150)  # 3.0 L
MEDIUM = BoxSpec("MEDIUM", 300, 200, 150, max_weight_g=10000, tare_weight_g=300)  # 9.0 L
BOXES = [MEDIUM, MAILER, SMALL]  # deliberately not in size order


def tee(quantity: int) -> ItemSpec:
    return ItemSpec("TEE", quantity, length_mm=200, width_mm=150, height_mm=30, weight_g=200)  # 0.9 L


def mug(quantity: int) -> ItemSpec:
    return ItemSpec("MUG", quantity, length_mm=120, width_mm=100, height_mm=100, weight_g=400)  # 1.2 L


def test_one_item_goes_in_the_smallest_box_it_fits():
    plan = cartonize([tee(1)], BOXES)

    assert [(p.box.code, p.items) for p in plan] == [("MAILER", [("TEE", 1)])]
    assert (plan[0].weight_g, plan[0].length_mm, plan[0].width_mm, plan[0].height_mm) == (220, 250, 180, 40)


def test_an_item_is_turned_to_fit_the_box():
    upright = ItemSpec("POSTER", 1, length_mm=30, width_mm=170, height_mm=240, weight_g=100)

    plan = cartonize([upright], BOXES)

    assert [p.box.code for p in plan] == ["MAILER"]


def test_items_that_exceed_the_fill_factor_of_a_box_take_the_next_size():
    # Two tees are 1.8 L: exactly the mailer's volume, over its 85 % fill (1.53 L); the small box holds 2.55 L.
    plan = cartonize([tee(2)], BOXES)

    assert [(p.box.code, p.items, p.weight_g) for p in plan] == [("SMALL", [("TEE", 2)], 550)]


def test_weight_over_a_box_limit_takes_a_stronger_box():
    heavy = ItemSpec("BOOK", 1, length_mm=200, width_mm=150, height_mm=30, weight_g=1500)

    plan = cartonize([heavy], BOXES)

    assert [p.box.code for p in plan] == ["SMALL"]


def test_mixed_items_share_one_box_listed_in_input_order():
    plan = cartonize([tee(1), mug(2)], BOXES)

    assert [(p.box.code, p.items, p.weight_g) for p in plan] == [
        ("MEDIUM", [("TEE", 1), ("MUG", 2)], 200 + 2 * 400 + 300)
    ]


def test_an_order_too_big_for_any_box_is_split_across_boxes():
    # 8 mugs are 9.6 L; the medium box holds 7.65 L (85 %), so 6 mugs in it and the other 2 in a small box.
    plan = cartonize([mug(8)], BOXES)

    assert [(p.box.code, p.items) for p in plan] == [("MEDIUM", [("MUG", 6)]), ("SMALL", [("MUG", 2)])]
    assert sum(q for p in plan for _, q in p.items) == 8


def test_an_order_too_heavy_for_any_box_is_split_by_weight():
    anvil = ItemSpec("ANVIL", 3, length_mm=100, width_mm=100, height_mm=50, weight_g=4000)

    plan = cartonize([anvil], BOXES)

    assert [(p.box.code, p.items, p.weight_g) for p in plan] == [
        ("MEDIUM", [("ANVIL", 2)], 8300),
        ("SMALL", [("ANVIL", 1)], 4150),
    ]


def test_an_item_bigger_than_every_box_ships_as_is_in_its_own_package():
    bike = ItemSpec("BIKE", 2, length_mm=1500, width_mm=200, height_mm=800, weight_g=12000)

    plan = cartonize([tee(1), bike], BOXES)

    assert [(p.box.code if p.box else None, p.items) for p in plan] == [
        ("MAILER", [("TEE", 1)]),
        (None, [("BIKE", 1)]),
        (None, [("BIKE", 1)]),
    ]
    assert (plan[1].length_mm, plan[1].width_mm, plan[1].height_mm, plan[1].weight_g) == (1500, 800, 200, 12000)


def test_nothing_to_pack_plans_no_package():
    assert cartonize([tee(0)], BOXES) == []


def test_smallest_box_is_none_when_nothing_holds_all_units():
    assert smallest_box([mug(1)] * 8, BOXES) is None
    assert smallest_box([mug(1)] * 2, BOXES) == SMALL
