"""A layered (Sugiyama-style) layout of a directed acyclic graph, in pure Python.

Model graphs are small DAGs that are mostly chains with a few merges, which is
what layered drawing does best; writing it here (about 300 lines) keeps
``specforge graph`` free of system packages (no Graphviz binary). The steps
are the classic ones:

1. *Layering* by longest path from the sources, then every node whose
   out-edges outnumber (or equal) its in-edges slides down to just above its
   nearest reader, so a side input sits beside the branch it joins instead
   of at the top with a long edge;
2. *Dummy nodes* split edges that span several layers, so they are routed
   around boxes like nodes are;
3. *Ordering* within layers by barycentre sweeps (down and up), keeping the
   order with the fewest crossings (counted exactly, O(E log V) per layer pair);
4. *Coordinates* along each layer by weighted isotonic regression (pool
   adjacent violators): each box goes as close as the minimum separations
   allow to the mean of the boxes it is joined to, and each dummy to its
   neighbours, so chains stay straight and long edges bend around them;
5. *Edges* as cubic Béziers with tangents along the rank axis between layers
   and straight segments through the layers they cross; edges leave a box
   from the middle of its side and arrive spread along the other box's side
   when several meet it.

Everything is in abstract units (the renderers use pixels, or points); the
``rankdir`` only swaps the axes at the end. Iterative throughout: no recursion.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

Point = tuple[float, float]

#: Gap between the boxes of one layer, and between a dummy and anything.
NODE_GAP = 28.0
DUMMY_GAP = 12.0
#: Gap between layers, along the rank axis (TB, LR).
RANK_GAP = {"TB": 44.0, "LR": 64.0}
MARGIN = 16.0
#: Most barycentre sweeps; fewer for big graphs so that 1,000 nodes stay fast.
MAX_SWEEPS = 12


@dataclass(frozen=True)
class Segment:
    """One piece of an edge path: ``L`` (line to ``p``) or ``C`` (curve via c1, c2)."""

    kind: str
    p: Point
    c1: Point | None = None
    c2: Point | None = None


@dataclass(frozen=True)
class EdgePath:
    source: int
    target: int
    start: Point
    segments: tuple[Segment, ...]
    #: The arrow's tip and the unit vector it points along.
    tip: Point
    direction: Point


@dataclass
class Layout:
    """Where each box goes (top-left corner, width, height) and each edge's path."""

    boxes: list[tuple[float, float, float, float]]
    edges: list[EdgePath]
    width: float
    height: float
    layers: list[int] = field(default_factory=list)


