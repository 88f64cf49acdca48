"""Exact shortest-tour lengths of many carts at once.

picking.routing sweeps the aisles left to right with a dynamic programme whose states summarise
a partial tour (per cross-aisle node of the current aisle: absent, or present with a degree
parity and a component). The states and moves here are routing's own (`routing.canonical`,
`across_moves`, `depot_moves`, `cover_moves`, `is_final`); what is batching's is how they run.

- A cart is a bit mask per (aisle, block) of the bays holding picks, so a union of orders is a
  bitwise OR.
- The programme is compiled once per layout and number of aisles (`Program`): one sweep over
  every aisle serves every cart at once. Before its first aisle a cart stays in the empty state;
  after any aisle from the depot's on, a finished tour may pass into DONE, which only empty
  sub-aisles let through (its one cover is NONE): that is how carts that end early share the
  sweep. Per step: for every move, its source state, its option (or constant cost) and its
  target, the moves grouped by target.
- One step for N carts is then a gather, an add and a `minimum.reduceat` over a (moves x N)
  array; the cover costs of every sub-aisle (first and last pick, largest gap) come from table
  look-ups on 16-bit pieces of the masks.

One-block carts cost about 5 us each this way, two-block ones 15-30 us (10-20 aisles) and
three-block ones 170 us (20 aisles), against 40-130 us and 190-620 us for one `optimal_length`
call of 1-30 picks, which also has 0.1-0.3 ms of fixed overhead: callers ask for lengths in bulk.
(Development measurements with a one-off timer, as in bench/README.md; `make bench` does not
print them.)

The compiled programmes and the bit tables are shared by every thread: each is built into
locals and published with one assignment, so a thread sees either nothing (and builds its own)
or a whole one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from picking import routing
from picking.geometry import Layout, Stop
from picking.routing import BACK, DOUBLE, EXACT_MAX_BLOCKS, FRONT, GAP, NONE, TRAVERSE

INF = float("inf")
_CHUNK = 256  # carts per numpy pass: larger arrays fall out of the CPU caches (1,024: 20-60% slower)
_WORD_BAYS = 64  # a block of up to this many bays fits one uint64 mask
_KEEP_PROGRAMS = 64

State = tuple[int, ...]
DONE: State = (-1,)  # a finished tour, carried through the empty aisles after it


def _covers(state: State, k: int) -> list[tuple[int, State]]:
    """Every cover of block k's sub-aisle, with or without picks there: the cover costs rule out
    those that do not apply (NONE where there are picks; GAP, FRONT and BACK where there are none)."""
    if state == DONE:
        return [(NONE, DONE)]
    moves: dict[int, State] = {}
    for picks in (False, True):
        for cover, target in routing.cover_moves(state, k, picks):
            moves.setdefault(cover, target)
    return sorted(moves.items())


def _between(state: State, step: tuple) -> list[tuple[int, State]]:
    """The moves of one constant-cost step: ("h", i) and ("d",) as routing's, ("done",) the
    passage of a finished tour into DONE."""
    if state == DONE:
        return [(0, DONE)]
    if step[0] == "h":
        return routing.across_moves(state, step[1])
    if step[0] == "d":
        return routing.depot_moves(state)
    return [(0, state), (0, DONE)] if routing.is_final(state) else [(0, state)]


def _ends(state: State) -> bool:
    return state == DONE or routing.is_final(state)


@dataclass(frozen=True)
class Program:
    """One compiled sweep over every aisle.

    ``steps``: (aisle index or None, block or None, source rows, options or constant costs,
    reduceat starts), the constant-cost steps between covers composed into one. ``finals``: the
    rows of the end states after the last step. ``stops_after``: last aisle (1-based) -> (steps
    to run, rows of the end states there, moves made so far), so that carts ending early stop
    early."""

    steps: tuple
    finals: np.ndarray
    stops_after: dict[int, tuple[int, np.ndarray, int]]

    @property
    def moves(self) -> int:
        return sum(len(step[2]) for step in self.steps)


def _compile(layout: Layout, aisles: int) -> Program:
    """2 ms on one block, 15-50 on two, 80-300 on three."""
    nodes = layout.blocks + 1
    pitch = layout.aisle_pitch_m
    layer: list[State] = [(0,) * nodes]
    raw: list[tuple[tuple, list]] = []
    for aisle in range(1, aisles + 1):
        # The steps between covers have constant costs: composed into one step, source -> target
        # at the cheapest combined cost.
        sequence: list[tuple] = []
        if aisle > 1:
            if aisle - 1 >= layout.depot_aisle:
                sequence.append(("done",))
            sequence.extend(("h", i) for i in range(nodes))
        if aisle == layout.depot_aisle:
            sequence.append(("d",))
        if sequence:
            moves = []
            for state in layer:
                frontier = {state: 0.0}
                for step in sequence:
                    reached: dict[State, float] = {}
                    for s, cost in frontier.items():
                        for h, target in _between(s, step):
                            if cost + h * pitch < reached.get(target, INF):
                                reached[target] = cost + h * pitch
                    frontier = reached
                moves.extend((state, target, cost) for target, cost in frontier.items())
            raw.append((("const",), moves))
            layer = sorted({m[1] for m in moves})
        for k in range(layout.blocks):
            moves = [(s, target, cover) for s in layer for cover, target in _covers(s, k)]
            raw.append((("cover", aisle - 1, k), moves))
            layer = sorted({m[1] for m in moves})
    ends = {s for s in layer if _ends(s)}
    # Backwards: drop the states from which no end can be reached.
    alive = ends
    kept = []
    for info, moves in reversed(raw):
        moves = [m for m in moves if m[1] in alive]
        kept.append((info, moves))
        alive = {m[0] for m in moves}
    steps = []
    stops_after: dict[int, tuple[int, np.ndarray, int]] = {}
    made = 0
    index = {(0,) * nodes: 0}
    for info, moves in reversed(kept):
        moves.sort(key=lambda m: (m[1], m[0], m[2]))
        targets = {t: i for i, t in enumerate(sorted({m[1] for m in moves}))}
        source = np.array([index[m[0]] for m in moves], dtype=np.intp)
        target = np.array([targets[m[1]] for m in moves], dtype=np.intp)
        starts = np.flatnonzero(np.r_[True, target[1:] != target[:-1]])
        made += len(moves)
        if info[0] == "const":
            steps.append((None, None, source, np.array([m[2] for m in moves]), starts))
        else:
            steps.append((info[1], info[2], source, np.array([m[2] for m in moves], dtype=np.intp), starts))
            if info[2] == layout.blocks - 1:
                # The end of aisle info[1] + 1: a cart whose last aisle this is can stop here.
                done = np.array([i for s, i in targets.items() if _ends(s)], dtype=np.intp)
                stops_after[info[1] + 1] = (len(steps), done, made)
        index = targets
    finals = np.array([i for s, i in index.items() if s in ends], dtype=np.intp)
    return Program(steps=tuple(steps), finals=finals, stops_after=stops_after)


_PROGRAMS: dict[tuple[Layout, int], Program] = {}
_PROGRAMS_LOCK = threading.Lock()


def program(layout: Layout, aisles: int) -> Program:
    """The compiled sweep, once per (layout, aisles) per process."""
    key = (layout, aisles)
    found = _PROGRAMS.get(key)
    if found is not None:
        return found
    # One thread compiles while the others wait for it, instead of all compiling the same.
    with _PROGRAMS_LOCK:
        found = _PROGRAMS.get(key)
        if found is None:
            found = _compile(layout, aisles)
            if len(_PROGRAMS) >= _KEEP_PROGRAMS:
                _PROGRAMS.clear()
            _PROGRAMS[key] = found
    return found


_BIT_TABLES: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def bit_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every 16-bit value: its lowest and highest set bit (-1 when none) and the largest
    distance between neighbouring set bits (0 with fewer than two)."""
    global _BIT_TABLES
    tables = _BIT_TABLES
    if tables is None:
        values = np.arange(1 << 16)
        low = np.full(1 << 16, -1, dtype=np.int64)
        high = np.full(1 << 16, -1, dtype=np.int64)
        gap = np.zeros(1 << 16, dtype=np.int64)
        for bit in range(16):
            on = (values >> bit) & 1 == 1
            gap = np.where(on & (high >= 0), np.maximum(gap, bit - high), gap)
            low = np.where(on & (low < 0), bit, low)
            high = np.where(on, bit, high)
        # Built whole before it is published: another thread sees None or all three.
        tables = _BIT_TABLES = (low, high, gap)
    return tables


