"""Data sets fetched on first use, against a real HTTP server on 127.0.0.1.

The server (tests/data/local_mirror.py) serves files in the real formats:
gzipped IDX files of a tiny Fashion-MNIST, a small ``cal_housing.tgz`` laid
out as the original, a CSV and an npz. ``$SPECFORGE_DATASETS_MIRROR`` points
every download at it and ``$SPECFORGE_DATA_HOME`` at a temporary cache. The
real checksums are in the code; the tests serve generated files, so they put
those files' checksums in the datasets' tables (``FASHION_MNIST_SHA256``,
``CALIFORNIA_SHA256``). Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import io
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from data_helpers import make_cal_tgz, make_fashion, sha256
from local_mirror import LocalMirror

from specforge.data import fetch
from specforge.data.dataset import DataError
from specforge.data.fetch import RemoteFile
from specforge.default_plugins.datasets import california, fashion_mnist
from specforge.default_plugins.datasets.california import load_california_housing
from specforge.default_plugins.datasets.fashion_mnist import FASHION_MNIST_FILES, load_fashion_mnist
from specforge.registry import get_registry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local server named by $SPECFORGE_DATASETS_MIRROR, an empty cache, quick retries."""
    server = LocalMirror()
    monkeypatch.setenv(fetch.MIRROR_ENV, server.url)
    monkeypatch.setenv(fetch.DATA_HOME_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras"))
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "no-sklearn"))
    monkeypatch.setattr(fashion_mnist, "_keras_tmp_root", lambda: str(tmp_path / "no-tmp-keras"))
    monkeypatch.setattr(fetch, "BACKOFF_S", 0.01)
    yield server
    server.stop()


def serve(server: LocalMirror, directory: Path) -> dict[str, str]:
    """Serve every file of ``directory``; return name -> SHA-256."""
    digests = {}
    for path in sorted(directory.iterdir()):
        server.files[path.name] = path.read_bytes()
        digests[path.name] = sha256(path)
    return digests


@pytest.fixture
def fashion_served(mirror, tmp_path, monkeypatch):
    """A tiny Fashion-MNIST on the mirror, its checksums in the dataset's table."""
    arrays = make_fashion(tmp_path / "served")
    for name, digest in serve(mirror, tmp_path / "served").items():
        monkeypatch.setitem(fashion_mnist.FASHION_MNIST_SHA256, name, digest)
    return arrays


@pytest.fixture
def california_served(mirror, tmp_path, monkeypatch):
    (tmp_path / "served").mkdir()
    archive = make_cal_tgz(tmp_path / "served" / "cal_housing.tgz")
    serve(mirror, tmp_path / "served")
    monkeypatch.setattr(california, "CALIFORNIA_SHA256", sha256(archive))
    return archive


def cache_files(tmp_path: Path) -> list[str]:
    """Every file in the cache (temporary ones included), relative to it."""
    root = tmp_path / "cache"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def one_file(server: LocalMirror, data: bytes = b"x,y\n1,2\n", name: str = "t.csv") -> RemoteFile:
    """A file on the mirror; its canonical URL is a closed local port: only the mirror answers."""
    server.files[name] = data
    return RemoteFile(name, f"http://127.0.0.1:9/{name}", hashlib.sha256(data).hexdigest())


# ---------------------------------------------------------------- good downloads


def test_fashion_mnist_downloads_verifies_caches_then_reads_the_cache_offline(
    mirror, fashion_served, tmp_path
):
    ds = load_fashion_mnist()
    np.testing.assert_array_equal(ds.x, fashion_served["x_train"].astype(np.float32))
    np.testing.assert_array_equal(ds.y_test, fashion_served["y_test"])
    assert cache_files(tmp_path) == sorted(
        f"fashion-mnist/{n}" for n in FASHION_MNIST_FILES.values()
    )
    assert all(mirror.hits[f"/{n}"] == 1 for n in FASHION_MNIST_FILES.values())
    mirror.stop()
    again = load_fashion_mnist()  # the server is gone: the cache answers
    np.testing.assert_array_equal(again.x, ds.x)
    assert sum(mirror.hits.values()) == 4


def test_california_downloads_the_original_archive_and_parses_it_without_pickle(
    mirror, california_served, tmp_path, monkeypatch
):
    import joblib

    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("unpickled"))
    ds = load_california_housing()
    ref = load_california_housing(california_served)
    np.testing.assert_array_equal(ds.x, ref.x)
    np.testing.assert_array_equal(ds.y, ref.y)
    assert ds.feature_names[:2] == ["MedInc", "HouseAge"] and ds.target_names == ["MedHouseVal"]
    assert mirror.hits == {"/cal_housing.tgz": 1}
    assert cache_files(tmp_path) == ["california-housing/cal_housing.tgz"]
    mirror.stop()
    np.testing.assert_array_equal(load_california_housing().x, ds.x)


