"""A drawing of a planned package for the pack station: an isometric SVG of the box with every
unit where cartonization placed it, numbered in the order a packer puts them in (bottom layer
first, then back to front, left to right), so that the packer can follow it step by step.

Pure: it reads a PlannedPackage and the SKUs of its items, and returns SVG markup (no database).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape

from packing.cartonization import PlannedPackage

# Colour per SKU, in the order the SKUs first appear: distinct on a bench screen and in greyscale.
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")
COS30 = math.cos(math.radians(30))
SIN30 = 0.5


@dataclass(frozen=True)
class Step:
    """One unit to put in: its number in packing order, SKU, and where (mm from the box's back-left-bottom corner)."""

    number: int
    sku: str
    x_mm: int
    y_mm: int
    z_mm: int
    length_mm: int
    width_mm: int
    height_mm: int
    colour: str


def packing_steps(package: PlannedPackage, skus: list[str]) -> list[Step]:
    """The package's placements in packing order; ``skus[i]`` is the SKU of item ``i``."""
    colours: dict[str, str] = {}
    for sku in skus:
        colours.setdefault(sku, PALETTE[len(colours) % len(PALETTE)])
    ordered = sorted(package.placements, key=lambda p: (p.z_mm, p.y_mm, p.x_mm))
    return [
        Step(
            number=i,
            sku=skus[p.item],
            x_mm=p.x_mm,
            y_mm=p.y_mm,
            z_mm=p.z_mm,
            length_mm=p.length_mm,
            width_mm=p.width_mm,
            height_mm=p.height_mm,
            colour=colours[skus[p.item]],
        )
        for i, p in enumerate(ordered, start=1)
    ]


def _behind(a: Step, b: Step) -> bool:
    """True when ``a`` must be painted before ``b`` (seen from above, front and right: +x, +y, +z)."""
    return a.x_mm + a.length_mm <= b.x_mm or a.y_mm + a.width_mm <= b.y_mm or a.z_mm + a.height_mm <= b.z_mm


def _paint_order(steps: list[Step]) -> list[Step]:
    """Back to front: a unit is painted only after every unit it hides (a topological order; for
    boxes that do not overlap the relation has no cycle, but a stray one falls back to depth)."""
    remaining = sorted(steps, key=lambda s: s.x_mm + s.y_mm + s.z_mm)
    out: list[Step] = []
    while remaining:
        for i, candidate in enumerate(remaining):
            if not any(_behind(other, candidate) for j, other in enumerate(remaining) if j != i):
                out.append(remaining.pop(i))
                break
        else:
            out.append(remaining.pop(0))
    return out


def _shade(colour: str, factor: float) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(max(0, min(255, round(c * factor))) for c in (r, g, b)))


def package_svg(package: PlannedPackage, skus: list[str], *, width_px: int = 320, title: str = "") -> str:
    """The isometric drawing of ``package`` as an ``<svg>`` element scaled to ``width_px`` wide.

    A package with no box (a unit shipping in its own container) is drawn as that unit alone.
    """
    steps = packing_steps(package, skus)
    length, width, height = package.length_mm, package.width_mm, package.height_mm

    def project(x: float, y: float, z: float) -> tuple[float, float]:
        return (x - y) * COS30, (x + y) * SIN30 - z

    corners = [project(x, y, z) for x in (0, length) for y in (0, width) for z in (0, height)]
    min_x = min(c[0] for c in corners)
    max_x = max(c[0] for c in corners)
    min_y = min(c[1] for c in corners)
    max_y = max(c[1] for c in corners)
    scale = (width_px - 16) / max(max_x - min_x, 1)
    height_px = round((max_y - min_y) * scale + 16)

    def point(x: float, y: float, z: float) -> str:
        px, py = project(x, y, z)
        return f"{(px - min_x) * scale + 8:.1f},{(py - min_y) * scale + 8:.1f}"

    def face(points: list[tuple[float, float, float]], fill: str, stroke: str = "#222", extra: str = "") -> str:
        return f'<polygon points="{" ".join(point(*p) for p in points)}" fill="{fill}" stroke="{stroke}" {extra}/>'

    L, W, H = length, width, height
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pk-drawing" viewBox="0 0 {width_px} {height_px}" '
        f'width="{width_px}" height="{height_px}" role="img" aria-label="{escape(title or "package drawing")}">',
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    # The box's far walls and floor, so that units stand out against them.
    parts.append(face([(0, 0, 0), (L, 0, 0), (L, W, 0), (0, W, 0)], "#f4efe6", "#8a7a5c"))
    parts.append(face([(0, 0, 0), (L, 0, 0), (L, 0, H), (0, 0, H)], "#ebe3d3", "#8a7a5c"))
    parts.append(face([(0, 0, 0), (0, W, 0), (0, W, H), (0, 0, H)], "#e2d8c3", "#8a7a5c"))
    for s in _paint_order(steps):
        x0, y0, z0 = s.x_mm, s.y_mm, s.z_mm
        x1, y1, z1 = x0 + s.length_mm, y0 + s.width_mm, z0 + s.height_mm
        parts.append(f'<g class="pk-unit" data-step="{s.number}" data-sku="{escape(s.sku)}">')
        parts.append(face([(x0, y0, z1), (x1, y0, z1), (x1, y1, z1), (x0, y1, z1)], s.colour))  # top
        parts.append(face([(x1, y0, z0), (x1, y1, z0), (x1, y1, z1), (x1, y0, z1)], _shade(s.colour, 0.8)))  # +x
        parts.append(face([(x0, y1, z0), (x1, y1, z0), (x1, y1, z1), (x0, y1, z1)], _shade(s.colour, 0.62)))  # +y
        # The number goes on the unit's front face, which stays visible when more units are stacked
        # on top; on its top when the front face is too thin to hold it.
        if s.height_mm * scale >= 13:
            cx, cy = (float(v) for v in point((x0 + x1) / 2, y1, (z0 + z1) / 2).split(","))
        else:
            cx, cy = (float(v) for v in point((x0 + x1) / 2, (y0 + y1) / 2, z1).split(","))
        parts.append(
            f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" font-size="12" font-weight="700" '
            f'fill="#fff" stroke="#000" stroke-width="0.6" paint-order="stroke">{s.number}</text>'
        )
        parts.append("</g>")
    # The near edges of the box as a dashed outline over everything.
    outline = [
        ((L, 0, 0), (L, W, 0)),
        ((0, W, 0), (L, W, 0)),
        ((L, W, 0), (L, W, H)),
        ((L, 0, H), (L, W, H)),
        ((0, W, H), (L, W, H)),
        ((0, 0, H), (L, 0, H)),
        ((0, 0, H), (0, W, H)),
        ((L, 0, 0), (L, 0, H)),
        ((0, W, 0), (0, W, H)),
    ]
    for a, b in outline:
        (ax, ay), (bx, by) = (point(*a).split(","), point(*b).split(","))
        parts.append(
            f'<line x1="{ax}" y1="{ay}" x2="{bx}" y2="{by}" stroke="#5b4a2c" stroke-width="1.2" stroke-dasharray="4 3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
