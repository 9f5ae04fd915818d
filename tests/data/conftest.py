"""Fixtures for the data tests; the helpers beside this file are imported by name."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from specforge.default_plugins.datasets import fashion_mnist


@pytest.fixture
def no_tmp_keras(tmp_path, monkeypatch):
    """Point Keras' /tmp/.keras fallback at an empty directory."""
    root = tmp_path / "tmp-keras"
    monkeypatch.setattr(fashion_mnist, "_keras_tmp_root", lambda: str(root))
    return root
