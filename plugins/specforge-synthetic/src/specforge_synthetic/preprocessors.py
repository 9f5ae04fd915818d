"""Preprocessors ``pca`` and ``polynomial_features`` for ``data.preprocess``.

Both subclass :class:`specforge.plugin.Preprocessor`, which keeps the
parameters and the state. The contract: ``fit(x)`` sees the
training split only, as a 2-D float array; ``transform(x)`` may change the
number of columns (the spec's input shape must then match what comes out);
``get_state()`` returns plain data (numbers, lists, numpy arrays) that the run
directory stores as JSON plus an ``.npz`` read without pickle, and
``set_state(state)`` restores it, so a trained run predicts without refitting.

scikit-learn does the fitting; the fitted numbers are copied out of it, so the
state never holds a scikit-learn object and ``transform`` is plain numpy.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from specforge.plugin import DataError, Params, Preprocessor, PreprocessorType


def _ready(pre: Preprocessor, x: Any) -> tuple[dict[str, Any], Any]:
    """The fitted state and ``x`` as float64, after checking ``x`` has the fitted width."""
    import numpy as np

    state = pre.fitted_state()
    x = np.asarray(x, dtype=np.float64)
    width = int(state["n_features_in"])
    if x.ndim != 2 or x.shape[1] != width:
        raise DataError(
            f"{pre.type_name} was fitted on {width} feature(s) but got data of shape {x.shape}",
            help="the data must have the same columns as the data the run was trained on",
        )
    return state, x


# ---------------------------------------------------------------- pca


class PcaParams(Params):
    n_components: int = Field(
        2, ge=1, le=100_000, description="Number of principal components kept."
    )
    whiten: bool = Field(False, description="Scale each component to unit variance.")


class Pca(Preprocessor):
    """Projection on the first principal components (scikit-learn's PCA, full SVD)."""

    type_name = "pca"
    params: PcaParams

    def fit(self, x: Any) -> None:
        import numpy as np
        from sklearn.decomposition import PCA

        x = np.asarray(x, dtype=np.float64)
        limit = min(x.shape)
        if self.params.n_components > limit:
            raise DataError(
                f"pca: n_components is {self.params.n_components} but the training data has "
                f"{x.shape[0]} samples of {x.shape[1]} features (at most {limit} components)",
                help=f"use n_components: {limit} or fewer",
            )
        pca = PCA(
            n_components=self.params.n_components, whiten=self.params.whiten, svd_solver="full"
        ).fit(x)
        self.state = {
            "n_features_in": int(x.shape[1]),
            "mean": pca.mean_.copy(),
            "components": pca.components_.copy(),
            "explained_variance": pca.explained_variance_.copy(),
            "explained_variance_ratio": pca.explained_variance_ratio_.copy(),
        }

    def transform(self, x: Any) -> Any:
        import numpy as np

        state, x = _ready(self, x)
        out = (x - state["mean"]) @ np.asarray(state["components"]).T
        if self.params.whiten:
            out /= np.sqrt(state["explained_variance"])
        return out.astype(np.float32)


# ---------------------------------------------------------------- polynomial_features


class PolynomialParams(Params):
    degree: int = Field(2, ge=1, le=5, description="Highest total degree of the products.")
    interaction_only: bool = Field(
        False, description="Only products of distinct features (no x0², ...)."
    )
    include_bias: bool = Field(
        False, description="Add a column of ones (a Dense layer has its own bias)."
    )


class PolynomialFeatures(Preprocessor):
    """Every product of features up to ``degree`` (scikit-learn's PolynomialFeatures order)."""

    type_name = "polynomial_features"
    params: PolynomialParams
    #: Refuse to make more columns than this (degree 5 on 100 features is 96 million).
    MAX_OUTPUT = 100_000

    def fit(self, x: Any) -> None:
        import numpy as np
        from sklearn.preprocessing import PolynomialFeatures as Sk

        x = np.asarray(x, dtype=np.float64)
        sk = Sk(
            degree=self.params.degree,
            interaction_only=self.params.interaction_only,
            include_bias=self.params.include_bias,
        )
        sk.fit(x[:1])
        if sk.n_output_features_ > self.MAX_OUTPUT:
            raise DataError(
                f"polynomial_features of degree {self.params.degree} on {x.shape[1]} features makes "
                f"{sk.n_output_features_:,} columns (at most {self.MAX_OUTPUT:,})",
                help="lower the degree, set interaction_only, or reduce the features first (pca)",
            )
        self.state = {"n_features_in": int(x.shape[1]), "powers": sk.powers_.astype(np.int64)}

    def transform(self, x: Any) -> Any:
        import numpy as np

        state, x = _ready(self, x)
        powers = np.asarray(state["powers"])
        out = np.ones((x.shape[0], powers.shape[0]))
        for j, row in enumerate(powers):
            for k in np.flatnonzero(row):
                out[:, j] *= x[:, k] ** row[k]
        return out.astype(np.float32)


PREPROCESSORS = [
    PreprocessorType(
        "pca",
        PcaParams,
        Pca,
        "projection on the first principal components (fitted on the training split)",
    ),
    PreprocessorType(
        "polynomial_features",
        PolynomialParams,
        PolynomialFeatures,
        "products of the features up to a degree (x0, x1 → x0, x1, x0², x0·x1, x1²)",
    ),
]
