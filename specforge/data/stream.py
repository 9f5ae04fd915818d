"""Data larger than memory: a file read in chunks, split by row hash, preprocessors fitted in one pass.

``data.dataset: {type: csv, stream: true}`` (and ``npz``, :mod:`specforge.data.npz_stream`)
never holds the table in memory:

* rows are read in chunks of ``chunk_rows`` (a CSV by pandas' C parser, float32);
* a row's split is a function of its 0-based index and the split seed alone
  (SplitMix64 of the index, compared with the test and validation fractions),
  so every pass, every worker and ``specforge evaluate`` agree without an index
  table;
* standard and min-max scalers are fitted in one pass by running moments
  (Chan et al.'s pairwise merge of per-chunk mean and M2, float64), one-hot
  targets by the classes seen;
* training reads fixed-size batches assembled across chunk boundaries;
  ``shuffle`` permutes rows within each chunk (seeded per epoch), not globally.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .dataset import DataError

SPLIT_CODES = {"train": 0, "validation": 1, "test": 2}
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = z + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def split_codes(rows: np.ndarray, test: float, validation: float, seed: int) -> np.ndarray:
    """0 train, 1 validation, 2 test for each 0-based row index (a pure function of it)."""
    h = _splitmix64(rows.astype(np.uint64) ^ _splitmix64(np.asarray([seed], dtype=np.uint64)))
    u = (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return np.where(u < test, 2, np.where(u < test + validation, 1, 0)).astype(np.int8)


class RunningMoments:
    """Count, mean, M2, min and max per column, merged chunk by chunk (Chan et al. 1979)."""

    def __init__(self) -> None:
        self.n = 0
        self.mean: np.ndarray | None = None
        self.m2: np.ndarray | None = None
        self.min: np.ndarray | None = None
        self.max: np.ndarray | None = None

    def update(self, x: np.ndarray) -> None:
        if not len(x):
            return
        x = np.asarray(x, dtype=np.float64)
        nb, mb = len(x), x.mean(axis=0)
        m2b = ((x - mb) ** 2).sum(axis=0)
        if self.n == 0:
            self.n, self.mean, self.m2 = nb, mb, m2b
            self.min, self.max = x.min(axis=0), x.max(axis=0)
            return
        assert self.mean is not None and self.m2 is not None
        n = self.n + nb
        delta = mb - self.mean
        self.mean = self.mean + delta * (nb / n)
        self.m2 = self.m2 + m2b + delta**2 * (self.n * nb / n)
        self.n = n
        self.min = np.minimum(self.min, x.min(axis=0))
        self.max = np.maximum(self.max, x.max(axis=0))

    @property
    def var(self) -> np.ndarray:
        assert self.m2 is not None
        return self.m2 / max(self.n, 1)


class RowStream:
    """Rows of a file read chunk by chunk; what splits and batches them is shared.

    A subclass reads its file: :meth:`rows` yields (x, y) float32 chunks of every
    row in file order (x one flat row per sample), :meth:`own_test` the data set's
    own test split if it has one. It has ``path``, ``test``, ``validation``,
    ``seed`` and ``chunk_rows`` attributes.
    """

    path: str
    test: float
    validation: float
    seed: int
    chunk_rows: int

    @property
    def n_features(self) -> int:  # pragma: no cover - every subclass sets it
        raise NotImplementedError

    def rows(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:  # pragma: no cover
        raise NotImplementedError

    def own_test(self) -> Iterator[tuple[np.ndarray, np.ndarray]] | None:
        """The data set's own test rows in chunks, or None (the test split is hashed)."""
        return None

    def own_test_rows(self) -> int:
        """Rows of the data set's own test split (0 without one)."""
        return 0

    @property
    def hashed_test(self) -> float:
        """The test fraction split off by row hash (0 when the file has its own test split)."""
        return 0.0 if self.own_test_rows() else self.test

    def chunks(self, split: str | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(x float32 (n, features), y float32 (n, targets)) per chunk, rows of ``split`` only."""
        own = self.own_test() if split == "test" else None
        if own is not None:
            yield from own
            return
        start = 0
        for x, y in self.rows():
            rows = np.arange(start, start + len(x))
            start += len(x)
            if split is not None:
                codes = split_codes(rows, self.hashed_test, self.validation, self.seed)
                keep = codes == SPLIT_CODES[split]
                x, y = x[keep], y[keep]
            yield x, y

    def batches(
        self,
        split: str,
        batch_size: int,
        transform: Any = None,
        *,
        shuffle_seed: int | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Batches of ``batch_size`` rows (the last may be short), across chunk boundaries.

        ``transform(x, y) -> (x, y)`` applies the fitted preprocessors per chunk;
        ``shuffle_seed`` permutes rows within each chunk.
        """
        rng = np.random.default_rng(shuffle_seed) if shuffle_seed is not None else None
        carry_x: list[np.ndarray] = []
        carry_y: list[np.ndarray] = []
        held = 0
        for x, y in self.chunks(split):
            if transform is not None:
                x, y = transform(x, y)
            if rng is not None:
                order = rng.permutation(len(x))
                x, y = x[order], y[order]
            carry_x.append(x)
            carry_y.append(y)
            held += len(x)
            if held < batch_size:
                continue
            bx, by = np.concatenate(carry_x), np.concatenate(carry_y)
            full = (len(bx) // batch_size) * batch_size
            for i in range(0, full, batch_size):
                yield bx[i : i + batch_size], by[i : i + batch_size]
            carry_x, carry_y, held = [bx[full:]], [by[full:]], len(bx) - full
        if held:
            yield np.concatenate(carry_x), np.concatenate(carry_y)


@dataclass
class CsvStream(RowStream):
    """A CSV file read chunk by chunk: features and targets of the rows of one split."""

    path: str
    features: list[int]
    targets: list[int]
    delimiter: str = ","
    header: bool = True
    test: float = 0.0
    validation: float = 0.0
    seed: int = 0
    chunk_rows: int = 65_536

    @property
    def n_features(self) -> int:
        return len(self.features)

    def rows(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every row, in file order, chunk by chunk (pandas' C parser, float32)."""
        import pandas as pd

        cols = sorted(set(self.features) | set(self.targets))
        where = {c: i for i, c in enumerate(cols)}
        fi = [where[c] for c in self.features]
        ti = [where[c] for c in self.targets]
        start = 0
        try:
            reader = pd.read_csv(
                self.path,
                sep=self.delimiter,
                header=0 if self.header else None,
                usecols=cols,
                dtype=np.float32,
                chunksize=self.chunk_rows,
                engine="c",
            )
            for frame in reader:
                block = frame.to_numpy(dtype=np.float32, copy=False)
                if not np.isfinite(block).all():
                    bad = int(np.argmax(~np.isfinite(block).all(axis=1)))
                    raise DataError(
                        f"{self.path}: the row on line {start + bad + 1 + self.header} "
                        "holds an empty or non-finite value",
                        help="streamed CSVs need complete numeric rows (missing: error)",
                    )
                start += len(block)
                yield block[:, fi], block[:, ti]
        except (ValueError, OSError) as e:
            raise DataError(f"cannot stream {self.path}: {e}") from None


def fit_streaming(steps: Sequence[tuple[Any, Any]], stream: RowStream) -> dict[str, int]:
    """Fit feature scalers and target one-hot in one pass over the training rows.

    Returns the rows per split (counted in the same pass). Preprocessors other
    than standard_scaler, minmax_scaler, scale and one_hot need the data in
    memory and are refused.
    """
    from ..default_plugins.preprocessors import _tiny_to_one

    supported = {"standard_scaler", "minmax_scaler", "scale", "one_hot"}
    for step, _ in steps:
        if step.type not in supported:
            raise DataError(
                f"preprocessor '{step.type}' cannot be fitted on a streamed dataset",
                help="streaming fits " + ", ".join(sorted(supported)) + "; or drop stream: true",
            )
    feature_steps = [(s, o) for s, o in steps if s.applies_to == "features"]
    if len([s for s, _ in feature_steps if s.type != "scale"]) > 1:
        raise DataError(
            "a streamed dataset fits at most one feature scaler",
            help="keep one of standard_scaler / minmax_scaler",
        )
    moments = RunningMoments()
    classes: set[int] = set()
    sizes = dict.fromkeys(SPLIT_CODES, 0)
    import pandas as pd  # noqa: F401  (fail early, before the pass)

    for x, y in _all_with_codes(stream, sizes):
        moments.update(x)
        classes.update(np.unique(y).astype(np.int64).tolist() if y.size else [])
    if moments.n == 0:
        raise DataError(f"{stream.path}: the training split of the streamed file is empty")
    for step, obj in steps:
        p = step.params
        if step.type == "standard_scaler":
            mean = moments.mean if p.with_mean else np.zeros_like(moments.mean)
            scale = _tiny_to_one(np.sqrt(moments.var)) if p.with_std else np.ones_like(mean)
            obj.state = {"mean": mean, "scale": scale}
        elif step.type == "minmax_scaler":
            low, high = p.feature_range
            scale = (high - low) / _tiny_to_one(moments.max - moments.min)
            obj.state = {"scale": scale, "min": low - moments.min * scale}
        elif step.type == "one_hot":
            k = p.num_classes or (max(classes) + 1 if classes else 1)
            obj.state = {"num_classes": int(k)}
        else:
            obj.fit(np.zeros((1, stream.n_features), np.float32))
    return sizes


def _all_with_codes(stream: RowStream, sizes: dict[str, int]) -> Iterator[tuple[np.ndarray, Any]]:
    """The training rows of every chunk, counting every split on the way."""
    start = 0
    for x, y in stream.rows():
        rows = np.arange(start, start + len(x))
        start += len(x)
        codes = split_codes(rows, stream.hashed_test, stream.validation, stream.seed)
        for name, code in SPLIT_CODES.items():
            sizes[name] += int((codes == code).sum())
        train = codes == 0
        yield x[train], y[train]
    sizes["test"] += stream.own_test_rows()


def transformer(steps: Sequence[tuple[Any, Any]]) -> Any:
    """``(x, y) -> (x, y)`` applying fitted preprocessors in order."""

    def apply(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        for step, obj in steps:
            if step.applies_to == "features":
                x = np.asarray(obj.transform(x), dtype=np.float32)
            else:
                y = np.asarray(obj.transform(y))
        return x, y

    return apply


__all__ = [
    "CsvStream",
    "RowStream",
    "RunningMoments",
    "fit_streaming",
    "split_codes",
    "transformer",
]