def layout(
    sizes: Sequence[tuple[float, float]],
    edges: Sequence[tuple[int, int]],
    rankdir: str = "TB",
) -> Layout:
    """Lay out boxes of the given (width, height) joined by ``edges`` (source, target).

    ``edges`` must form a DAG (the checker guarantees it for a resolved graph).
    """
    if rankdir not in RANK_GAP:
        raise ValueError(f"rankdir must be TB or LR, not {rankdir!r}")
    tb = rankdir == "TB"
    n = len(sizes)
    # Along the order axis a box takes its width (TB) or height (LR); along the rank axis the other.
    extent = [w if tb else h for w, h in sizes]
    thick = [h if tb else w for w, h in sizes]
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges:
        preds[v].append(u)
        succs[u].append(v)
    order = _topological(n, preds, succs)
    rank = _ranks(order, preds, succs)

    # Dummy nodes: index >= n; chains[e] lists the nodes an edge passes through.
    node_rank = list(rank)
    node_extent = list(extent)
    is_dummy = [False] * n
    g_preds = [list(p) for p in preds]
    g_succs = [list(s) for s in succs]
    chains: list[list[int]] = []
    for u, v in edges:
        chain = [u]
        prev = u
        for r in range(rank[u] + 1, rank[v]):
            d = len(node_rank)
            node_rank.append(r)
            node_extent.append(0.0)
            is_dummy.append(True)
            g_preds.append([prev])
            g_succs.append([])
            g_succs[prev].append(d)
            chain.append(d)
            prev = d
        if prev != u:
            g_succs[prev].append(v)
            g_preds[v].append(prev)
        chain.append(v)
        chains.append(chain)
    # The direct u->v links were replaced by chains: drop them where a chain exists.
    for u, v in edges:
        if rank[v] - rank[u] > 1:
            g_succs[u].remove(v)
            g_preds[v].remove(u)

    n_layers = max(node_rank, default=-1) + 1
    layers: list[list[int]] = [[] for _ in range(n_layers)]
    for i in range(n):  # real nodes in spec order, then dummies in edge order
        layers[rank[i]].append(i)
    for d in range(n, len(node_rank)):
        layers[node_rank[d]].append(d)
    _order(layers, g_preds, g_succs, len(node_rank))

    pos = _coordinates(layers, g_preds, g_succs, node_extent, is_dummy)

    # Rank axis: each layer is as thick as its thickest box; boxes are centred in it.
    gap = RANK_GAP[rankdir]
    layer_thick = [max((thick[i] for i in layer if i < n), default=0.0) for layer in layers]
    layer_start: list[float] = []
    at = MARGIN
    for t in layer_thick:
        layer_start.append(at)
        at += t + gap
    rank_total = at - gap + MARGIN if layers else 2 * MARGIN
    left = min((pos[i] - node_extent[i] / 2 for i in range(len(pos))), default=0.0)
    shift = MARGIN - left
    pos = [p + shift for p in pos]
    order_total = max((pos[i] + node_extent[i] / 2 for i in range(len(pos))), default=0.0) + MARGIN

    def centre(i: int) -> tuple[float, float]:
        r = node_rank[i]
        return pos[i], layer_start[r] + layer_thick[r] / 2

    boxes: list[tuple[float, float, float, float]] = []
    for i in range(n):
        o, c = centre(i)
        w, h = sizes[i]
        boxes.append((o - w / 2, c - h / 2, w, h) if tb else (c - w / 2, o - h / 2, w, h))

    ports_out = [pos[chain[0]] for chain in chains]  # edges leave from the middle
    ports_in = _ports(chains, pos, extent)
    paths: list[EdgePath] = []
    for k, chain in enumerate(chains):
        u, v = chain[0], chain[-1]
        pts: list[tuple[Point, bool]] = []  # (order, rank) points; True: straight to the next
        _, cu = centre(u)
        pts.append(((ports_out[k], cu + thick[u] / 2), False))
        for d in chain[1:-1]:
            r = node_rank[d]
            pts.append(((pos[d], layer_start[r]), True))
            pts.append(((pos[d], layer_start[r] + layer_thick[r]), False))
        _, cv = centre(v)
        pts.append(((ports_in[k], cv - thick[v] / 2), False))
        segments: list[Segment] = []
        for (a, straight), (b, _) in itertools.pairwise(pts):
            if straight or a[0] == b[0]:
                segments.append(Segment("L", _xy(b, tb)))
            else:
                mid = (a[1] + b[1]) / 2
                segments.append(
                    Segment("C", _xy(b, tb), _xy((a[0], mid), tb), _xy((b[0], mid), tb))
                )
        paths.append(
            EdgePath(
                u,
                v,
                _xy(pts[0][0], tb),
                tuple(segments),
                _xy(pts[-1][0], tb),
                (0.0, 1.0) if tb else (1.0, 0.0),
            )
        )
    width, height = (order_total, rank_total) if tb else (rank_total, order_total)
    return Layout(boxes, paths, width, height, rank)


def _xy(p: Point, tb: bool) -> Point:
    """(order, rank) coordinates to (x, y)."""
    return (p[0], p[1]) if tb else (p[1], p[0])


