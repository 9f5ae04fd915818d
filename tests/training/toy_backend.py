"""A tiny backend plugin for testing the training pipeline without a framework.

Each output is a linear model (softmax for the classification losses) on all
inputs flattened and concatenated, trained with plain SGD; nodes are ignored.
It honours the whole Backend contract the pipeline relies on: history key
names, callbacks after every batch and epoch (True stops), validation data,
seeds, atomic save/load, get/set_weights. Training takes milliseconds.
"""

from __future__ import annotations

import math
import os
import signal

import numpy as np

from specforge.atomic import atomic_path
from specforge.plugin import Backend, hookimpl

CLASSIFY = {"sparse_categorical_crossentropy", "categorical_crossentropy"}


class ToyModel:
    def __init__(self, graph, weights):
        self.graph = graph
        self.weights = weights  # {output: [W, b]}


def _features(graph, x):
    parts = [
        np.asarray(x[i.name], dtype=np.float64).reshape(len(x[i.name]), -1) for i in graph.inputs
    ]
    return np.concatenate(parts, axis=1)


def _forward(model, feats):
    out = {}
    for o in model.graph.outputs:
        w, b = model.weights[o.name]
        z = feats @ w + b
        if o.loss in CLASSIFY:
            z = np.exp(z - z.max(axis=1, keepdims=True))
            z = z / z.sum(axis=1, keepdims=True)
        out[o.name] = z
    return out


def _targets(o, y, units):
    y = np.asarray(y)
    if o.loss == "sparse_categorical_crossentropy":
        return np.eye(units)[y.astype(int).ravel()]
    return y.reshape(len(y), -1).astype(np.float64)


def _loss(o, pred, target):
    with np.errstate(all="ignore"):
        if o.loss in CLASSIFY:
            return float(-np.mean(np.sum(target * np.log(np.clip(pred, 1e-7, 1.0)), axis=1)))
        return float(np.mean((pred - target) ** 2))


def _metrics(o, pred, target):
    out = {}
    for m in o.metrics:
        if m == "accuracy":
            out[m] = (
                float(np.mean(np.argmax(pred, 1) == np.argmax(target, 1)))
                if o.loss in CLASSIFY
                else float("nan")
            )
        elif m == "mean_absolute_error":
            out[m] = float(np.mean(np.abs(pred - target)))
    return out


def _logs(model, feats, y):
    graph = model.graph
    preds = _forward(model, feats)
    logs, total = {}, 0.0
    single = len(graph.outputs) == 1
    for o in graph.outputs:
        target = _targets(o, y[o.name], preds[o.name].shape[1])
        loss = _loss(o, preds[o.name], target)
        total += o.weight * loss
        if not single:
            logs[f"{o.name}_loss"] = loss
        for k, v in _metrics(o, preds[o.name], target).items():
            logs[k if single else f"{o.name}_{k}"] = v
    return {"loss": total, **logs}


class ToyBackend(Backend):
    name = "toy"
    description = "linear models per output, for tests"
    file_suffix = ".npz"
    #: (epoch, batch), 0-based: send this process ``interrupts`` real SIGINTs (Ctrl-C) after that batch.
    interrupt_at: tuple[int, int] | None = None
    interrupts = 1

    def build(self, graph, *, seed=None):
        rng = np.random.default_rng(seed)
        width = sum(math.prod(i.shape) for i in graph.inputs)
        weights = {
            o.name: [rng.normal(0, 0.1, (width, math.prod(o.shape))), np.zeros(math.prod(o.shape))]
            for o in graph.outputs
        }
        return ToyModel(graph, weights)

    def save(self, model, path):
        arrays = {f"{k}.{i}": w for k, ws in model.weights.items() for i, w in enumerate(ws)}
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    def load(self, path, graph):
        with np.load(path, allow_pickle=False) as data:
            weights = {o.name: [data[f"{o.name}.0"], data[f"{o.name}.1"]] for o in graph.outputs}
        return ToyModel(graph, weights)

    def fit(
        self,
        model,
        x,
        y,
        *,
        epochs,
        batch_size=32,
        shuffle=True,
        seed=None,
        validation_data=None,
        callbacks=(),
    ):
        graph = model.graph
        feats = _features(graph, x)
        n = len(feats)
        rng = np.random.default_rng(seed)
        lr = graph.optimizer.learning_rate or 0.01
        history: dict[str, list[float]] = {}
        for epoch in range(epochs):
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            order = rng.permutation(n) if shuffle else np.arange(n)
            stop = False
            running = 0.0
            for batch, start in enumerate(range(0, n, batch_size)):
                idx = order[start : start + batch_size]
                f = feats[idx]
                preds = _forward(model, f)
                with np.errstate(all="ignore"):
                    for o in graph.outputs:
                        target = _targets(o, np.asarray(y[o.name])[idx], preds[o.name].shape[1])
                        grad = (
                            (preds[o.name] - target)
                            * (1.0 if o.loss in CLASSIFY else 2.0)
                            / len(idx)
                            * o.weight
                        )
                        w, b = model.weights[o.name]
                        model.weights[o.name] = [w - lr * f.T @ grad, b - lr * grad.sum(axis=0)]
                    batch_logs = _logs(model, f, {k: np.asarray(v)[idx] for k, v in y.items()})
                if self.interrupt_at == (epoch, batch):
                    for _ in range(self.interrupts):
                        os.kill(os.getpid(), signal.SIGINT)
                running += (batch_logs["loss"] - running) / (batch + 1)
                batch_logs["loss"] = running
                if any([cb.on_batch_end(epoch, batch, batch_logs) for cb in callbacks]):
                    stop = True
                    break
            logs = _logs(model, feats, y)
            if validation_data is not None:
                vx, vy = validation_data
                logs.update(
                    {f"val_{k}": v for k, v in _logs(model, _features(graph, vx), vy).items()}
                )
            for k, v in logs.items():
                history.setdefault(k, []).append(v)
            if any([cb.on_epoch_end(epoch, logs) for cb in callbacks]) or stop:
                break
        return history

    def evaluate(self, model, x, y, *, batch_size=32):
        return _logs(model, _features(model.graph, x), y)

    def predict(self, model, x, *, batch_size=32):
        return {
            k: v.astype(np.float32) for k, v in _forward(model, _features(model.graph, x)).items()
        }

    def get_weights(self, model):
        return {k: [w.copy() for w in ws] for k, ws in model.weights.items()}

    def set_weights(self, model, weights):
        model.weights = {k: [np.array(w) for w in ws] for k, ws in weights.items()}


@hookimpl
def register_backends(register):
    register(ToyBackend())
