"""Routing benchmark: our pick routes against the exact optimum, S-shape and location-code order.

    .venv/bin/python bench/routing.py [--seed 42] [--lists 1000] [--timing-lists 200] [--multi-lists 40]

Pure Python, no database (picking.routing and picking.heuristics need no Django set-up).

1. Our route (``picking.routing.route``) on ``--lists`` random pick lists of 5 to 40 picks (positions
   uniform over the storage bays, repeats allowed) in four layouts: 10 aisles x 30 bays, aisle pitch
   3 m, bay width 1 m; one block, or two blocks (a middle cross aisle after bay 15); the depot at the
   front of aisle 1, or of aisle 5 (the middle). Per layout:
   - against the exact optimum, by a Held-Karp programme written here (with its own metric), on every
     list of up to 12 distinct positions: every one must be equal within 1e-6 m, else exit status 1;
   - the ratio of our length to S-shape's (``picking.heuristics.s_shape``) and to walking the list in
     location-code order (``route_length(location_order(stops))``: what Odoo's and ERPNext's pick
     lists do), mean and [min, max], per pick-count band (5-12, 13-25, 26-40) and overall.
2. The time of ``route`` on ``--timing-lists`` lists of 50 picks, one and two blocks (p50/p95/max).
3. Three to six blocks (20 aisles x 60 bays, cross aisles evenly spaced, depot at aisle 1): how far
   ``picking.heuristics.best_route`` is from the exact optimum (``routing.optimal``) and how long
   both take, the figures behind ``routing.EXACT_MAX_BLOCKS``.
4. For scale, as the issue quotes them: on one-block lists of 4 to 12 picks, the optimum over
   S-shape and over location-code order, by aisle length and pick count.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import timed  # noqa: E402

from picking import heuristics  # noqa: E402
from picking.geometry import Layout, Stop, location_order, route_length  # noqa: E402
from picking.routing import EXACT_MAX_BLOCKS, optimal, optimal_length, route  # noqa: E402

AISLES, BAYS = 10, 30
BANDS = ((5, 12), (13, 25), (26, 40))
HEURISTICS = {"S-shape": heuristics.s_shape, "largest gap": heuristics.largest_gap, "combined": heuristics.combined}
TOLERANCE_M = 1e-6
HELD_KARP_MAX = 12


# -- the exact optimum, independently of picking.routing ----------------------------------------
#
# A pick at bay b of aisle a is at y = (b - 0.5) x bay width in block k (between the cross aisles
# at lines[k] and lines[k + 1]); the depot is at y = 0 (the front cross aisle) of the depot aisle.
# Two points in one sub-aisle are |y1 - y2| apart. Otherwise the walk leaves the first sub-aisle at
# one of its two cross aisles, changes aisle along some cross aisle and enters the second sub-aisle
# at one of its two: |x1 - x2| across plus the shortest of the four vertical combinations.


def _points(stops: list[Stop], layout: Layout) -> list[tuple[int, int, float]]:
    lines = layout.lines
    out = set()
    for stop in stops:
        y = (stop.bay - 0.5) * layout.bay_width_m
        block = sum(1 for line in lines[1:-1] if line < y)
        out.add((stop.aisle, block, y))
    return sorted(out)


def _metric(p: tuple[int, int, float], q: tuple[int, int, float], layout: Layout) -> float:
    (a1, k1, y1), (a2, k2, y2) = p, q
    if a1 == a2 and k1 == k2:
        return abs(y1 - y2)
    lines = layout.lines
    across = abs(a1 - a2) * layout.aisle_pitch_m
    return across + min(
        abs(y1 - out) + abs(out - into) + abs(into - y2)
        for out in (lines[k1], lines[k1 + 1])
        for into in (lines[k2], lines[k2 + 1])
    )


def held_karp(stops: list[Stop], layout: Layout) -> float:
    """The shortest tour from the depot through every position and back, by Held-Karp."""
    points = _points(stops, layout)
    n = len(points)
    if n == 0:
        return 0.0
    depot = (layout.depot_aisle, 0, 0.0)
    start = [_metric(depot, p, layout) for p in points]
    dist = [[_metric(p, q, layout) for q in points] for p in points]
    full = (1 << n) - 1
    # cost[mask][i]: the shortest walk from the depot through the positions in mask, ending at i.
    cost = [[math.inf] * n for _ in range(full + 1)]
    for i in range(n):
        cost[1 << i][i] = start[i]
    for mask in range(1, full + 1):
        row = cost[mask]
        free = full ^ mask
        for i in range(n):
            here = row[i]
            if here == math.inf:
                continue
            di = dist[i]
            rest = free
            while rest:
                bit = rest & -rest
                rest ^= bit
                j = bit.bit_length() - 1
                target = cost[mask | bit]
                if here + di[j] < target[j]:
                    target[j] = here + di[j]
    return min(cost[full][i] + start[i] for i in range(n))


# -- pick lists -------------------------------------------------------------------------------


def pick_list(rng: random.Random, picks: int, aisles: int, bays: int) -> list[Stop]:
    return [Stop(rng.randint(1, aisles), rng.randint(1, bays), i) for i in range(picks)]


def summary(values: list[float], digits: int = 3) -> str:
    if not values:
        return "-"
    return f"{statistics.fmean(values):.{digits}f} [{min(values):.{digits}f}, {max(values):.{digits}f}]"


def percentiles_ms(seconds: list[float]) -> tuple[float, float, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def one_layout(name: str, layout: Layout, lists: int, seed: int) -> bool:
    """Section 1 for one layout; False when a route is not optimal or not a real tour."""
    rng = random.Random(f"{seed}-{name}")
    by_band = {band: {"s": [], "loc": []} for band in BANDS}
    checked, worst, failures = 0, 0.0, []
    metres = {"ours": [], "s_shape": [], "location": []}
    for index in range(lists):
        stops = pick_list(rng, rng.randint(5, 40), AISLES, layout.bays)
        ordered, length = route(stops, layout)
        if sorted(s.key for s in ordered) != list(range(len(stops))) or (
            abs(route_length(ordered, layout) - length) > TOLERANCE_M
        ):
            failures.append(f"list {index}: the route is not a tour of that length through every stop")
        s_length = heuristics.s_shape(stops, layout)[1]
        loc_length = route_length(location_order(stops), layout)
        band = next(b for b in BANDS if b[0] <= len(stops) <= b[1])
        by_band[band]["s"].append(length / s_length)
        by_band[band]["loc"].append(length / loc_length)
        metres["ours"].append(length)
        metres["s_shape"].append(s_length)
        metres["location"].append(loc_length)
        if len({(s.aisle, s.bay) for s in stops}) <= HELD_KARP_MAX:
            exact = held_karp(stops, layout)
            checked += 1
            worst = max(worst, abs(length - exact))
            if abs(length - exact) > TOLERANCE_M:
                failures.append(f"list {index}: ours {length:.6f} m, Held-Karp {exact:.6f} m")
    print(f"\n{name}  ({lists} lists)")
    print(f"  {'picks':<8}{'lists':>6}   {'ours / S-shape':<28}{'ours / location-code order':<28}")
    all_s, all_loc = [], []
    for band in BANDS:
        s, loc = by_band[band]["s"], by_band[band]["loc"]
        all_s += s
        all_loc += loc
        print(f"  {f'{band[0]}-{band[1]}':<8}{len(s):>6}   {summary(s):<28}{summary(loc):<28}")
    print(f"  {'all':<8}{len(all_s):>6}   {summary(all_s):<28}{summary(all_loc):<28}")
    print(
        "  mean length: ours {:.1f} m, S-shape {:.1f} m, location-code order {:.1f} m".format(
            *(statistics.fmean(metres[k]) for k in ("ours", "s_shape", "location"))
        )
    )
    verdict = "equal for every one" if not failures else f"{len(failures)} NOT EQUAL"
    print(
        f"  ours / Held-Karp on the {checked} lists of <= {HELD_KARP_MAX} distinct positions: {verdict} "
        f"(largest difference {worst:.1e} m; goal 1.000 within {TOLERANCE_M:g} m)"
    )
    for failure in failures[:10]:
        print(f"    {failure}")
    return not failures


def timing(layouts: list[tuple[str, Layout]], lists: int, seed: int) -> None:
    print(f"\nTime of routing.route on {lists} lists of 50 picks (goal: under 5 ms)")
    print(f"  {'layout':<32}{'wall p50 / p95 / max ms':>26}{'CPU p50 / p95 ms':>20}")
    for name, layout in layouts:
        rng = random.Random(f"{seed}-timing-{name}")
        samples = [pick_list(rng, 50, AISLES, layout.bays) for _ in range(lists)]
        for stops in samples[:10]:  # warm the programme's cache of state transitions
            route(stops, layout)
        runs = [timed(route, stops, layout) for stops in samples]
        p50, p95, worst = percentiles_ms([r[1] for r in runs])
        c50, c95, _cworst = percentiles_ms([r[2] for r in runs])
        print(f"  {name:<32}{f'{p50:.2f} / {p95:.2f} / {worst:.2f}':>26}{f'{c50:.2f} / {c95:.2f}':>20}")


def many_blocks(lists: int, timing_lists: int, seed: int) -> None:
    aisles, bays = 20, 60
    print(
        f"\nMore blocks: {aisles} aisles x {bays} bays, pitch 3 m, bay 1 m, cross aisles evenly spaced, depot at "
        f"aisle 1; routing.EXACT_MAX_BLOCKS = {EXACT_MAX_BLOCKS}"
    )
    print(
        f"  best_route / optimum (routing.optimal) on {lists} lists of 5-40 picks, and on lists of 50 picks;"
        f" times of 50 picks: best_route on {timing_lists} lists, exact on the first n"
    )
    print(
        f"  {'blocks':<7}{'5-40: mean':>11}{'max':>7}{'optimal':>9}{'50: mean [min, max]':>27}{'n':>4}"
        f"{'best_route wall p50/p95/max':>30}{'CPU p50':>9}{'exact wall p50/max':>21}{'CPU p50':>9}"
    )
    alone_by_block: dict[int, list[float]] = {}
    exact_lists = {3: 20, 4: 10, 5: 5, 6: 3}  # exact routes of 50 picks take up to seconds from 5 blocks
    for blocks in (3, 4, 5, 6):
        layout = Layout(bays=bays, cross_aisles=tuple(bays * i // blocks for i in range(1, blocks)))
        rng = random.Random(f"{seed}-blocks-{blocks}")
        ratios, alone = [], []
        for _ in range(lists):
            stops = pick_list(rng, rng.randint(5, 40), aisles, bays)
            best = optimal_length(stops, layout)
            ratios.append(heuristics.best_route(stops, layout)[1] / best)
            alone.append([HEURISTICS[name](stops, layout)[1] / best for name in HEURISTICS])
        alone_by_block[blocks] = [statistics.fmean(row[k] for row in alone) for k in range(len(HEURISTICS))]
        samples = [pick_list(rng, 50, aisles, bays) for _ in range(timing_lists)]
        heuristic_runs = [timed(heuristics.best_route, stops, layout) for stops in samples]
        exact_runs, at_fifty = [], []
        for stops, heuristic_run in zip(samples[: exact_lists[blocks]], heuristic_runs, strict=False):
            exact_run = timed(optimal, stops, layout)
            exact_runs.append(exact_run)
            at_fifty.append(heuristic_run[0][1] / exact_run[0][1])
        p50, p95, worst = percentiles_ms([r[1] for r in heuristic_runs])
        c50 = percentiles_ms([r[2] for r in heuristic_runs])[0]
        e50, _e95, eworst = percentiles_ms([r[1] for r in exact_runs])
        ec50 = percentiles_ms([r[2] for r in exact_runs])[0]
        share = sum(1 for r in ratios if r <= 1 + 1e-9) / len(ratios)
        print(
            f"  {blocks:<7}{statistics.fmean(ratios):>11.4f}{max(ratios):>7.3f}{share:>9.0%}"
            f"{summary(at_fifty, 4):>27}{len(at_fifty):>4}"
            f"{f'{p50:.1f} / {p95:.1f} / {worst:.1f}':>30}{c50:>9.1f}{f'{e50:.0f} / {eworst:.0f}':>21}{ec50:>9.0f}"
        )
    print("  the heuristics alone (no local search) on the same lists of 5-40 picks, mean ratio to the optimum:")
    print(f"  {'blocks':<7}" + "".join(f"{name:>14}" for name in HEURISTICS))
    for blocks, means in alone_by_block.items():
        print(f"  {blocks:<7}" + "".join(f"{m:>14.3f}" for m in means))


def for_scale(lists: int, seed: int) -> None:
    print(f"\nFor scale: one block, {AISLES} aisles, depot at aisle 1, {lists} lists of 4-12 picks per aisle length")
    print("  the optimum / S-shape, and the optimum / location-code order, mean by pick count")
    bands = ((4, 6), (7, 9), (10, 12), (4, 12))
    header = "".join(f"{f'{lo}-{hi} picks':>22}" for lo, hi in bands)
    print(f"  {'bays':<6}{header}")
    for bays in (10, 15, 30, 60):
        layout = Layout(bays=bays)
        rng = random.Random(f"{seed}-scale-{bays}")
        rows = []
        for _ in range(lists):
            stops = pick_list(rng, rng.randint(4, 12), AISLES, bays)
            best = optimal_length(stops, layout)
            rows.append(
                (
                    len(stops),
                    best / heuristics.s_shape(stops, layout)[1],
                    best / route_length(location_order(stops), layout),
                )
            )
        cells = []
        for lo, hi in bands:
            chosen = [r for r in rows if lo <= r[0] <= hi]
            s = statistics.fmean(r[1] for r in chosen)
            loc = statistics.fmean(r[2] for r in chosen)
            cells.append(f"{f'{s:.3f} / {loc:.3f}':>22}")
        print(f"  {bays:<6}{''.join(cells)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--lists", type=int, default=1000, help="random pick lists per layout (default 1000)")
    parser.add_argument("--timing-lists", type=int, default=200, help="lists of 50 picks to time (default 200)")
    parser.add_argument("--multi-lists", type=int, default=40, help="lists per block count, 3-6 blocks (default 40)")
    args = parser.parse_args()

    print(
        f"Routing benchmark, seed {args.seed}; Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"layouts of {AISLES} aisles x {BAYS} bays, aisle pitch 3 m, bay width 1 m"
    )
    one = Layout(bays=BAYS)
    two = Layout(bays=BAYS, cross_aisles=(15,))
    layouts = [
        ("one block, depot at aisle 1", one),
        ("one block, depot at aisle 5", Layout(bays=BAYS, depot_aisle=5)),
        ("two blocks (cross aisle after bay 15), depot at aisle 1", two),
        (
            "two blocks (cross aisle after bay 15), depot at aisle 5",
            Layout(bays=BAYS, cross_aisles=(15,), depot_aisle=5),
        ),
    ]
    started = time.perf_counter()
    results = [one_layout(name, layout, args.lists, args.seed) for name, layout in layouts]  # every layout runs
    ok = all(results)
    timing(
        [
            ("one block, depot at aisle 1", one),
            ("one block, depot at aisle 5", layouts[1][1]),
            ("two blocks, depot at aisle 1", two),
            ("two blocks, depot at aisle 5", layouts[3][1]),
        ],
        args.timing_lists,
        args.seed,
    )
    many_blocks(args.multi_lists, args.timing_lists, args.seed)
    for_scale(args.lists, args.seed)
    print(f"\n{'ok' if ok else 'FAILED: some routes are not optimal'} ({time.perf_counter() - started:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
