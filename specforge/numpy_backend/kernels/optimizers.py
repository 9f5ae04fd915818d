"""Optimizer kernels: Keras 3's update rules on NumPy arrays, and Rosenblatt's perceptron rule.

:data:`OPTIMIZERS` holds the gradient optimizers a spec can name (``sgd``, ``adam``,
``rmsprop``), keyed by the vocabulary's canonical names; the ``perceptron`` optimizer
is :class:`specforge.numpy_backend.perceptron.PerceptronRule`, built on
:func:`perceptron_update`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ._arrays import Array


def _check_number(
    opt: str,
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """Validate a hyper-parameter, naming the optimizer and the allowed range on failure."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{opt}: {name} must be a number, got {value!r}")
    v = float(value)
    bad = not math.isfinite(v)
    bad = bad or (lo is not None and (v <= lo if lo_open else v < lo))
    bad = bad or (hi is not None and (v >= hi if hi_open else v > hi))
    if bad:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        rng = f"{lb}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{rb}"
        raise ValueError(f"{opt}: {name} must be in {rng}, got {value!r}")
    return v


class GradientOptimizer:
    """Keras 3 optimizer semantics on NumPy arrays updated in place.

    ``step(params, grads)`` mirrors ``keras.optimizers.Optimizer.apply``: gradients are
    cast to each parameter's dtype, clipped (clipnorm / clipvalue / global_clipnorm),
    weight decay ``p -= p * wd * lr`` is applied, then the rule-specific update, and
    finally ``iterations`` (starting at 0) is incremented -- so update rules see
    ``t = iterations + 1`` on the first step, as Keras's do. Per-parameter slots are
    created on the first call and matched by position on later calls.
    """

    name: ClassVar[str] = "optimizer"

    def __init__(
        self,
        learning_rate: float,
        *,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        self.learning_rate = learning_rate
        n = self.name
        self.weight_decay = (
            None if weight_decay is None else _check_number(n, "weight_decay", weight_decay, 0.0)
        )
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(v is not None for v in clips.values()) > 1:
            raise ValueError(f"{n}: only one of clipnorm, clipvalue and global_clipnorm can be set")
        for key, val in clips.items():
            setattr(
                self, key, None if val is None else _check_number(n, key, val, 0.0, lo_open=True)
            )
        self.iterations = 0
        self._slots: list[dict[str, Array]] | None = None
        self._shapes: list[tuple[tuple[int, ...], np.dtype]] = []

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = _check_number(self.name, "learning_rate", value, 0.0)

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The effective hyper-parameters, with the same keys as Keras's ``get_config``."""
        return {
            "learning_rate": self.learning_rate,
            **self._own_hyperparameters(),
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
        }

    def _own_hyperparameters(self) -> dict[str, Any]:
        return {}

    def reset(self) -> None:
        """Forget slots and the iteration counter (a freshly constructed optimizer)."""
        self.iterations = 0
        self._slots = None
        self._shapes = []

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        """Apply one update to ``params`` in place."""
        if not params and not grads:
            self.iterations += 1
            return
        if len(params) != len(grads):
            raise ValueError(
                f"{self.name}: got {len(params)} parameters but {len(grads)} gradients"
            )
        for i, p in enumerate(params):
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(
                    f"{self.name}: parameter {i} must be a floating numpy array updated in place"
                )
        gs = [np.asarray(g).astype(p.dtype, copy=False) for p, g in zip(params, grads, strict=True)]
        for i, (p, g) in enumerate(zip(params, gs, strict=True)):
            if g.shape != p.shape:
                raise ValueError(
                    f"{self.name}: gradient {i} has shape {g.shape}, parameter has {p.shape}"
                )
        if self._slots is None:
            self._slots = [self._make_slots(p) for p in params]
            self._shapes = [(p.shape, p.dtype) for p in params]
        elif [(p.shape, p.dtype) for p in params] != self._shapes:
            raise ValueError(
                f"{self.name}: parameters changed since the first step "
                f"({self._shapes} -> {[(p.shape, p.dtype) for p in params]})"
            )
        gs = self._clip(gs)
        if self.weight_decay is not None:
            for p in params:
                dt = p.dtype.type
                p -= p * dt(self.weight_decay) * dt(self.learning_rate)
        for p, g, slots in zip(params, gs, self._slots, strict=True):
            self._update(p, g, slots, p.dtype.type(self.learning_rate))
        self.iterations += 1

    def _clip(self, gs: list[Array]) -> list[Array]:
        if self.clipnorm:
            out = []
            for g in gs:
                norm = np.sqrt(np.sum(np.square(g)))
                out.append(g * self.clipnorm / np.maximum(norm, self.clipnorm))
            return out
        if self.global_clipnorm:
            norm = np.sqrt(np.sum(np.stack([np.sum(np.square(g)) for g in gs])))
            with np.errstate(divide="ignore"):
                scale = self.global_clipnorm * np.minimum(1.0 / norm, 1.0 / self.global_clipnorm)
            return [g * scale.astype(g.dtype) for g in gs]
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in gs]
        return gs

    def _make_slots(self, p: Array) -> dict[str, Array]:
        return {}

    def _update(self, p: Array, g: Array, slots: dict[str, Array], lr: np.floating) -> None:
        raise NotImplementedError