def load(name: str, **params):
    dataset = get_registry().datasets[name]
    return dataset.load(dataset.params_model.model_validate(params))


def test_csv_url_is_fetched_through_the_mirror_into_the_cache_under_its_checksum(mirror, tmp_path):
    table = b"a,b,price\n1,2,3.5\n4,5,6.5\n7,8,9.5\n"
    mirror.files["houses.csv"] = table
    digest = hashlib.sha256(table).hexdigest()
    # The canonical URL is a closed local port: only the mirror can answer.
    ds = load("csv", url="http://127.0.0.1:9/tables/houses.csv", sha256=digest, target="price")
    np.testing.assert_array_equal(ds.y, [3.5, 6.5, 9.5])
    assert cache_files(tmp_path) == [f"files/{digest}/houses.csv"]
    mirror.stop()
    np.testing.assert_array_equal(
        load("csv", url="http://127.0.0.1:9/tables/houses.csv", sha256=digest, target="price").x,
        ds.x,
    )


def test_npz_url_without_a_mirror_is_fetched_from_the_url_itself(mirror, tmp_path, monkeypatch):
    monkeypatch.delenv(fetch.MIRROR_ENV)
    buf = io.BytesIO()
    np.savez(buf, x=np.arange(12.0).reshape(4, 3), y=np.array([0, 1, 0, 1]))
    mirror.files["d.npz"] = buf.getvalue()
    digest = hashlib.sha256(buf.getvalue()).hexdigest()
    ds = load("npz", url=f"{mirror.url}/d.npz", sha256=digest.upper())  # either case
    assert ds.task == "classification" and ds.x.shape == (4, 3)
    assert cache_files(tmp_path) == [f"files/{digest}/d.npz"]


