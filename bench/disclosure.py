"""Time of secondary suppression (`core.disclosure._Network`), the previous algorithm beside
the current one, on seeded random tables shaped like the governance figures:

- metric grids: ~77 units × 5 years with row, column and grand totals, as `metrics` protects
  them through `protect_table` (sparse: most units small; mixed; dense: few small cells);
- profile tables: ~10 categories × 6 mechanisms, built as the participation profile used to build them
  (small mechanisms hidden whole, some column totals locked, a grand total of tier 1).

Each case runs `protect(primary)` then `leaks(chosen)`, as the callers do, with the previous
`_Network` (kept as `_ReferenceNetwork` in tests/core/test_disclosure.py, the oracle of the
equivalence test) and with the current one, checks that both hide the same edges and prints
the total time of each, the ratio, and the slowest single table. Usage:
    .venv/bin/python bench/disclosure.py [tables per case=20] [seed=8]
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from participation.core import disclosure as d  # noqa: E402
from tests.core.test_disclosure import _ReferenceNetwork  # noqa: E402

MIN = d.MIN_CELL


def grid_counts(rng: random.Random, n_rows: int, n_cols: int, median: float, zeros: float) -> list[list[int]]:
    """Units of very different sizes (lognormal), each year near the unit's size, some zeros."""
    rows = []
    for _ in range(n_rows):
        size = rng.lognormvariate(0, 1.2) * median
        rows.append([0 if rng.random() < zeros else max(0, round(size * rng.uniform(0.5, 1.5))) for _ in range(n_cols)])
    return rows


def table_network(counts: list[list[int]]):
    """The edges `protect_table` builds for a grid (rows additive, no published margin)."""
    n_rows, n_cols = len(counts), len(counts[0])
    row_totals = [sum(row) for row in counts]
    col_totals = [sum(row[c] for row in counts) for c in range(n_cols)]
    margin = d.protect_line(col_totals, sum(row_totals))
    edges, primary = [], set()
    for r, row in enumerate(counts):
        for c, value in enumerate(row):
            if d._is_small(value, MIN) or d._is_small(row_totals[r], MIN):
                primary.add(len(edges))
            edges.append(d._Edge((r, c), f"r{r}", f"c{c}", value, d.CELL))
    for r, total in enumerate(row_totals):
        if d._is_small(total, MIN):
            primary.add(len(edges))
        edges.append(d._Edge(("row", r), f"r{r}", "margin-col", total, d.TOTAL))
    for c, total in enumerate(col_totals):
        if margin.cells[c].suppressed:
            primary.add(len(edges))
        edges.append(d._Edge(("col", c), "margin", f"c{c}", total, d.TOTAL, tier=1))
    if margin.total.suppressed:
        primary.add(len(edges))
    edges.append(d._Edge("grand", "margin", "margin-col", sum(row_totals), d.CELL, tier=d.LOCKED))
    conserving = {f"c{c}" for c in range(n_cols)} | {"margin-col"} | {f"r{r}" for r in range(n_rows)} | {"margin"}
    return edges, conserving, primary


def profile_network(rng: random.Random, counts: list[list[int]]):
    """Profile-like edges: locked and small column totals, as the participation profile first built them."""
    n_rows, n_cols = len(counts), len(counts[0])
    row_totals = [sum(row) for row in counts]
    col_totals = [sum(row[c] for row in counts) for c in range(n_cols)]
    small_cols = {c for c in range(n_cols) if d._is_small(col_totals[c], MIN)}
    locked_cols = {c for c in range(n_cols) if rng.random() < 0.5}
    hidden_cols = {c for c in range(n_cols) if rng.random() < 0.15}
    edges, primary = [], set()
    for r, row in enumerate(counts):
        for c, value in enumerate(row):
            if d._is_small(value, MIN) or d._is_small(row_totals[r], MIN) or c in small_cols:
                primary.add(len(edges))
            edges.append(d._Edge((r, c), f"r{r}", f"c{c}", value, d.CELL))
    for r, total in enumerate(row_totals):
        if d._is_small(total, MIN):
            primary.add(len(edges))
        edges.append(d._Edge(("row", r), f"r{r}", "margin-col", total, d.TOTAL))
    for c, total in enumerate(col_totals):
        locked = c in locked_cols
        if not locked and (c in hidden_cols or c in small_cols):
            primary.add(len(edges))
        edges.append(d._Edge(("col", c), "margin", f"c{c}", total, d.TOTAL, tier=d.LOCKED if locked else 1))
    edges.append(d._Edge("grand", "margin", "margin-col", sum(row_totals), d.CELL, tier=1))
    conserving = {f"c{c}" for c in range(n_cols)} | {f"r{r}" for r in range(n_rows)} | {"margin", "margin-col"}
    return edges, conserving, primary


CASES = [
    # (label, rows, columns, median unit size, share of zeros, profile?)
    ("grid 77×5, sparse (median unit 8)", 77, 5, 8, 0.25, False),
    ("grid 77×5, mixed (median unit 25)", 77, 5, 25, 0.1, False),
    ("grid 77×5, dense (median unit 80)", 77, 5, 80, 0.05, False),
    ("profile 10×6 (median 15)", 10, 6, 15, 0.15, True),
]


def run(network_class, edges, conserving, primary) -> tuple[float, set[int], bool]:
    start = time.perf_counter()
    network = network_class(edges, conserving)
    chosen = network.protect(set(primary))
    leaks = network.leaks(chosen)
    return time.perf_counter() - start, chosen, leaks


def main() -> None:
    n_tables = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    print(f"{n_tables} tables per case, seed {seed}; protect + leaks, seconds")
    print(f"{'case':38} {'hidden':>7} {'old':>8} {'new':>8} {'×':>6} {'old max':>8} {'new max':>8}")
    grand_old = grand_new = 0.0
    for label, n_rows, n_cols, median, zeros, profile in CASES:
        rng = random.Random(f"{seed}-{label}")
        old = new = old_max = new_max = 0.0
        hidden = 0
        for _ in range(n_tables):
            counts = grid_counts(rng, n_rows, n_cols, median, zeros)
            edges, conserving, primary = profile_network(rng, counts) if profile else table_network(counts)
            t_old, chosen_old, leaks_old = run(_ReferenceNetwork, edges, conserving, primary)
            t_new, chosen_new, leaks_new = run(d._Network, edges, conserving, primary)
            if (chosen_old, leaks_old) != (chosen_new, leaks_new):
                raise SystemExit(f"DIFFERENT choice on {label}: {sorted(chosen_old ^ chosen_new)}")
            old, new = old + t_old, new + t_new
            old_max, new_max = max(old_max, t_old), max(new_max, t_new)
            hidden += len(chosen_new)
        grand_old, grand_new = grand_old + old, grand_new + new
        print(f"{label:38} {hidden / n_tables:7.0f} {old:8.3f} {new:8.3f} {old / new:6.1f} {old_max:8.3f} {new_max:8.3f}")
    print(f"{'all (same hidden edges everywhere)':38} {'':7} {grand_old:8.3f} {grand_new:8.3f} {grand_old / grand_new:6.1f}")


if __name__ == "__main__":
    main()