def _topological(n: int, preds: list[list[int]], succs: list[list[int]]) -> list[int]:
    pending = [len(p) for p in preds]
    ready = [i for i in range(n) if pending[i] == 0]
    ready.reverse()
    out: list[int] = []
    while ready:
        i = ready.pop()
        out.append(i)
        for s in reversed(succs[i]):
            pending[s] -= 1
            if pending[s] == 0:
                ready.append(s)
    if len(out) != n:
        raise ValueError("the graph has a cycle")
    return out


def _ranks(order: list[int], preds: list[list[int]], succs: list[list[int]]) -> list[int]:
    rank = [0] * len(order)
    for i in order:
        if preds[i]:
            rank[i] = max(rank[p] for p in preds[i]) + 1
    # Slide nodes that feed at least as many edges as they read down towards their readers.
    for i in reversed(order):
        if succs[i] and len(succs[i]) >= len(preds[i]):
            rank[i] = max(rank[i], min(rank[s] for s in succs[i]) - 1)
    return rank


def _order(
    layers: list[list[int]], preds: list[list[int]], succs: list[list[int]], total: int
) -> None:
    """Reorder each layer in place by barycentre sweeps, keeping the best order seen."""
    index = [0] * total

    def reindex(layer: list[int]) -> None:
        for k, i in enumerate(layer):
            index[i] = k

    for layer in layers:
        reindex(layer)
    best = [list(layer) for layer in layers]
    best_crossings = _crossings(layers, succs, index)
    sweeps = MAX_SWEEPS if total <= 2000 else 4
    for sweep in range(sweeps):
        if best_crossings == 0:
            break
        down = sweep % 2 == 0
        rng = range(1, len(layers)) if down else range(len(layers) - 2, -1, -1)
        for r in rng:
            neighbours = preds if down else succs
            layer = layers[r]
            keyed = []
            for k, i in enumerate(layer):
                nb = neighbours[i]
                bary = sum(index[j] for j in nb) / len(nb) if nb else float(k)
                keyed.append((bary, k, i))
            keyed.sort()
            layers[r] = [i for _, _, i in keyed]
            reindex(layers[r])
        c = _crossings(layers, succs, index)
        if c < best_crossings:
            best_crossings = c
            best = [list(layer) for layer in layers]
    for r, layer in enumerate(best):
        layers[r] = layer
        reindex(layer)


def _crossings(layers: list[list[int]], succs: list[list[int]], index: list[int]) -> int:
    """Edge crossings between adjacent layers: inversions counted with a Fenwick tree."""
    total = 0
    for r in range(len(layers) - 1):
        size = len(layers[r + 1])
        pairs = sorted((index[u], index[v]) for u in layers[r] for v in succs[u])
        tree = [0] * (size + 1)
        for seen, (_, b) in enumerate(pairs):
            # edges already seen that end to the right of b cross this one
            k, below = b + 1, 0
            while k > 0:
                below += tree[k]
                k -= k & -k
            total += seen - below
            k = b + 1
            while k <= size:
                tree[k] += 1
                k += k & -k
    return total


