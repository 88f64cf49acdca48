"""The pack station's drawing of a planned package (pure: no database)."""

from xml.etree import ElementTree

from packing.cartonization import BoxSpec, ItemSpec, cartonize
from packing.drawing import _paint_order, package_svg, packing_steps

SVG = "{http://www.w3.org/2000/svg}"
TEE = ItemSpec(sku="TEE", quantity=3, length_mm=250, width_mm=200, height_mm=30, weight_g=200)
BOOK = ItemSpec(sku="BOOK", quantity=2, length_mm=230, width_mm=150, height_mm=40, weight_g=500)
BOX = BoxSpec(code="S", length_mm=300, width_mm=250, height_mm=150, max_weight_g=10000, tare_weight_g=200)


def _plan():
    [package] = cartonize([TEE, BOOK], [BOX])
    return package


def test_every_unit_is_drawn_once_numbered_in_packing_order():
    package = _plan()
    svg = ElementTree.fromstring(package_svg(package, ["TEE", "BOOK"]))
    units = svg.findall(f"{SVG}g")
    assert sorted(int(g.get("data-step")) for g in units) == list(range(1, 6))
    assert sorted(g.get("data-sku") for g in units) == ["BOOK", "BOOK", "TEE", "TEE", "TEE"]
    # Each unit shows its number.
    assert sorted(int(g.find(f"{SVG}text").text) for g in units) == [1, 2, 3, 4, 5]


def test_packing_steps_go_bottom_layer_first():
    steps = packing_steps(_plan(), ["TEE", "BOOK"])
    assert [s.z_mm for s in steps] == sorted(s.z_mm for s in steps)
    assert steps[0].z_mm == 0


def test_a_unit_resting_on_another_is_painted_after_it():
    steps = packing_steps(_plan(), ["TEE", "BOOK"])
    painted = [s.number for s in _paint_order(steps)]
    for lower in steps:
        for upper in steps:
            if upper.z_mm >= lower.z_mm + lower.height_mm and upper.x_mm < lower.x_mm + lower.length_mm:
                assert painted.index(lower.number) < painted.index(upper.number)


def test_same_sku_gets_the_same_colour_and_skus_differ():
    steps = packing_steps(_plan(), ["TEE", "BOOK"])
    colours = {s.sku: {t.colour for t in steps if t.sku == s.sku} for s in steps}
    assert all(len(c) == 1 for c in colours.values())
    assert colours["TEE"] != colours["BOOK"]


def test_title_is_escaped_and_the_svg_scales_to_the_width_asked():
    svg = ElementTree.fromstring(package_svg(_plan(), ["TEE", "BOOK"], width_px=200, title="Box <S> & co"))
    assert svg.get("width") == "200"
    assert svg.find(f"{SVG}title").text == "Box <S> & co"
