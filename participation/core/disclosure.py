"""Statistical disclosure control of published counts: small cells are shown as "s".

Rules (as French official statistics apply them to small areas):

- a count of people from 1 to `min_cell` − 1 (10 by default) is *suppressed* ("s"), and so is
  its percentage; zeros are shown (a 0 reveals nobody);
- *secondary suppression*: when a shown total would let a reader recompute a suppressed cell
  ("total − sum of the shown cells"), more cells are suppressed until none can be;
- a table (or a row of a table) whose respondent total is below `min_cell` is suppressed
  entirely, zeros included (with 7 respondents, "no: 0" would tell what all 7 answered).

"Cannot be recomputed" is checked exactly, not with a rule of thumb. A reader knows every shown
cell and total, that the cells of an additive line add up to its total, and that a suppressed
cell is at least 1 (zeros are shown). With the totals written as negative cells, a table and
its margins are a *network*: every cell sits on one row line and one column line. A suppressed
cell can differ from its true value exactly when moving one person around a cycle of
suppressed cells keeps every line balanced and every cell at least 1 (a residual-graph cycle,
as in min-cost circulation). When no such cycle exists the cell is *pinned*, and the smallest
shown cell that opens a cycle is suppressed too, until nothing is pinned. A line that is not
additive (options of a multiple-choice question: one person may tick several) gives the reader
no equation, which the model expresses by leaving that line's node free.

This module is pure (no database, no Flask) so that governance can reuse it on any figures.
"""
from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

#: Fewer people than this in a cell: the cell is shown as "s".
MIN_CELL = 11
#: What a suppressed cell shows, everywhere (pages, charts, exports).
SUPPRESSED = "s"


