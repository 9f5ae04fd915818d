"""train.distribution in the spec: validated where it is written; refused where it cannot run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from specforge.api import check_text
from specforge.training.distribute import ClusterError, read_cluster, tf_config_for

BASE = """specforge: 2
name: table
inputs:
  - {name: x, shape: [2]}
nodes:
  - {name: out, type: Dense, units: 1}
outputs:
  - {node: out, loss: mse}
optimizer: {type: sgd}
train:
  epochs: 1
  distribution: DIST
"""


def check(dist: str):
    return check_text(BASE.replace("DIST", dist), "s.yaml")


def test_default_is_none_and_resolves() -> None:
    result = check_text(BASE.replace("  distribution: DIST\n", ""), "s.yaml")
    assert result.ok
    cfg = result.graph.train_config
    assert cfg.distribution.strategy == "none" and not cfg.distributed
    assert "distribution" not in cfg.as_dict()
    result = check("{strategy: mirrored, devices: 2}")
    assert result.ok
    cfg = result.graph.train_config
    assert cfg.distributed and cfg.distribution.devices == 2
    assert cfg.as_dict()["distribution"]["strategy"] == "mirrored"


@pytest.mark.parametrize(
    ("dist", "where", "words"),
    [
        ("{strategy: mirored}", (12, 28), "must be 'none', 'mirrored' or 'multi_worker'"),
        ("{strategy: mirrored, devices: 0}", (12, 47), "greater than 0"),
        ("{strategy: mirrored, gpus: 2}", (12, 38), "gpus"),
        ("{timeout: -1}", (12, 27), "greater than 0"),
    ],
)
def test_located_diagnostics(dist: str, where: tuple[int, int], words: str) -> None:
    result = check(dist)
    assert not result.ok
    (d,) = result.diagnostics
    assert words in d.message
    assert (d.span.line, d.span.column) == where


def test_numpy_backend_refuses_with_a_located_diagnostic() -> None:
    from specforge.lower import check as lower_check
    from specforge.registry import get_registry

    reg = get_registry()
    result = check("{strategy: mirrored, devices: 2}")
    diags = lower_check(result.graph, reg, reg.backends["numpy"], result.document)
    (d,) = [d for d in diags if d.code == "not-distributable"]
    assert (d.span.line, d.span.column) == (12, 28)
    assert "NumPy backend" in d.message and d.help
    assert not [
        d
        for d in lower_check(result.graph, reg, reg.backends["keras"], result.document)
        if d.code == "not-distributable"
    ]


def test_tf_config_from_workers() -> None:
    raw = tf_config_for(["10.0.0.1:2222", "10.0.0.2:2222"], 1)
    assert json.loads(raw) == {
        "cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]},
        "task": {"type": "worker", "index": 1},
    }
    cluster = read_cluster({"TF_CONFIG": raw})
    assert (cluster.workers, cluster.rank, cluster.is_chief) == (2, 1, False)
    assert read_cluster({"TF_CONFIG": tf_config_for(["h:1"], 0)}).is_chief
    chiefed = json.dumps(
        {
            "cluster": {"chief": ["c:1"], "worker": ["w:1", "w:2"]},
            "task": {"type": "worker", "index": 0},
        }
    )
    cluster = read_cluster({"TF_CONFIG": chiefed})
    assert (cluster.workers, cluster.rank, cluster.is_chief) == (3, 1, False)


@pytest.mark.parametrize(
    ("workers", "index", "words"),
    [([], 0, "empty"), (["nohost"], 0, "host:port"), (["h:1", "h:2"], 2, "out of range")],
)
def test_bad_workers(workers: list[str], index: int, words: str) -> None:
    with pytest.raises(ClusterError, match=words):
        tf_config_for(workers, index)


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({}, "TF_CONFIG is not set"),
        ({"TF_CONFIG": "{"}, "not a cluster"),
        (
            {"TF_CONFIG": '{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}'},
            "does not train",
        ),
    ],
)
def test_bad_tf_config(env: dict[str, str], words: str) -> None:
    with pytest.raises(ClusterError, match=words):
        read_cluster(env)


def test_multi_worker_without_cluster_is_exit_2(cli_run, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TF_CONFIG", raising=False)
    (tmp_path / "t.csv").write_text("a,b,y\n" + "".join(f"{i},{i},{i}\n" for i in range(12)))
    spec = tmp_path / "s.yaml"
    spec.write_text(
        BASE.replace("DIST", "{strategy: multi_worker}")
        + "data:\n  dataset: {type: csv, path: t.csv, target: y}\n  split: {test: 2, validation: 2}\n"
    )
    result = cli_run("train", str(spec), "-q")
    assert result.exit_code == 2, result.output
    assert "TF_CONFIG is not set" in result.output
    result = cli_run("train", str(spec), "-q", "--workers", "a:1")
    assert result.exit_code == 2 and "go together" in result.output