def test_a_local_path_with_a_sha256_is_checked(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,price\n1,2\n3,4\n")
    assert load("csv", path=str(path), sha256=sha256(path), target="price").x.shape == (2, 1)
    with pytest.raises(DataError, match=f"expected SHA-256 {'0' * 64}, got {sha256(path)}"):
        load("csv", path=str(path), sha256="0" * 64, target="price")


def test_a_redirect_is_followed(mirror, tmp_path):
    file = one_file(mirror)
    mirror.modes["t.csv"] = ["redirect"]
    path = fetch.fetch(file, "files")
    assert Path(path).read_bytes() == mirror.files["t.csv"]
    assert mirror.hits == {"/t.csv": 1, "/moved/t.csv": 1}


def test_a_damaged_file_in_the_cache_is_downloaded_again(mirror, tmp_path):
    file = one_file(mirror)
    (tmp_path / "cache" / "files").mkdir(parents=True)
    (tmp_path / "cache" / "files" / "t.csv").write_bytes(b"x,y\n1,9\n")
    path = fetch.fetch(file, "files")
    assert Path(path).read_bytes() == mirror.files["t.csv"]
    assert mirror.hits["/t.csv"] == 1


def test_transient_failures_are_retried(mirror, tmp_path):
    file = one_file(mirror)
    mirror.modes["t.csv"] = ["500", "truncate", "ok"]
    assert Path(fetch.fetch(file, "files")).read_bytes() == mirror.files["t.csv"]
    assert mirror.hits["/t.csv"] == 3


# ---------------------------------------------------------------- failures


def test_a_corrupted_download_never_enters_the_cache(mirror, fashion_served, tmp_path):
    name = "train-labels-idx1-ubyte.gz"
    mirror.modes[name] = ["corrupt"]
    with pytest.raises(DataError) as ei:
        load_fashion_mnist()
    expected = fashion_mnist.FASHION_MNIST_SHA256[name]
    got = sha256_bytes(bytes([mirror.files[name][0] ^ 0xFF]) + mirror.files[name][1:])
    assert str(ei.value) == (
        f"{name} downloaded from {mirror.url}/{name} failed its checksum: "
        f"expected SHA-256 {expected}, got {got}; the file was discarded"
    )
    assert "try again" in ei.value.help
    assert cache_files(tmp_path) == []
    assert mirror.hits[f"/{name}"] == 1  # a checksum failure is not retried


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_an_interrupted_download_leaves_no_partial_file(mirror, california_served, tmp_path):
    mirror.modes["cal_housing.tgz"] = ["truncate"]
    size = len(mirror.files["cal_housing.tgz"])
    with pytest.raises(DataError) as ei:
        load_california_housing()
    assert str(ei.value) == (
        f"cannot download California housing from {mirror.url}/cal_housing.tgz: the download "
        f"was interrupted (got {size // 2} of {size} bytes) ({fetch.RETRIES + 1} attempts)"
    )
    assert cache_files(tmp_path) == []
    assert mirror.hits["/cal_housing.tgz"] == fetch.RETRIES + 1


def test_a_404_is_not_retried_and_says_how_to_place_the_file_by_hand(
    mirror, fashion_served, tmp_path
):
    name = "train-labels-idx1-ubyte.gz"
    mirror.modes[name] = ["404"]
    with pytest.raises(DataError) as ei:
        load_fashion_mnist()
    e = ei.value
    target = tmp_path / "cache" / "fashion-mnist" / name
    assert str(e) == (
        f"cannot download Fashion-MNIST's {name} from {mirror.url}/{name}: HTTP 404 Not Found"
    )
    assert e.help.startswith(f"check that the mirror {mirror.url} is reachable and serves {name}; ")
    assert (
        f"or download {fashion_mnist.FASHION_MNIST_URL}{name} by hand and save it as {target}"
        in e.help
    )
    assert e.looked_in[0] == str(target)
    assert mirror.hits[f"/{name}"] == 1
    assert not target.parent.exists()  # nothing left behind, not even the folder


def test_a_stalled_server_times_out(mirror, tmp_path, monkeypatch):
    file = one_file(mirror, data=b"z" * 100_000)
    mirror.modes["t.csv"] = ["stall"]
    monkeypatch.setenv(fetch.TIMEOUT_ENV, "0.3")
    monkeypatch.setattr(fetch, "RETRIES", 1)
    start = time.monotonic()
    with pytest.raises(DataError) as ei:
        fetch.fetch(file, "files", what="the table")
    assert time.monotonic() - start < 10
    assert str(ei.value) == (
        f"cannot download the table from {mirror.url}/t.csv: the server sent nothing for "
        "0.3 s (timed out) (2 attempts)"
    )
    assert cache_files(tmp_path) == []


def test_offline_is_a_clear_error_without_retries(tmp_path, monkeypatch):
    # The autouse fixture's mirror is a closed port on 127.0.0.1: a refused connection.
    monkeypatch.setenv(fetch.DATA_HOME_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(fetch, "BACKOFF_S", 10.0)  # a retry would show
    file = RemoteFile("t.csv", "https://example.org/t.csv", "0" * 64)
    start = time.monotonic()
    with pytest.raises(DataError) as ei:
        fetch.fetch(file, "files")
    assert time.monotonic() - start < 5
    assert (
        str(ei.value) == "cannot download t.csv from http://127.0.0.1:9/t.csv: Connection refused"
    )
    assert "https://example.org/t.csv by hand" in ei.value.help


def test_a_bad_timeout_setting_is_a_data_error(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv(fetch.TIMEOUT_ENV, "soon")
    with pytest.raises(DataError, match="SPECFORGE_DOWNLOAD_TIMEOUT='soon' is not a number"):
        fetch.fetch(one_file(mirror), "files")


# ---------------------------------------------------------------- progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(mirror, tmp_path, monkeypatch, capsys):
    file = one_file(mirror, data=b"q" * 300_000)
    fetch.fetch(file, "quiet")
    assert capsys.readouterr().err == ""
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    fetch.fetch(file, "shown")
    assert "t.csv" in terminal.getvalue() and "100%" in terminal.getvalue()


# ---------------------------------------------------------------- the CLI, end to end


def test_train_fashion_mnist_downloads_then_trains_again_offline(
    mirror, tmp_path, monkeypatch, cli_run
):
    # The spec holds out 5,000 training images for validation: serve 5,100.
    make_fashion(tmp_path / "served", n_train=5100, n_test=50)
    for name, digest in serve(mirror, tmp_path / "served").items():
        monkeypatch.setitem(fashion_mnist.FASHION_MNIST_SHA256, name, digest)
    monkeypatch.chdir(tmp_path)
    spec = str(ROOT / "specs" / "fashion_mnist_mlp.yaml")
    args = ("train", spec, "--epochs", "1", "--backend", "numpy", "-q")
    first = cli_run(*args, "--out", "run1")
    assert first.exit_code == 0, first.output
    assert "fashion_mnist_mlp: trained 1 epoch on numpy" in first.stdout
    assert cache_files(tmp_path) == sorted(
        f"fashion-mnist/{n}" for n in FASHION_MNIST_FILES.values()
    )
    mirror.stop()
    second = cli_run(*args, "--out", "run2")
    assert second.exit_code == 0, second.output
    assert (tmp_path / "run2" / "history.csv").read_text() == (
        tmp_path / "run1" / "history.csv"
    ).read_text()
    assert sum(mirror.hits.values()) == 4
