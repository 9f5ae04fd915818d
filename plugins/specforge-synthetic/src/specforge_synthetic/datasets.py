"""Datasets made by scikit-learn's generators: ``moons``, ``circles``, ``blobs``, ``regression``.

Each parameter is a field of a pydantic model, so a spec's ``data.dataset``
section is checked like any other part of the spec: ``noise: -1`` or
``n_informative: 20`` with ``n_features: 5`` are positioned diagnostics from
``specforge validate``, before anything is generated. The same seed gives the
same data on every machine (scikit-learn's generators are seeded
``RandomState``\\ s).

scikit-learn and numpy are imported inside the loaders.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from specforge.plugin import Dataset, DatasetType, Params

NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Samples = Annotated[int, Field(ge=2, le=10_000_000, description="Number of samples generated.")]
Seed = Annotated[
    int, Field(ge=0, le=2**32 - 1, description="Random seed: the same seed gives the same data.")
]
Features = Annotated[int, Field(ge=1, le=100_000, description="Number of features per sample.")]


class MoonsParams(Params):
    n_samples: Samples = 1000
    noise: NonNegative = Field(
        0.1, description="Standard deviation of Gaussian noise added to the points."
    )
    seed: Seed = 0


class CirclesParams(Params):
    n_samples: Samples = 1000
    noise: NonNegative = Field(
        0.05, description="Standard deviation of Gaussian noise added to the points."
    )
    factor: float = Field(
        0.5, gt=0, lt=1, description="Radius of the inner circle relative to the outer one."
    )
    seed: Seed = 0


class BlobsParams(Params):
    n_samples: Samples = 1000
    n_features: Features = 2
    centers: (
        Annotated[int, Field(ge=1, le=10_000)]
        | list[list[Annotated[float, Field(allow_inf_nan=False)]]]
    ) = Field(
        3,
        description="Number of clusters, or the centre of each cluster (one list of n_features numbers each).",
    )
    cluster_std: float = Field(
        1.0, gt=0, allow_inf_nan=False, description="Standard deviation of each cluster."
    )
    seed: Seed = 0

    @field_validator("centers")
    @classmethod
    def _centers_fit(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, list):
            if not value:
                raise PydanticCustomError("centers", "needs at least one centre")
            n_features = info.data.get("n_features")
            widths = {len(c) for c in value}
            if n_features is not None and widths != {n_features}:
                raise PydanticCustomError(
                    "centers",
                    "must list n_features ({n_features}) coordinates for each centre, not {widths}",
                    {"n_features": n_features, "widths": ", ".join(str(w) for w in sorted(widths))},
                )
        return value


class RegressionParams(Params):
    n_samples: Samples = 1000
    n_features: Features = 10
    n_informative: Annotated[int, Field(ge=1, le=100_000)] = Field(
        10, description="How many features the target depends on (at most n_features)."
    )
    n_targets: Annotated[int, Field(ge=1, le=1000)] = Field(
        1, description="Number of regression targets."
    )
    noise: NonNegative = Field(
        0.0, description="Standard deviation of Gaussian noise added to the targets."
    )
    bias: float = Field(0.0, allow_inf_nan=False, description="Constant added to the targets.")
    seed: Seed = 0

    @field_validator("n_informative")
    @classmethod
    def _at_most_n_features(cls, value: int, info: ValidationInfo) -> int:
        n_features = info.data.get("n_features")
        if n_features is not None and value > n_features:
            raise PydanticCustomError(
                "n_informative",
                "must be at most n_features ({n_features})",
                {"n_features": n_features},
            )
        return value


def _classes(x: Any, y: Any, n_classes: int) -> Any:
    import numpy as np

    x = np.asarray(x, dtype=np.float32)
    return Dataset(
        x=x,
        y=np.asarray(y, dtype=np.int64),
        feature_names=[f"x{j}" for j in range(x.shape[1])],
        target_names=["class"],
        task="classification",
        class_names=[str(k) for k in range(n_classes)],
    )


def load_moons(params: MoonsParams) -> Any:
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=params.n_samples, noise=params.noise, random_state=params.seed)
    return _classes(x, y, 2)


def load_circles(params: CirclesParams) -> Any:
    from sklearn.datasets import make_circles

    x, y = make_circles(
        n_samples=params.n_samples,
        noise=params.noise,
        factor=params.factor,
        random_state=params.seed,
    )
    return _classes(x, y, 2)


def load_blobs(params: BlobsParams) -> Any:
    from sklearn.datasets import make_blobs

    x, y = make_blobs(
        n_samples=params.n_samples,
        n_features=params.n_features,
        centers=params.centers,
        cluster_std=params.cluster_std,
        random_state=params.seed,
    )
    n_classes = params.centers if isinstance(params.centers, int) else len(params.centers)
    return _classes(x, y, n_classes)


def load_regression(params: RegressionParams) -> Any:
    import numpy as np
    from sklearn.datasets import make_regression

    x, y = make_regression(
        n_samples=params.n_samples,
        n_features=params.n_features,
        n_informative=params.n_informative,
        n_targets=params.n_targets,
        noise=params.noise,
        bias=params.bias,
        random_state=params.seed,
    )
    targets = ["y"] if params.n_targets == 1 else [f"y{k}" for k in range(params.n_targets)]
    return Dataset(
        x=np.asarray(x, dtype=np.float32),
        y=np.asarray(y, dtype=np.float32),
        feature_names=[f"x{j}" for j in range(params.n_features)],
        target_names=targets,
        task="regression",
        class_names=None,
    )


DATASETS = [
    DatasetType(
        "moons",
        MoonsParams,
        load_moons,
        "two interleaving half circles (sklearn make_moons), 2 features, 2 classes",
    ),
    DatasetType(
        "circles",
        CirclesParams,
        load_circles,
        "a circle inside a circle (sklearn make_circles), 2 features, 2 classes",
    ),
    DatasetType(
        "blobs",
        BlobsParams,
        load_blobs,
        "Gaussian clusters (sklearn make_blobs), one class per cluster",
    ),
    DatasetType(
        "regression",
        RegressionParams,
        load_regression,
        "random linear regression problem (sklearn make_regression)",
    ),
]
