"""The layered layout: boxes never overlap, edges go down the layers, crossings are removed."""

from __future__ import annotations

import itertools
import random

import pytest

from specforge.render.layout import _crossings, layout


def _overlap(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _random_dag(n: int, seed: int) -> tuple[list[tuple[float, float]], list[tuple[int, int]]]:
    rng = random.Random(seed)
    sizes = [(rng.uniform(40, 200), rng.uniform(30, 80)) for _ in range(n)]
    edges = sorted(
        {(u, v) for v in range(1, n) for u in rng.sample(range(v), k=min(v, rng.randint(1, 3)))}
    )
    return sizes, edges


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
@pytest.mark.parametrize("seed", range(5))
def test_boxes_never_overlap_and_edges_point_down_the_ranks(rankdir, seed):
    sizes, edges = _random_dag(40, seed)
    lay = layout(sizes, edges, rankdir)
    for i in range(len(sizes)):
        assert lay.boxes[i][2:] == sizes[i]
        assert lay.boxes[i][0] >= 0 and lay.boxes[i][1] >= 0
        assert lay.boxes[i][0] + sizes[i][0] <= lay.width + 1e-6
        assert lay.boxes[i][1] + sizes[i][1] <= lay.height + 1e-6
        for j in range(i):
            assert not _overlap(lay.boxes[i], lay.boxes[j]), (i, j)
    axis = 1 if rankdir == "TB" else 0
    for path in lay.edges:
        assert lay.layers[path.target] > lay.layers[path.source]
        assert path.tip[axis] > path.start[axis]
        # every point of the path moves forward along the rank axis
        points = [path.start, *(s.p for s in path.segments)]
        assert all(b[axis] >= a[axis] for a, b in itertools.pairwise(points))
    assert len(lay.edges) == len(edges)


def test_a_chain_is_a_straight_line():
    sizes = [(100.0, 40.0), (160.0, 60.0), (80.0, 40.0)]
    lay = layout(sizes, [(0, 1), (1, 2)])
    centres = [x + w / 2 for x, _, w, _ in lay.boxes]
    assert max(centres) - min(centres) < 1e-6
    assert all(s.kind == "L" for e in lay.edges for s in e.segments)


def test_a_side_input_sits_beside_the_branch_it_joins():
    # 0 -> 1 -> 2 -> 4 and 3 -> 4: the source 3 slides down next to 2.
    sizes = [(60.0, 30.0)] * 5
    lay = layout(sizes, [(0, 1), (1, 2), (2, 4), (3, 4)])
    assert lay.layers == [0, 1, 2, 2, 3]


def test_barycentre_ordering_removes_avoidable_crossings():
    # Two parallel pairs given in crossed order: 0->3, 1->2 become 0->2', 1->3'.
    sizes = [(50.0, 30.0)] * 4
    lay = layout(sizes, [(0, 3), (1, 2)])
    x = [b[0] for b in lay.boxes]
    assert (x[0] < x[1]) == (x[3] < x[2])
    index = {0: 0, 1: 1, 2: 0, 3: 1}
    assert _crossings([[0, 1], [2, 3]], [[3], [2], [], []], [index[i] for i in range(4)]) == 1


def test_a_cycle_or_a_bad_rankdir_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        layout([(1.0, 1.0)] * 2, [(0, 1), (1, 0)])
    with pytest.raises(ValueError, match="rankdir"):
        layout([(1.0, 1.0)], [], "BT")


def test_1000_nodes_lay_out_in_well_under_a_second():
    import time

    sizes, edges = _random_dag(1000, 7)
    edges = [(u, v) for u, v in edges if v - u < 30]  # local links, as in real models
    start = time.process_time()
    lay = layout(sizes, edges)
    assert time.process_time() - start < 5  # ~0.1 s here; generous for slow CI
    assert len(lay.boxes) == 1000
