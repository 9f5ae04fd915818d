"""Built-in preprocessors for ``data.preprocess``, registered like any plugin's.

Each is a :class:`specforge.plugin.Preprocessor` subclass, which keeps the
parameters and the fitted state; the contract:

* ``fit`` sees the training split only. A *features* preprocessor receives a
  2-D float array, one row per sample and one column per feature, images
  flattened (the chapter's flatten → scale → reshape pipeline: the training
  pipeline flattens before and reshapes after). A *targets* preprocessor
  receives the target array as the dataset has it.
* ``get_state`` returns plain data: numbers, strings, lists and numpy arrays.
  The run directory stores arrays in an ``.npz`` read without pickle and the
  rest as JSON, so loading a run never executes code.

numpy is imported inside the methods: ``validate`` never pays for it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from specforge.plugin import DataError, Params, Preprocessor, PreprocessorType, hookimpl

#: The plugin API these preprocessors are written against.
SPECFORGE_API = 2

SPECFORGE_API = 2

Finite = Annotated[float, Field(allow_inf_nan=False)]


def _tiny_to_one(scale):
    """scikit-learn's ``_handle_zeros_in_scale``: a (near) constant feature is left unscaled."""
    import numpy as np

    scale = scale.copy()
    scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
    return scale


# ---------------------------------------------------------------- standard_scaler


class StandardScalerParams(Params):
    with_mean: bool = Field(True, description="Subtract each feature's mean.")
    with_std: bool = Field(True, description="Divide by each feature's standard deviation.")


class StandardScaler(Preprocessor):
    """(x - mean) / std per feature, like scikit-learn's StandardScaler."""

    type_name = "standard_scaler"
    params: StandardScalerParams

    def fit(self, x) -> None:
        import numpy as np

        x = np.asarray(x)
        # Statistics accumulate in float64 without a float64 copy of the data.
        mean = x.mean(axis=0, dtype=np.float64) if self.params.with_mean else np.zeros(x.shape[1])
        scale = (
            _tiny_to_one(np.sqrt(x.var(axis=0, dtype=np.float64)))
            if self.params.with_std
            else np.ones(x.shape[1])
        )
        self.state = {"mean": mean, "scale": scale}

    def transform(self, x):
        import numpy as np

        state = self.fitted_state()
        self.check_width(x, len(state["mean"]))
        # float32 throughout, as scikit-learn does for float32 data: no float64
        # copy of a 55,000-image training set.
        out = np.asarray(x, dtype=np.float32) - state["mean"].astype(np.float32)
        out /= state["scale"].astype(np.float32)
        return out


# ---------------------------------------------------------------- minmax_scaler


class MinMaxScalerParams(Params):
    feature_range: list[Finite] = Field(
        [0.0, 1.0],
        min_length=2,
        max_length=2,
        description="Range [low, high] each feature is mapped to.",
    )

    @field_validator("feature_range")
    @classmethod
    def _ordered(cls, value: list[float]) -> list[float]:
        low, high = value
        if not low < high:
            raise PydanticCustomError("invalid_range", "must be [low, high] with low < high")
        return value


class MinMaxScaler(Preprocessor):
    """Maps each feature's training minimum and maximum onto ``feature_range``
    (scikit-learn's MinMaxScaler arithmetic: ``x * scale + min``)."""

    type_name = "minmax_scaler"
    params: MinMaxScalerParams

    def fit(self, x) -> None:
        import numpy as np

        x = np.asarray(x)
        low, high = self.params.feature_range
        data_min, data_max = x.min(axis=0).astype(np.float64), x.max(axis=0).astype(np.float64)
        scale = (high - low) / _tiny_to_one(data_max - data_min)
        self.state = {"scale": scale, "min": low - data_min * scale}

    def transform(self, x):
        import numpy as np

        state = self.fitted_state()
        self.check_width(x, len(state["scale"]))
        out = np.asarray(x, dtype=np.float32) * state["scale"].astype(np.float32)
        out += state["min"].astype(np.float32)
        return out


# ---------------------------------------------------------------- scale


class ScaleParams(Params):
    factor: Finite = Field(
        description="Constant every feature is multiplied by, e.g. 0.00392156862745098 (1/255)."
    )


class Scale(Preprocessor):
    """Multiplies every feature by a constant: nothing to learn."""

    type_name = "scale"
    params: ScaleParams

    def fit(self, x) -> None:
        self.state = {}  # nothing to learn, but fitted like the others

    def transform(self, x):
        import numpy as np

        self.fitted_state()
        return np.asarray(x, dtype=np.float32) * np.float32(self.params.factor)


# ---------------------------------------------------------------- one_hot


class OneHotParams(Params):
    num_classes: Annotated[int, Field(gt=0)] | None = Field(
        None, description="Number of classes; default: the largest label in the training split + 1."
    )


class OneHot(Preprocessor):
    """Class indices → one-hot rows (for categorical_crossentropy)."""

    type_name = "one_hot"
    params: OneHotParams

    def _labels(self, y):
        import numpy as np

        a = np.asarray(y)
        if a.ndim == 2 and a.shape[1] == 1:
            a = a[:, 0]
        if (
            a.ndim != 1
            or a.dtype.kind not in "iuf"
            or (a.dtype.kind == "f" and not np.all(a == np.round(a)))
        ):
            raise DataError(
                f"one_hot needs one integer class index per sample, got an array of shape {a.shape} ({a.dtype})",
                help="one_hot applies to classification targets",
            )
        return a.astype(np.int64)

    def fit(self, y) -> None:
        labels = self._labels(y)
        k = self.params.num_classes or (int(labels.max()) + 1 if labels.size else 1)
        self.state = {"num_classes": int(k)}

    def transform(self, y):
        import numpy as np

        k = int(self.fitted_state()["num_classes"])
        labels = self._labels(y)
        if labels.size and (labels.min() < 0 or labels.max() >= k):
            raise DataError(
                f"one_hot: label {int(labels.max() if labels.max() >= k else labels.min())} is outside 0..{k - 1}",
                help=f"set num_classes in the one_hot preprocessor (it is {k}, from the training split)",
            )
        return np.eye(k, dtype=np.float32)[labels]


PREPROCESSORS = [
    PreprocessorType(
        "standard_scaler",
        StandardScalerParams,
        StandardScaler,
        "(x - mean) / std per feature, fitted on the training split",
    ),
    PreprocessorType(
        "minmax_scaler",
        MinMaxScalerParams,
        MinMaxScaler,
        "maps each feature's training min/max onto feature_range (default [0, 1]); images per pixel",
    ),
    PreprocessorType("scale", ScaleParams, Scale, "multiplies features by a constant factor"),
    PreprocessorType(
        "one_hot", OneHotParams, OneHot, "class indices → one-hot target rows", applies_to="targets"
    ),
]


@hookimpl
def register_preprocessors(register):
    for preprocessor in PREPROCESSORS:
        register(preprocessor)