class Sweep:
    """Exact shortest-tour lengths of many position sets at once, each given as bit masks
    ((sets, aisles, blocks) of uint64; of Python ints where a block is deeper than 64 bays)."""

    def __init__(self, layout: Layout, aisles: int) -> None:
        self.layout = layout
        self.aisles = aisles
        self.blocks = layout.blocks
        self.first_bay = (0, *layout.cross_aisles)
        sizes = [b - a for a, b in zip(self.first_bay, (*layout.cross_aisles, layout.bays), strict=True)]
        # Blocks deeper than one machine word are rare; their masks are Python ints and their
        # lengths come from routing one by one. Past EXACT_MAX_BLOCKS blocks the programme grows
        # too large (four blocks: 125,000 moves a sweep), and routing's heuristic length is the
        # one pick lists walk there anyway.
        self.vector = max(sizes) <= _WORD_BAYS and layout.blocks <= EXACT_MAX_BLOCKS
        self.dtype = np.uint64 if self.vector else object
        self.pieces = -(-max(sizes) // 16)  # 16-bit pieces of a block's mask
        lines = layout.lines
        self.length = np.array([lines[k + 1] - lines[k] for k in range(self.blocks)])
        self.program = program(layout, aisles) if self.vector else None
        self.spent = 0.0  # planned seconds of the sweeps run so far, from the moves they made

    def masks(self, stop_lists: Sequence[Sequence[Stop]]) -> np.ndarray:
        out = np.zeros((len(stop_lists), self.aisles, self.blocks), dtype=self.dtype)
        one = np.uint64(1) if self.vector else 1
        for row, stops in enumerate(stop_lists):
            for stop in stops:
                k = self.layout.block_of(stop.bay)
                bit = stop.bay - self.first_bay[k] - 1
                out[row, stop.aisle - 1, k] |= one << (np.uint64(bit) if self.vector else bit)
        return out

    def _stops(self, mask: np.ndarray) -> list[Stop]:
        stops = []
        for aisle in range(self.aisles):
            for k in range(self.blocks):
                bits = int(mask[aisle, k])
                while bits:
                    low = bits & -bits
                    stops.append(Stop(aisle + 1, self.first_bay[k] + low.bit_length()))
                    bits ^= low
        return stops

    def covers(self, masks: np.ndarray) -> np.ndarray:
        """(N, aisles, blocks) masks -> (aisles, blocks, 6, N) costs of the six covers."""
        m = np.ascontiguousarray(masks.transpose(1, 2, 0))
        low, high, gap = bit_tables()
        first = np.full(m.shape, -1, dtype=np.int64)  # lowest bay offset with a pick
        last = np.full(m.shape, -1, dtype=np.int64)  # highest
        widest = np.zeros(m.shape, dtype=np.int64)  # largest gap between neighbouring picks, in bays
        for piece in range(self.pieces):
            bits = ((m >> np.uint64(16 * piece)) & np.uint64(0xFFFF)).astype(np.intp)
            here = bits != 0
            base = 16 * piece
            lo = low[bits] + base
            across = np.where(here & (last >= 0), lo - last, 0)
            widest = np.maximum(widest, np.maximum(gap[bits], across))
            first = np.where((first < 0) & here, lo, first)
            last = np.where(here, high[bits] + base, last)
        picks = last >= 0
        w = self.layout.bay_width_m
        length = self.length[None, :, None]
        out = np.empty((self.aisles, self.blocks, 6, m.shape[-1]))
        out[:, :, NONE] = np.where(picks, INF, 0.0)
        out[:, :, TRAVERSE] = length
        out[:, :, DOUBLE] = 2 * length
        out[:, :, GAP] = np.where(widest > 0, 2 * (length - widest * w), INF)
        out[:, :, FRONT] = np.where(picks, 2 * (last + 0.5) * w, INF)
        out[:, :, BACK] = np.where(picks, 2 * (length - (first + 0.5) * w), INF)
        return out

    def lengths(self, masks: np.ndarray) -> np.ndarray:
        n = len(masks)
        out = np.zeros(n)
        if not n:
            return out
        if not self.vector:
            self.spent += n * 5e-4 * self.layout.blocks
            for row in range(n):
                stops = self._stops(masks[row])
                if stops:
                    out[row] = routing.shortest_length(stops, self.layout)
            return out
        program = self.program
        occupied = (masks != 0).any(axis=2)
        last = np.maximum(np.where(occupied, np.arange(1, self.aisles + 1), 0).max(axis=1), self.layout.depot_aisle)
        # The others walk 0 m. By last aisle, so that a chunk of carts that end early stops its
        # sweep there.
        rows = np.flatnonzero(occupied.any(axis=1))
        rows = rows[np.argsort(last[rows], kind="stable")]
        for start in range(0, len(rows), _CHUNK):
            part = rows[start : start + _CHUNK]
            count, finals, moves = program.stops_after[int(last[part].max())]
            # About this machine's speed when it is not shared: per chunk, per cart, per move.
            self.spent += (60 + 3 * count) * 1e-6 + len(part) * (1.5 + 0.007 * moves) * 1e-6
            covers = self.covers(masks[part])
            cost = np.zeros((1, len(part)))
            for aisle, k, source, option, starts in program.steps[:count]:
                if aisle is None:
                    values = cost[source] + option[:, None]
                else:
                    values = cost[source] + covers[aisle, k][option]
                cost = np.minimum.reduceat(values, starts, axis=0)
            out[part] = cost[finals].min(axis=0)
        return out
