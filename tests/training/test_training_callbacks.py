"""The training callbacks on their own: NaN guard, early stopping, checkpoints, progress."""

from __future__ import annotations

import io
import math
import signal

import numpy as np
import pytest

from specforge.spec.models import CheckpointSpec, EarlyStoppingSpec
from specforge.training.callbacks import (
    Checkpoint,
    EarlyStopping,
    Guard,
    Progress,
    Recorder,
    format_value,
    monitor_mode,
    sigint_stops,
)


def test_guard_stops_on_the_first_nan_and_names_the_output_whose_loss_went():
    guard = Guard(["output", "aux_output"])
    assert not guard.on_batch_end(0, 0, {"loss": 1.0, "output_loss": 1.0, "aux_output_loss": 1.0})
    assert guard.on_batch_end(
        2, 6, {"loss": math.inf, "aux_output_loss": math.inf, "output_loss": math.nan}
    )
    assert (
        guard.message()
        == "training diverged at epoch 3, batch 7: the loss of output 'output' (output_loss) is NaN"
    )


def test_guard_names_the_only_output_when_the_history_has_just_loss():
    guard = Guard(["dense_3"])
    assert guard.on_epoch_end(0, {"loss": 0.3, "val_loss": math.inf})
    assert (
        guard.message()
        == "training diverged at epoch 1: the loss of output 'dense_3' (val_loss) is inf"
    )


def test_sigint_handler_is_installed_only_while_training_and_restored_after():
    before = signal.getsignal(signal.SIGINT)
    guard = Guard(["out"])
    with sigint_stops(guard):
        assert signal.getsignal(signal.SIGINT) is not before
        signal.raise_signal(signal.SIGINT)
        assert guard.interrupted
    assert signal.getsignal(signal.SIGINT) is before
    assert guard.on_epoch_end(4, {}) and guard.interrupted_at == (5, None)


@pytest.mark.parametrize(
    ("key", "mode"),
    [
        ("val_loss", "min"),
        ("val_accuracy", "max"),
        ("output_acc", "max"),
        ("mean_absolute_error", "min"),
    ],
)
def test_monitor_mode_auto_maximises_accuracy_like_keys_as_keras_does(key, mode):
    assert monitor_mode(key, "auto") == mode
    assert monitor_mode(key, "max") == "max"


class FakeBackend:
    def __init__(self):
        self.weights = {"dense": [np.zeros(2)]}
        self.saved: list[str] = []

    def get_weights(self, model):
        return self.weights

    def set_weights(self, model, weights):
        self.weights = weights

    def save(self, model, path):
        self.saved.append(path)


def test_early_stopping_waits_patience_epochs_then_stops_and_restores_the_best():
    backend = FakeBackend()
    stop = EarlyStopping(EarlyStoppingSpec(patience=2, min_delta=0.01), backend, None)
    results = []
    for epoch, loss in enumerate([1.0, 0.5, 0.495, 0.6]):
        backend.weights = {"dense": [np.full(2, float(epoch))]}
        results.append(stop.on_epoch_end(epoch, {"val_loss": loss}))
    assert results == [False, False, False, True]  # 0.495 is not 0.01 better than 0.5
    assert stop.stopped_epoch == 4 and stop.watch.best_epoch == 2
    assert stop.restore(4)
    np.testing.assert_array_equal(backend.weights["dense"][0], [1.0, 1.0])


def test_early_stopping_warns_once_about_a_key_the_logs_lack():
    warnings = []
    stop = EarlyStopping(EarlyStoppingSpec(monitor="val_auc"), FakeBackend(), None, warnings.append)
    for epoch in range(3):
        assert not stop.on_epoch_end(epoch, {"loss": 1.0})
    assert len(warnings) == 1 and "'val_auc' is not in the training logs" in warnings[0]


def test_checkpoint_saves_whenever_the_monitored_key_improves():
    backend = FakeBackend()
    cp = Checkpoint(CheckpointSpec(monitor="val_accuracy"), backend, None, "best.npz")
    for epoch, acc in enumerate([0.5, 0.7, 0.6, 0.8]):
        cp.on_epoch_end(epoch, {"val_accuracy": acc})
    assert backend.saved == ["best.npz"] * 3 and cp.watch.best_epoch == 4


def test_recorder_keeps_every_finished_epoch():
    rec = Recorder()
    rec.on_epoch_end(0, {"loss": 1.0})
    rec.on_epoch_end(1, {"loss": 0.5})
    assert rec.history == {"loss": [1.0, 0.5]} and rec.epochs == 2


def test_progress_prints_one_line_per_epoch_when_not_a_terminal():
    out = io.StringIO()
    p = Progress(2, 10, stream=out)
    p.on_epoch_begin(0)
    p.on_batch_end(0, 0, {"loss": 2.0})
    p.on_epoch_end(0, {"loss": 1.23456, "val_loss": 2.5})
    assert p.mode == "lines"
    assert out.getvalue().startswith("epoch 1/2 - loss: 1.2346 - val_loss: 2.5000 - ")


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_draws_a_bar_per_epoch_with_loss_and_val_loss_in_a_terminal():
    out = Tty()
    p = Progress(3, 4, stream=out)
    assert p.mode == "bar"
    p.on_epoch_begin(1)
    for b in range(4):
        p.on_batch_end(1, b, {"loss": 1.0 / (b + 1)})
    p.on_epoch_end(1, {"loss": 0.25, "val_loss": 0.5})
    text = out.getvalue()
    assert "epoch 2/3" in text and "4/4" in text and "loss 0.2500 val_loss 0.5000" in text


def test_format_value_keeps_huge_and_tiny_numbers_readable():
    assert format_value(0.12345) == "0.1235"
    assert format_value(1e300) == "1e+300"
    assert format_value(3e-7) == "3e-07"
    assert format_value(float("nan")) == "nan"
