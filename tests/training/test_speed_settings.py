"""The spec's speed settings reach only the backends whose methods take them."""

from __future__ import annotations

from types import SimpleNamespace

from specforge.training.speed_settings import fit_settings, stream_settings, takes

CFG = SimpleNamespace(steps_per_execution="auto", batch_size=64)


class Plain:
    def fit(self, model, x, y, *, epochs, batch_size=32): ...

    def fit_stream(self, model, batches, *, epochs): ...


class Fast:
    def fit(self, model, x, y, *, epochs, steps_per_execution=None): ...

    def fit_stream(self, model, batches, *, epochs, steps_per_execution=None, **rest): ...


class Anything:
    def fit(self, model, x, y, **options): ...


def test_a_backend_that_does_not_take_the_setting_never_sees_it():
    assert fit_settings(Plain(), CFG) == {}
    assert stream_settings(Plain(), CFG, 1_000) == {}


def test_a_backend_that_takes_it_gets_the_spec_value():
    assert fit_settings(Fast(), CFG) == {"steps_per_execution": "auto"}
    assert fit_settings(Anything(), CFG) == {"steps_per_execution": "auto"}
    # auto on a stream needs the split's rows and the batch.
    assert stream_settings(Fast(), CFG, 1_000) == {
        "steps_per_execution": "auto",
        "samples": 1_000,
        "batch_size": 64,
    }


def test_an_api1_backend_is_asked_through_its_shim():
    shim = SimpleNamespace(inner=Fast(), fit=Plain().fit)
    assert fit_settings(shim, CFG) == {"steps_per_execution": "auto"}
    assert not takes(len, "steps_per_execution")  # a builtin without a signature