@dataclass(frozen=True)
class Cell:
    """A published count: `value` is None when suppressed, and so is `percent`. The true
    count of a suppressed cell is not kept, so nothing downstream can print it by mistake."""

    value: int | None
    percent: float | None = None

    @property
    def suppressed(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        return SUPPRESSED if self.value is None else str(self.value)


@dataclass(frozen=True)
class Line:
    """One published line: cells and their total (percentages are of the total)."""

    cells: tuple[Cell, ...]
    total: Cell

    @property
    def all_suppressed(self) -> bool:
        return self.total.suppressed and all(c.suppressed for c in self.cells)

    @property
    def any_suppressed(self) -> bool:
        return self.total.suppressed or any(c.suppressed for c in self.cells)


@dataclass(frozen=True)
class Table:
    """Rows (cells with row percentages and the row total) and the column totals (with their
    percentages of the grand total, which is `columns.total`)."""

    rows: tuple[Line, ...]
    columns: Line

    @property
    def any_suppressed(self) -> bool:
        return self.columns.any_suppressed or any(r.any_suppressed for r in self.rows)


# --- the network model ----------------------------------------------------------------

FREE = "free"
CELL = "cell"  # z = count, count ≥ 1 when suppressed
TOTAL = "total"  # z = −count, count ≥ 1 when suppressed
LOCKED = 2


@dataclass
class _Edge:
    key: object
    u: str  # a "row" node
    v: str  # a "column" node
    value: int
    kind: str
    #: 0: may be hidden; 1: published elsewhere, hidden only when nothing else helps; 2: never.
    tier: int = 0


class _Network:
    """The residual graph of the suppressed edges, kept as arc multiplicities between the few
    nodes (rows, columns, margins, FREE) with, per node, bitmasks of the nodes it has arcs to
    and from. Suppressing an edge adds its arcs; testing whether an edge is pinned discounts its
    own arcs instead of rebuilding the graph (see `_Residual.free`)."""

    def __init__(self, edges: list[_Edge], conserving: set[str]):
        self.edges = edges
        self.conserving = conserving

    def node(self, name: str) -> str:
        return name if name in self.conserving else FREE

    def _arcs(self, e: _Edge) -> list[tuple[str, str]]:
        """Residual arcs of a suppressed edge: u→v if its z may grow, v→u if it may shrink."""
        u, v = self.node(e.u), self.node(e.v)
        grow, shrink = _directions(e)
        return [(u, v)] * grow + [(v, u)] * shrink

    def pinned(self, e: _Edge, suppressed: list[_Edge]) -> bool:
        """True if a reader can recompute e's value exactly, `suppressed` being hidden."""
        graph = _Residual(self, [*suppressed, e])
        n = len(suppressed)
        graph.add_all(range(n))
        return not graph.free(n, range(n))

    def protect(self, primary: set[int]) -> set[int]:
        """Indices of the edges to suppress: `primary` plus the secondary ones.

        While a suppressed edge is pinned (the first one in index order), the candidate that
        comes first by (tier, not next to the pinned edge, not a cell, value, index) among those
        that free it is suppressed too (the first candidate when none does). An edge once found
        free stays free (suppressing more only adds arcs), so it is not tested again."""
        chosen = set(primary)
        edges = self.edges
        graph = _Residual(self, edges)
        # A cell still pinned when everything that may be hidden is hidden (say the only
        # non-zero cell of a column whose total is published elsewhere) would be hidden for
        # nothing: it is never a candidate.
        most = chosen | {i for i, e in enumerate(edges) if e.value > 0 and e.tier < LOCKED}
        graph.add_all(most)
        hopeless = {i for i in most if not graph.free(i, most)}
        graph.clear()
        graph.add_all(chosen)
        # Candidates in the order of the key, leaving out "near" (it depends on the pinned edge).
        static = sorted(
            (i for i, e in enumerate(edges) if i not in hopeless and e.value > 0 and e.tier < LOCKED),
            key=lambda i: (edges[i].tier, edges[i].kind != CELL, edges[i].value, i),
        )
        tiers = [edges[i].tier for i in static]
        todo = sorted(i for i in chosen if i not in hopeless)  # suppressed, not yet found free
        while True:
            k = 0
            while k < len(todo) and graph.free(todo[k], chosen):
                k += 1
            del todo[:k]
            if not todo:
                return chosen
            pick = self._pick(graph, todo[0], chosen, static, tiers)
            if pick is None:  # no candidate left
                return chosen
            chosen.add(pick)
            graph.add(pick)
            bisect.insort(todo, pick)

    def _pick(self, graph: _Residual, pinned: int, chosen: set[int], static: list[int], tiers: list) -> int | None:
        """The first candidate (in `protect`'s order) whose arcs close a cycle through `pinned`,
        else the first candidate, else None. Adding an edge x→y frees `pinned` (arc a→b)
        exactly when the graph without `pinned` has paths b ⇝ x and y ⇝ a."""
        p = self.edges[pinned]
        # `pinned` is: no b ⇝ a without its arcs, so its only arcs in the way are a direct b→a.
        ways = [(graph.reach(b, a, graph.succ), graph.reach(a, b, graph.pred)) for a, b in graph.arcs[pinned]]
        ends = graph.ends[pinned] & ~1  # FREE is node 0
        arcs, touches = graph.arcs, graph.ends
        bit = graph.bit

        def frees(i: int) -> bool:
            if self.edges[i] is p:  # the same edge twice: it adds nothing
                return False
            return any(from_b & bit[x] and to_a & bit[y] for from_b, to_a in ways for x, y in arcs[i])

        far = None  # first candidate of the current tier not next to the pinned edge that frees it
        tier = object()
        for i, t in zip(static, tiers):
            if i in chosen:
                continue
            if t != tier:
                if far is not None:
                    return far
                tier = t
            if touches[i] & ends:
                if frees(i):
                    return i
            elif far is None and frees(i):
                far = i
        if far is not None:
            return far
        # Nothing frees it: the first candidate (in the lowest tier, next to it if one is).
        first = [(i, t) for i, t in zip(static, tiers) if i not in chosen]
        if not first:
            return None
        lowest = first[0][1]
        return next((i for i, t in first if t == lowest and touches[i] & ends), first[0][0])

    def leaks(self, chosen: set[int]) -> bool:
        """Can a hidden non-zero figure be recomputed? (A hidden zero of a small row may stay
        pinned when a published total of 0 already says it: nothing is learnt from it.)"""
        graph = _Residual(self, self.edges)
        graph.add_all(chosen)
        return any(self.edges[i].value > 0 and not graph.free(i, chosen) for i in chosen)


class _Residual:
    """The residual graph of the suppressed edges among `edges`: arc multiplicities between
    numbered nodes (FREE is 0), and per node the bitmasks `succ[a]` of the nodes b with an arc
    a→b and `pred[b]` of the nodes a with one. The same edge object listed twice counts as one
    edge, suppressed with all its copies (as `e is not skip` meant)."""

    def __init__(self, network: _Network, edges: list[_Edge]):
        index: dict[str, int] = {FREE: 0}
        numbers: dict[str, int] = {}  # edge end → node number (0 when not conserving)
        for e in edges:
            for name in (e.u, e.v):
                if name not in numbers:
                    numbers[name] = index.setdefault(name, len(index)) if name in network.conserving else 0
        self.arcs: list[tuple[tuple[int, int], ...]] = []
        self.ends: list[int] = []  # bitmask of the edge's two nodes
        for e in edges:
            u, v = numbers[e.u], numbers[e.v]
            grow, shrink = _directions(e)
            self.arcs.append(((u, v),) * grow + ((v, u),) * shrink)
            self.ends.append((1 << u) | (1 << v))
        self.size = len(index)
        self.bit = [1 << n for n in range(self.size)]
        copies: dict[int, list[int]] = {}
        for i, e in enumerate(edges):
            copies.setdefault(id(e), []).append(i)
        self.copies = [copies[id(e)] for e in edges]
        self.clear()

    def clear(self) -> None:
        self.count = [0] * (self.size * self.size)
        self.succ = [0] * self.size
        self.pred = [0] * self.size

    def add(self, i: int) -> None:
        count, size = self.count, self.size
        for a, b in self.arcs[i]:
            if not count[a * size + b]:
                self.succ[a] |= 1 << b
                self.pred[b] |= 1 << a
            count[a * size + b] += 1

    def add_all(self, indices) -> None:
        for i in indices:
            self.add(i)

    def reach(self, start: int, avoid: int, succ: list[int]) -> int:
        """Bitmask of the nodes reachable from `start` along `succ` (`pred`: the nodes that
        reach it) without the direct arc between `start` and `avoid`."""
        frontier = succ[start] & ~(1 << avoid) & ~(1 << start)
        seen = frontier | (1 << start)
        while frontier:
            new = 0
            while frontier:
                low = frontier & -frontier
                new |= succ[low.bit_length() - 1]
                frontier ^= low
            frontier = new & ~seen
            seen |= frontier
        return seen

    def free(self, i: int, suppressed) -> bool:
        """Is edge i not pinned (its value can move along a cycle of suppressed edges), the
        edges in `suppressed` being hidden, i's own arcs left out?"""
        count, size = self.count, self.size
        for a, b in self.arcs[i]:
            # i's z can move along a→b if the other suppressed edges close a cycle b ⇝ a. A
            # simple path b ⇝ a uses no arc of i but a direct b→a, counted apart.
            if a == b:
                return True
            if (b, a) in self.arcs[i]:
                copies = self.copies[i]
                own = (i in suppressed) if len(copies) == 1 else sum(j in suppressed for j in copies)
            else:
                own = 0
            if count[b * size + a] > own or self._path(b, a):
                return True
        return False

    def _path(self, start: int, goal: int) -> bool:
        """Is there a path start ⇝ goal other than the direct arc start→goal? Searched from
        both ends at once, the smaller frontier first (from a column, every row is one step
        away; back from a row, only the columns)."""
        succ, pred = self.succ, self.pred
        ends = (1 << start) | (1 << goal)
        ahead, back = succ[start] & ~ends, pred[goal] & ~ends
        seen_ahead, seen_back = ahead | (1 << start), back | (1 << goal)
        while not seen_ahead & seen_back:
            if not ahead or not back:
                return False
            if ahead.bit_count() <= back.bit_count():
                new = 0
                while ahead:
                    low = ahead & -ahead
                    new |= succ[low.bit_length() - 1]
                    ahead ^= low
                ahead = new & ~seen_ahead
                seen_ahead |= ahead
            else:
                new = 0
                while back:
                    low = back & -back
                    new |= pred[low.bit_length() - 1]
                    back ^= low
                back = new & ~seen_back
                seen_back |= back
        return True


def _directions(e: _Edge) -> tuple[bool, bool]:
    """May a suppressed edge's z grow (arc u→v), may it shrink (arc v→u)?"""
    return e.kind == CELL or e.value >= 2, e.kind == TOTAL or e.value >= 2


def _is_small(count: int, min_cell: int) -> bool:
    return 0 < count < min_cell


def _percent(count: int | None, total: int | None) -> float | None:
    if count is None or not total:
        return None
    return 100.0 * count / total


# --- lines and tables ------------------------------------------------------------------


def protect_line(
    counts: Sequence[int], total: int, *, additive: bool = True, min_cell: int = MIN_CELL
) -> Line:
    """One line of counts and its total (the number of respondents).

    `additive`: every respondent is in exactly one cell (single choice, scale, channel…), so
    the cells add up to the total. A multiple-choice line is not additive.

    The total is kept (the number of respondents is published with every line). When no
    choice of cells can protect the line (eleven options chosen once each, by eleven people),
    every cell is hidden, zeros included, so that none can be told apart.
    """
    counts = [int(c) for c in counts]
    if total == 0:
        return Line(tuple(Cell(0) for _ in counts), Cell(0))
    if total < min_cell:
        # Everything goes, zeros included: "0 of them said no" tells what the few others said.
        return Line(tuple(Cell(None) for _ in counts), Cell(None))
    edges = [_Edge(i, "row", f"c{i}", c, CELL) for i, c in enumerate(counts)]
    edges.append(_Edge("total", "row", "margin", total, TOTAL, tier=LOCKED))
    network = _Network(edges, {"row"} if additive else set())
    hidden = network.protect({i for i, c in enumerate(counts) if _is_small(c, min_cell)})
    if network.leaks(hidden):
        return Line(tuple(Cell(None) for _ in counts), Cell(total))
    return Line(tuple(Cell(None) if i in hidden else Cell(c, _percent(c, total)) for i, c in enumerate(counts)),
                Cell(total))


def protect_table(
    counts: Sequence[Sequence[int]],
    row_totals: Sequence[int],
    *,
    rows_additive: bool = True,
    min_cell: int = MIN_CELL,
    margin: Line | None = None,
) -> Table:
    """Rows (e.g. neighbourhoods) × columns (e.g. options), with row totals (respondents of
    each row) and column totals. The rows must partition the respondents (add a "not stated"
    row), so that column totals are the sums of their cells and the grand total the sum of the
    row totals. `rows_additive`: every respondent is in exactly one column.

    `margin`: the column totals as already published elsewhere (the question's own results).
    Its suppressed cells stay suppressed, and its shown ones are hidden only when nothing else
    protects the table, so that the two pages together reveal as little as possible.
    """
    counts = [[int(c) for c in row] for row in counts]
    n_rows, n_cols = len(counts), len(counts[0]) if counts else 0
    col_totals = [sum(row[c] for row in counts) for c in range(n_cols)]
    grand = sum(row_totals)
    if margin is None:
        margin = protect_line(col_totals, grand, additive=rows_additive, min_cell=min_cell)
    if grand == 0:
        return Table(tuple(Line(tuple(Cell(0) for _ in row), Cell(0)) for row in counts), margin)
    if grand < min_cell:
        return Table(tuple(Line(tuple(Cell(None) for _ in row), Cell(None)) for row in counts), margin)
    edges: list[_Edge] = []
    primary: set[int] = set()
    for r, row in enumerate(counts):
        for c, value in enumerate(row):
            # A row of fewer than `min_cell` people is hidden whole, zeros included (see below);
            # a hidden zero may only grow, which is what a cell of 1 may do in the model.
            if _is_small(value, min_cell) or _is_small(row_totals[r], min_cell):
                primary.add(len(edges))
            edges.append(_Edge((r, c), f"r{r}", f"c{c}", value, CELL))
    for r, total in enumerate(row_totals):
        if _is_small(total, min_cell):
            primary.add(len(edges))
        edges.append(_Edge(("row", r), f"r{r}", "margin-col", total, TOTAL))
    for c, total in enumerate(col_totals):
        if margin.cells[c].suppressed:
            primary.add(len(edges))
        edges.append(_Edge(("col", c), "margin", f"c{c}", total, TOTAL, tier=1))
    # Nodes: rows r… and the margin row "margin" (column totals); columns c… and the margin
    # column "margin-col" (row totals); the grand total is where the two margins cross.
    if margin.total.suppressed:
        primary.add(len(edges))
    edges.append(_Edge("grand", "margin", "margin-col", grand, CELL, tier=LOCKED))
    conserving = {f"c{c}" for c in range(n_cols)} | {"margin-col"}
    if rows_additive:
        conserving |= {f"r{r}" for r in range(n_rows)} | {"margin"}
    network = _Network(edges, conserving)
    chosen = network.protect(primary)
    hidden = {edges[i].key for i in chosen}
    if network.leaks(chosen):  # no choice of cells protects it: hide every row, zeros included
        hidden |= {(r, c) for r in range(n_rows) for c in range(n_cols)} | {("row", r) for r in range(n_rows)}
    rows = []
    for r, row in enumerate(counts):
        total = None if ("row", r) in hidden else row_totals[r]
        # A row of fewer than `min_cell` people is hidden whole, like a table: its zeros would
        # tell what its few people did not answer, hence what they did.
        whole = _is_small(row_totals[r], min_cell)
        cells = tuple(
            Cell(None) if (r, c) in hidden or whole else Cell(value, _percent(value, total))
            for c, value in enumerate(row)
        )
        rows.append(Line(cells, Cell(total)))
    grand_shown = None if "grand" in hidden else grand
    columns = tuple(
        Cell(None) if ("col", c) in hidden else Cell(total, _percent(total, grand_shown))
        for c, total in enumerate(col_totals)
    )
    return Table(tuple(rows), Line(columns, Cell(grand_shown)))
