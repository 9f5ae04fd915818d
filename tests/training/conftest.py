"""Fixtures for the training pipeline: a toy backend, data files in the real formats, spec writers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The toy backend and the helpers live beside this file; the tests import them by name.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import toy_backend
from training_helpers import make_california_archive, make_fashion, sha256

from specforge.default_plugins.datasets import california, fashion_mnist


@pytest.fixture
def toy():
    """Install the toy backend (``--backend toy``) for the API and the CLI alike."""
    from specforge.testing import plugins_installed

    with plugins_installed(("toy", toy_backend)):
        yield toy_backend.ToyBackend


@pytest.fixture
def keras_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake $KERAS_HOME (and no /tmp/.keras fallback) holding Fashion-MNIST (generated files,
    whose checksums replace the real ones for the test)."""
    home = tmp_path / "keras-home"
    make_fashion(home / "datasets" / "fashion-mnist")
    for name in fashion_mnist.FASHION_MNIST_FILES.values():
        digest = sha256(home / "datasets" / "fashion-mnist" / name)
        monkeypatch.setitem(fashion_mnist.FASHION_MNIST_SHA256, name, digest)
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setattr(fashion_mnist, "_keras_tmp_root", lambda: str(tmp_path / "no-tmp-keras"))
    return home


@pytest.fixture
def sklearn_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake scikit-learn data home holding California housing's archive (a generated one,
    whose checksum replaces the real one for the test)."""
    home = tmp_path / "scikit_learn_data"
    make_california_archive(home / "cal_housing.tgz")
    monkeypatch.setattr(california, "CALIFORNIA_SHA256", sha256(home / "cal_housing.tgz"))
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(home))
    return home


def available_backends() -> list[str]:
    """The real backends installed, for parametrising over them."""
    from specforge.registry import load_registry

    return sorted(n for n in load_registry().backends if n != "toy")


def backend_params(*names: str) -> list:
    """pytest params for ``names``, each skipped with a reason when that backend is missing."""
    from specforge.registry import load_registry

    installed = load_registry().backends
    params = []
    for name in names:
        reason = None
        if name not in installed:
            reason = f"backend '{name}' is not installed"
        else:
            import importlib.util

            missing = [m for m in installed[name].requires if importlib.util.find_spec(m) is None]
            if missing:
                reason = f"backend '{name}' needs {', '.join(missing)}"
        params.append(
            pytest.param(name, marks=pytest.mark.skipif(reason is not None, reason=reason or ""))
        )
    return params


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