class SGD(GradientOptimizer):
    """Keras 3 SGD: ``v = momentum*v - lr*g; p += v`` (nesterov: ``p += momentum*v - lr*g``)."""

    name = "sgd"

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.momentum = _check_number(self.name, "momentum", momentum, 0.0, 1.0)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ValueError(f"sgd: nesterov must be a bool, got {nesterov!r}")
        self.nesterov = bool(nesterov)

    def _own_hyperparameters(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def _make_slots(self, p: Array) -> dict[str, Array]:
        return {"momentum": np.zeros_like(p)} if self.momentum != 0 else {}

    def _update(self, p: Array, g: Array, slots: dict[str, Array], lr: np.floating) -> None:
        if self.momentum == 0:
            p -= g * lr
            return
        mom = p.dtype.type(self.momentum)
        m = slots["momentum"]
        step = g * lr
        m *= mom
        m -= step
        if self.nesterov:
            inc = m * mom
            inc -= step
            p += inc
        else:
            p += m


class Adam(GradientOptimizer):
    """Keras 3 Adam: bias correction folded into ``alpha``; epsilon added to ``sqrt(v)``."""

    name = "adam"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_number(self.name, "beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = _check_number(self.name, "beta_2", beta_2, 0.0, 1.0, hi_open=True)
        self.epsilon = _check_number(self.name, "epsilon", epsilon, 0.0)
        if not isinstance(amsgrad, (bool, np.bool_)):
            raise ValueError(f"{self.name}: amsgrad must be a bool, got {amsgrad!r}")
        self.amsgrad = bool(amsgrad)

    def _own_hyperparameters(self) -> dict[str, Any]:
        return {
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }

    def _make_slots(self, p: Array) -> dict[str, Array]:
        slots = {"m": np.zeros_like(p), "v": np.zeros_like(p)}
        if self.amsgrad:
            slots["v_hat"] = np.zeros_like(p)
        return slots

    def _update(self, p: Array, g: Array, slots: dict[str, Array], lr: np.floating) -> None:
        dt = p.dtype.type
        t = dt(self.iterations + 1)
        b1p = np.power(dt(self.beta_1), t)
        b2p = np.power(dt(self.beta_2), t)
        alpha = lr * np.sqrt(1 - b2p) / (1 - b1p)
        m, v = slots["m"], slots["v"]
        m += (g - m) * (1 - self.beta_1)  # Python-float (1 - beta), as Keras
        v += (np.square(g) - v) * (1 - self.beta_2)
        if self.amsgrad:
            np.maximum(slots["v_hat"], v, out=slots["v_hat"])
            v = slots["v_hat"]
        denom = np.sqrt(v)
        denom += self.epsilon
        p -= (m * alpha) / denom


class RMSprop(GradientOptimizer):
    """Keras 3 RMSprop: epsilon goes *inside* the square root (unlike Adam)."""

    name = "rmsprop"

    def __init__(
        self,
        learning_rate: float = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = _check_number(self.name, "rho", rho, 0.0, 1.0)
        self.momentum = _check_number(self.name, "momentum", momentum, 0.0, 1.0)
        self.epsilon = _check_number(self.name, "epsilon", epsilon, 0.0)
        if not isinstance(centered, (bool, np.bool_)):
            raise ValueError(f"rmsprop: centered must be a bool, got {centered!r}")
        self.centered = bool(centered)

    def _own_hyperparameters(self) -> dict[str, Any]:
        return {
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }

    def _make_slots(self, p: Array) -> dict[str, Array]:
        slots = {"velocity": np.zeros_like(p)}
        if self.momentum > 0:
            slots["momentum"] = np.zeros_like(p)
        if self.centered:
            slots["average_gradient"] = np.zeros_like(p)
        return slots

    def _update(self, p: Array, g: Array, slots: dict[str, Array], lr: np.floating) -> None:
        v = slots["velocity"]
        v *= self.rho
        v += (1 - self.rho) * np.square(g)
        if self.centered:
            ag = slots["average_gradient"]
            ag *= self.rho
            ag += (1 - self.rho) * g
            denom = v - np.square(ag)
            denom += self.epsilon
        else:
            denom = v + self.epsilon
        inc = (lr * g) / np.sqrt(denom)
        if self.momentum > 0:
            mom = slots["momentum"]
            mom *= self.momentum
            mom += inc
            p -= mom
        else:
            p -= inc


#: canonical optimizer name -> class; ``OPTIMIZERS["adam"](learning_rate=1e-3, beta_1=0.9)``.
OPTIMIZERS: dict[str, type[GradientOptimizer]] = {cls.name: cls for cls in (SGD, Adam, RMSprop)}


def perceptron_update(
    weights: Array,
    bias: Array,
    x_batch: Array,
    y_true: Array,
    y_pred: Array | None = None,
    eta: float = 1.0,
) -> int:
    """Rosenblatt's rule ``w += eta * (y - step(x.w + b)) * x``, updating ``weights``/``bias`` in place.

    Online (``y_pred=None``): samples are visited in order and each prediction uses the
    weights left by the previous sample -- the loop over samples is the algorithm, not an
    implementation shortcut. A sample counts as misclassified when ``(2y - 1) * a <= 0``
    for activation ``a``, i.e. ``a == 0`` is a mistake for *both* classes; that is
    scikit-learn's rule, so one call per epoch on the same data reproduces
    ``sklearn.linear_model.Perceptron(shuffle=False, eta0=eta, tol=None)`` exactly
    (``max_iter`` calls). Several output columns (weights ``(n_features, n_out)``, 0/1
    targets ``(batch, n_out)``) are trained independently, like sklearn's one-vs-rest.

    Batch (``y_pred`` given, 0/1 predictions made before the call): every sample's error
    ``y - y_pred`` is applied with those fixed predictions, i.e. the summed update.

    ``bias`` must be an ndarray (0-d, ``(1,)`` or ``(n_out,)``) so it can change in place.
    Returns the number of (sample, output) pairs that produced an update.
    """
    if not isinstance(bias, np.ndarray) or not isinstance(weights, np.ndarray):
        raise TypeError(
            "perceptron_update: weights and bias must be numpy arrays (updated in place)"
        )
    x = np.asarray(x_batch, dtype=weights.dtype)
    if x.ndim != 2 or x.shape[1] != weights.shape[0]:
        raise ValueError(
            f"perceptron_update: x_batch shape {x.shape} does not match weights {weights.shape}"
        )
    single = weights.ndim == 1
    w2 = weights[:, None] if single else weights  # views: updates reach the caller's arrays
    y = np.asarray(y_true, dtype=weights.dtype).reshape(x.shape[0], w2.shape[1])
    b = bias.reshape(w2.shape[1]) if bias.size == w2.shape[1] else None
    if b is None or not np.shares_memory(b, bias):
        raise ValueError(
            f"perceptron_update: bias of shape {bias.shape} must hold {w2.shape[1]} contiguous values"
        )
    eta_ = weights.dtype.type(eta)
    if y_pred is not None:
        err = y - np.asarray(y_pred, dtype=weights.dtype).reshape(y.shape)
        w2 += eta_ * (x.T @ err)
        b += eta_ * err.sum(axis=0)
        return int(np.count_nonzero(err))
    sign = 2 * y - 1  # {0, 1} -> {-1, +1}
    mistakes = 0
    for i in range(x.shape[0]):
        a = x[i] @ w2 + b
        wrong = sign[i] * a <= 0
        if wrong.any():
            upd = np.where(wrong, eta_ * sign[i], 0).astype(weights.dtype)
            w2 += np.outer(x[i], upd)
            b += upd
            mistakes += int(wrong.sum())
    return mistakes