def _coordinates(
    layers: list[list[int]],
    preds: list[list[int]],
    succs: list[list[int]],
    extent: list[float],
    is_dummy: list[bool],
) -> list[float]:
    """Positions along the order axis: as near their neighbours as separations allow."""
    pos = [0.0] * len(extent)
    for layer in layers:  # start packed from 0
        at = 0.0
        for k, i in enumerate(layer):
            if k:
                at += _separation(layer[k - 1], i, extent, is_dummy)
            pos[i] = at
    weight = [0.5 if d else 1.0 for d in is_dummy]

    def sweep(rng: range, use: str) -> None:
        for r in rng:
            layer = layers[r]
            desired: list[float] = []
            for i in layer:
                nb = (
                    preds[i]
                    if use == "preds"
                    else succs[i]
                    if use == "succs"
                    else preds[i] + succs[i]
                )
                if not is_dummy[i] and any(is_dummy[j] for j in nb):
                    # A box follows the boxes it is joined to; a long edge bends around it.
                    nb = [j for j in nb if not is_dummy[j]] or nb
                desired.append(sum(pos[j] for j in nb) / len(nb) if nb else pos[i])
            _place(layer, desired, [weight[i] for i in layer], pos, extent, is_dummy)

    n = len(layers)
    for _ in range(4):
        sweep(range(1, n), "preds")
        sweep(range(n - 2, -1, -1), "succs")
    sweep(range(n), "both")
    # Straighten chains: a box that is the only box its only source box feeds sits
    # right under it (edges through dummies do not count: they bend around).
    real_preds = [[j for j in p if not is_dummy[j]] for p in preds]
    real_succs = [[j for j in s if not is_dummy[j]] for s in succs]
    for layer in layers[1:]:
        chained = [
            not is_dummy[i] and len(real_preds[i]) == 1 and len(real_succs[real_preds[i][0]]) == 1
            for i in layer
        ]
        if any(chained):
            desired = [
                pos[real_preds[i][0]] if c else pos[i] for i, c in zip(layer, chained, strict=True)
            ]
            weights = [1e4 if c else weight[i] for i, c in zip(layer, chained, strict=True)]
            _place(layer, desired, weights, pos, extent, is_dummy)
    # Then each long edge follows its source as closely as the boxes allow.
    for layer in layers[1:]:
        if any(is_dummy[i] for i in layer):
            desired = [pos[preds[i][0]] if is_dummy[i] else pos[i] for i in layer]
            weights = [1.0 if is_dummy[i] else 1000.0 for i in layer]
            _place(layer, desired, weights, pos, extent, is_dummy)
    return pos


def _place(
    layer: list[int],
    desired: list[float],
    weights: list[float],
    pos: list[float],
    extent: list[float],
    is_dummy: list[bool],
) -> None:
    seps = [0.0] + [
        _separation(layer[k - 1], layer[k], extent, is_dummy) for k in range(1, len(layer))
    ]
    for i, x in zip(layer, _isotonic(desired, seps, weights), strict=True):
        pos[i] = x


def _separation(a: int, b: int, extent: list[float], is_dummy: list[bool]) -> float:
    gap = DUMMY_GAP if is_dummy[a] or is_dummy[b] else NODE_GAP
    return (extent[a] + extent[b]) / 2 + gap


def _isotonic(desired: list[float], seps: list[float], weights: list[float]) -> list[float]:
    """Minimise sum w (x - desired)^2 subject to x[k] >= x[k-1] + seps[k] (pool adjacent violators)."""
    offsets: list[float] = []
    at = 0.0
    for s in seps:
        at += s
        offsets.append(at)
    # y = x - offset must be non-decreasing: isotonic regression of desired - offset.
    blocks: list[list[float]] = []  # [weighted mean, weight, count]
    for d, o, w in zip(desired, offsets, weights, strict=True):
        blocks.append([d - o, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out: list[float] = []
    for mean, _, count in blocks:
        out.extend([mean] * int(count))
    return [y + o for y, o in zip(out, offsets, strict=True)]


def _ports(chains: list[list[int]], pos: list[float], extent: list[float]) -> list[float]:
    """Where each edge enters its target, along the order axis.

    Several edges meeting one box are spread evenly over its middle half, in the
    order of the nodes they come from, so their arrows do not pile up.
    """
    by_node: dict[int, list[tuple[float, int]]] = {}
    for k, chain in enumerate(chains):
        end, other = chain[-1], chain[-2]
        by_node.setdefault(end, []).append((pos[other], k))
    out = [0.0] * len(chains)
    for node, items in by_node.items():
        items.sort()
        m = len(items)
        step = min(18.0, extent[node] / 2 / max(m - 1, 1)) if m > 1 else 0.0
        for j, (_, k) in enumerate(items):
            out[k] = pos[node] + (j - (m - 1) / 2) * step
    return out
