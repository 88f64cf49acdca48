"""Batching benchmark: our batching against first-come-first-served and Clarke-Wright savings.

    .venv/bin/python bench/batching.py      (or: [--sizes 200 1000] [--seeds 3] [--budget 5] [--large 5000])

No database: it calls picking.batching directly on seeded random orders.

- Layouts: 10 aisles x 30 bays, aisle pitch 3 m, bay width 1 m, depot at the front of aisle 1;
  one block, and two blocks (a middle cross aisle after bay 15).
- Orders: 1 line (50%), 2 (30%), 3 (12%) or 4 (8%), distinct products. One product per
  location (300). Demand is skewed as in a warehouse with class-based storage: the products of
  aisles 1-2 (A) take 70% of the lines, of aisles 3-5 (B) 20%, of aisles 6-10 (C) 10%; within a
  class, the i-th most popular product's share goes as 1 / i (Zipf), the ranks shuffled over
  the class's locations by the seed.
- Cart: 8 totes, one tote per order (no volume or line limit).
- For each layout, size and seed: the total route length (exact optimum per batch, picking.routing)
  of FCFS (the orders in arrival order fill carts), Clarke-Wright C&W(ii) and ours
  (`picking.batching.batch`, called as the planner calls it: the effort decides, the clock only
  stops it at twice that) with the planner's budget for a wave of that many orders
  (picking.planning: BUDGET_PER_ORDER_S per order, at least MIN_BUDGET_S, at most MAX_BUDGET_S)
  and with ``--budget`` seconds; the ratios, the run times, and what each step of ours buys at
  the planner's budget. Then ours alone on ``--large`` orders (with C&W(ii) too unless
  ``--no-large-cw``).

Exit status 1 when any batching drops or duplicates an order or puts more on a cart than fits.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfillment.test_settings")

import django  # noqa: E402

django.setup()  # picking.planning imports models; nothing here touches a database

from common import timed  # noqa: E402

from picking import planning  # noqa: E402
from picking.batching import BatchOrder, Cart, batch, clarke_wright, fcfs, total_length  # noqa: E402
from picking.geometry import Layout, Stop  # noqa: E402

AISLES, BAYS = 10, 30
LINES, LINE_WEIGHTS = (1, 2, 3, 4), (0.50, 0.30, 0.12, 0.08)
CLASSES = ((range(1, 3), 0.70), (range(3, 6), 0.20), (range(6, 11), 0.10))  # (aisles, share of lines)
CART = Cart(totes=8)
LAYOUTS = {
    "one block": Layout(bays=BAYS, aisle_pitch_m=3.0, bay_width_m=1.0),
    "two blocks": Layout(bays=BAYS, aisle_pitch_m=3.0, bay_width_m=1.0, cross_aisles=(15,)),
}
STEPS = ("savings", "descent", "emptying part-full carts", "iterated local search")


def orders(n: int, seed: int) -> list[BatchOrder]:
    rng = random.Random(seed)
    locations: list[tuple[int, int]] = []
    weights: list[float] = []
    for aisles, share in CLASSES:
        here = [(a, b) for a in aisles for b in range(1, BAYS + 1)]
        rng.shuffle(here)
        zipf = [1 / rank for rank in range(1, len(here) + 1)]
        locations += here
        weights += [share * z / sum(zipf) for z in zipf]
    out = []
    for i in range(n):
        k = rng.choices(LINES, LINE_WEIGHTS)[0]
        chosen: set[int] = set()
        while len(chosen) < k:
            chosen.add(rng.choices(range(len(locations)), weights)[0])
        stops = tuple(Stop(*locations[j], key=(i, j)) for j in sorted(chosen))
        out.append(BatchOrder(key=i, stops=stops, lines=k))
    return out


def ours(given, layout, budget: float, **kwargs):
    """`batch` as the planner calls it: the effort decides, the clock stops it only at twice that."""
    return batch(given, CART, layout, effort_s=budget, time_budget_s=2 * budget, **kwargs)


def planner_budget(n: int) -> float:
    """What picking.planning gives batching for a wave of n orders that share carts."""
    return max(planning.MIN_BUDGET_S, min(planning.MAX_BUDGET_S, planning.BUDGET_PER_ORDER_S * n))


def problems(batches: list[list[BatchOrder]], given: list[BatchOrder]) -> list[str]:
    """What is wrong with a batching: orders dropped or repeated, carts over capacity."""
    found = []
    keys = sorted(o.key for b in batches for o in b)
    if keys != sorted(o.key for o in given):
        found.append(f"orders placed {len(keys)} times for {len(given)} orders, {len(set(keys))} distinct")
    for b in batches:
        if not CART.fits(b) and not (len(b) == 1 and not CART.fits(b[:1])):
            found.append(f"a cart holds {len(b)} orders, {sum(o.totes for o in b)} totes")
    return found


def position_sets(given: list[BatchOrder]) -> int:
    """How many distinct sets of positions the orders visit (identical orders route alike)."""
    return len({frozenset((s.aisle, s.bay) for s in o.stops) for o in given})


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--seeds", type=int, default=3, help="instances per layout and size (seeds 1..N)")
    parser.add_argument("--budget", type=float, default=5.0, help="effort of ours in the second run, s")
    parser.add_argument("--large", type=int, default=5000, help="orders of the large run (0: none)")
    parser.add_argument("--no-large-cw", action="store_true", help="skip C&W(ii) in the large run")
    args = parser.parse_args()
    failures: list[str] = []
    print(
        f"cart {CART.totes} totes, one per order; ours at the planner's budget ({planning.BUDGET_PER_ORDER_S * 1e3:g} ms "
        f"per order, {planning.MIN_BUDGET_S:g}-{planning.MAX_BUDGET_S:g} s) and with {args.budget:g} s"
    )
    print(
        f"distinct position sets of the orders, seeds 1-{args.seeds}: "
        + "; ".join(
            f"{n:,} orders: " + ", ".join(str(position_sets(orders(n, seed))) for seed in range(1, args.seeds + 1))
            for n in args.sizes
        )
    )
    print()
    print(
        "| layout | orders | seed | FCFS m | C&W(ii) m | ours m | ours/C&W | ours/FCFS | C&W s | ours s (budget) "
        f"| carts F/C/o | ours/C&W with {args.budget:g} s | its s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    summary = []
    for name, layout in LAYOUTS.items():
        for n in args.sizes:
            rows = []
            for seed in range(1, args.seeds + 1):
                given = orders(n, seed)
                first = fcfs(given, CART)
                savings, savings_s, _ = timed(clarke_wright, given, CART, layout)
                budget = planner_budget(n)
                trace: list = []
                mine, ours_s, _ = timed(ours, given, layout, budget, trace=trace)
                more, more_s, _ = timed(ours, given, layout, args.budget)
                for label, result in (("fcfs", first), ("clarke_wright", savings), ("batch", mine), ("batch", more)):
                    failures += [f"{name}, {n} orders, seed {seed}, {label}: {p}" for p in problems(result, given)]
                f, c, o, m = (total_length(b, layout) for b in (first, savings, mine, more))
                steps = {step: length / c for step, length, _ in trace}
                rows.append((o / c, o / f, savings_s, ours_s, m / c, more_s, steps))
                print(
                    f"| {name} | {n:,} | {seed} | {f:,.0f} | {c:,.0f} | {o:,.0f} | {o / c:.3f} | {o / f:.3f} "
                    f"| {savings_s:.2f} | {ours_s:.2f} ({budget:g}) | {len(first)}/{len(savings)}/{len(mine)} "
                    f"| {m / c:.3f} | {more_s:.2f} |",
                    flush=True,
                )
            summary.append((name, n, rows))
    print()
    print(
        "| layout | orders | ours/C&W (mean, worst) | ours/FCFS (mean) | C&W s (mean) | ours s (mean) "
        f"| ours/C&W with {args.budget:g} s (mean, worst) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, n, rows in summary:
        print(
            f"| {name} | {n:,} | **{mean(r[0] for r in rows):.3f}**, {max(r[0] for r in rows):.3f} "
            f"| **{mean(r[1] for r in rows):.3f}** | {mean(r[2] for r in rows):.2f} | {mean(r[3] for r in rows):.2f} "
            f"| {mean(r[4] for r in rows):.3f}, {max(r[4] for r in rows):.3f} |"
        )
    print()
    print("What each step of ours buys at the planner's budget: total / C&W(ii) after it (mean over seeds).")
    print()
    print("| layout | orders | " + " | ".join(STEPS) + " |")
    print("|---|---|" + "---|" * len(STEPS))
    for name, n, rows in summary:
        cells = [f"{mean(r[6][step] for r in rows):.4f}" if all(step in r[6] for r in rows) else "-" for step in STEPS]
        print(f"| {name} | {n:,} | " + " | ".join(cells) + " |")
    if args.large:
        print()
        print(
            "| layout | orders | FCFS m | C&W(ii) m | ours m | ours/C&W | ours/FCFS | C&W s | ours s (budget) | carts F/C/o |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        after_savings = []
        for name, layout in LAYOUTS.items():
            given = orders(args.large, 1)
            first = fcfs(given, CART)
            budget = planner_budget(args.large)
            trace = []
            mine, ours_s, _ = timed(ours, given, layout, budget, trace=trace)
            savings, savings_s, _ = (None, 0.0, 0.0) if args.no_large_cw else timed(clarke_wright, given, CART, layout)
            for label, result in (("fcfs", first), ("batch", mine), ("clarke_wright", savings or [])):
                if result:
                    failures += [f"{name}, {args.large} orders, {label}: {p}" for p in problems(result, given)]
            f, o = total_length(first, layout), total_length(mine, layout)
            c = total_length(savings, layout) if savings else None
            if c:
                after_savings += [f"{name} {length / c:.3f}" for step, length, _ in trace if step == "savings"]
            print(
                f"| {name} | {args.large:,} | {f:,.0f} | {f'{c:,.0f}' if c else '-'} | {o:,.0f} "
                f"| {f'{o / c:.3f}' if c else '-'} | {o / f:.3f} | {f'{savings_s:.2f}' if c else '-'} "
                f"| {ours_s:.2f} ({budget:g}) | {len(first)}/{len(savings) if savings else '-'}/{len(mine)} |",
                flush=True,
            )
        if after_savings:
            print()
            print(f"ours after its savings alone / C&W(ii), {args.large:,} orders: " + ", ".join(after_savings))
    print()
    if failures:
        print("FAILED:")
        for failure in failures:
            print(" ", failure)
        return 1
    print("checks: every order in exactly one batch, no cart over capacity (all methods, all runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
