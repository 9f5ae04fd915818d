"""The ``onnx`` backend: export a spec to ONNX and run inference with onnxruntime.

Inference only: ``fit`` raises :class:`specforge.plugin.BackendError`. Initial
weights come from the NumPy reference backend (same seed, same initializers);
trained weights come from any other backend's saved model (``load`` reads a
``.npz`` of the NumPy backend or a ``.keras`` file through the backend that
wrote it), so an exported model computes what the trained one computes.

onnx and onnxruntime are imported inside the methods: ``specforge validate``
never pays for them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from specforge.plugin import Backend, BackendError, LoweringContext, atomic_write_bytes

from .lowering import lower_graph, weight_name


@dataclass
class OnnxModel:
    """A graph with its weights; the ONNX model and the onnxruntime session are made on demand."""

    graph: Any
    weights: dict[str, list[Any]]
    registry: Any
    _proto: Any = field(default=None, repr=False)
    _session: Any = field(default=None, repr=False)

    def count_params(self) -> int:
        """Number of weights (trainable or not), like ``keras.Model.count_params``."""
        return sum(int(a.size) for arrays in self.weights.values() for a in arrays)

    def proto(self) -> Any:
        """The ``onnx.ModelProto`` (checked with ``onnx.checker``)."""
        if self._proto is None:
            import onnx

            from specforge import __version__

            proto = lower_graph(self.graph, self.weights, self.registry)
            meta = {
                "specforge.version": __version__,
                "specforge.spec_name": self.graph.name,
                "specforge.spec": json.dumps(self.graph.to_spec(), default=str),
            }
            for key, value in meta.items():
                entry = proto.metadata_props.add()
                entry.key, entry.value = key, value
            onnx.checker.check_model(proto)
            self._proto = proto
        return self._proto

    def session(self) -> Any:
        if self._session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.log_severity_level = 3  # errors only: no optimizer chatter on stderr
            self._session = ort.InferenceSession(
                self.proto().SerializeToString(), options, providers=["CPUExecutionProvider"]
            )
        return self._session


def _require() -> None:
    missing = []
    for module in ("onnx", "onnxruntime"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise BackendError(
            f"the onnx backend needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed",
            help="pip install onnx onnxruntime  (or reinstall specforge-onnx)",
        )


class OnnxBackend(Backend):
    name = "onnx"
    label = "onnx"
    description = "ONNX export (opset 17) with onnxruntime inference; no training"
    file_suffix = ".onnx"
    requires = ("onnx", "onnxruntime")
    can_train = False
    #: Inference only: the spec's nodes and activations must export; its losses and
    #: metrics are evaluated with the numpy backend's lowerings, its initial weights
    #: drawn by that backend.
    lowering_kinds = ("node", "activation")

    def build(self, graph: Any, *, seed: int | None = None, registry: Any) -> OnnxModel:
        """The graph with freshly initialised weights: the NumPy backend's, for the same seed."""
        _require()
        reg = registry
        numpy_backend = reg.backends.get("numpy")
        if numpy_backend is None:
            raise BackendError(
                "the onnx backend takes its initial weights from the numpy backend, which is not available",
                help="`specforge plugins` lists the backends installed",
            )
        reference = numpy_backend.build(graph, seed=seed, registry=reg)
        model = OnnxModel(graph, _copy(numpy_backend.get_weights(reference)), reg)
        model.proto()  # fail now, with a clear message, if a node cannot be exported
        return model

    def get_weights(self, model: OnnxModel) -> dict[str, list[Any]]:
        return _copy(model.weights)

    def set_weights(self, model: OnnxModel, weights: Mapping[str, Sequence[Any]]) -> None:
        import numpy as np

        expected = {name: [w.shape for w in arrays] for name, arrays in model.weights.items()}
        for name, arrays in weights.items():
            if name not in expected:
                raise BackendError(
                    f"weights given for '{name}', which is not a node with weights of this spec"
                )
            shapes = [np.shape(a) for a in arrays]
            if shapes != expected[name]:
                raise BackendError(
                    f"node '{name}': weights of shapes {shapes} do not fit, expected {expected[name]}",
                    help="the weights come from another spec",
                )
        model.weights = {**model.weights, **_copy(weights)}
        model._proto = model._session = None

    # -- files -----------------------------------------------------------
    def save(self, model: OnnxModel, path: str) -> None:
        """Write the ONNX model (weights embedded) atomically."""
        atomic_write_bytes(path, model.proto().SerializeToString())

    def load(self, path: str, graph: Any, *, registry: Any) -> OnnxModel:
        """Read weights for ``graph`` from a file.

        An ``.onnx`` file written by :meth:`save` is read directly (protobuf
        only: nothing is executed, external data files are refused). Any other
        file goes to the backend whose ``file_suffix`` it has (``.npz`` → numpy,
        ``.keras`` → keras), and its weights are taken over: this is how a
        trained run becomes an ONNX model.
        """
        _require()
        reg = registry
        suffix = os.path.splitext(str(path))[1].lower()
        if not os.path.isfile(path):
            raise BackendError(f"{path}: no such file")
        if suffix != ".onnx":
            owner = next(
                (
                    b
                    for b in reg.backends.values()
                    if b.file_suffix == suffix and b.name != self.name
                ),
                None,
            )
            if owner is None:
                known = sorted(b.file_suffix for b in reg.backends.values() if b.file_suffix)
                raise BackendError(
                    f"{path}: cannot read weights from a '{suffix}' file",
                    help=f"give a file one of the backends writes ({', '.join(known)})",
                )
            source = owner.load(str(path), graph, registry=reg)
            model = OnnxModel(graph, _copy(owner.get_weights(source)), reg)
            model.proto()
            return model
        import onnx
        from onnx import numpy_helper

        try:
            proto = onnx.load_model(str(path), load_external_data=False)
        except Exception as exc:  # protobuf raises DecodeError and friends
            raise BackendError(f"{path} is not a readable ONNX model: {exc}") from None
        init = {t.name: t for t in proto.graph.initializer}
        if any(t.data_location == onnx.TensorProto.EXTERNAL for t in init.values()):
            raise BackendError(
                f"{path} keeps weights in external files, which specforge does not read"
            )
        names_in = [i.name for i in proto.graph.input if i.name not in init]
        names_out = [o.name for o in proto.graph.output]
        want_in = [i.name for i in graph.inputs]
        want_out = [o.node for o in graph.outputs]
        if names_in != want_in or names_out != want_out:
            raise BackendError(
                f"{path} does not belong to spec '{graph.name}': it has inputs {names_in} and outputs "
                f"{names_out}, the spec has inputs {want_in} and outputs {want_out}",
                help="export the spec again with `specforge build SPEC --backend onnx`",
            )
        weights: dict[str, list[Any]] = {}
        for node in graph.nodes:
            arrays = []
            while weight_name(node.name, len(arrays)) in init:
                arrays.append(
                    numpy_helper.to_array(init[weight_name(node.name, len(arrays))]).copy()
                )
            if arrays:
                weights[node.name] = arrays
        expected = self._shapes(graph, reg)
        got = {name: [tuple(a.shape) for a in arrays] for name, arrays in weights.items()}
        if got != expected:
            wrong = sorted(n for n in set(got) | set(expected) if got.get(n) != expected.get(n))
            raise BackendError(
                f"{path} does not belong to spec '{graph.name}': the weights of "
                f"{', '.join(repr(n) for n in wrong)} do not fit its nodes",
                help="export the spec again with `specforge build SPEC --backend onnx`",
            )
        model = OnnxModel(graph, weights, reg)
        model._proto = proto
        return model

    @staticmethod
    def _shapes(graph: Any, reg: Any) -> dict[str, list[tuple[int, ...]]]:
        """The weight shapes the spec's nodes have (what the NumPy backend builds)."""
        reference = reg.backends["numpy"]
        arrays = reference.get_weights(reference.build(graph, seed=0, registry=reg))
        return {name: [tuple(a.shape) for a in ws] for name, ws in arrays.items() if ws}

    # -- running ---------------------------------------------------------
    def predict(
        self, model: OnnxModel, x: Mapping[str, Any], *, batch_size: int = 32
    ) -> dict[str, Any]:
        import numpy as np

        session = model.session()
        feeds = {}
        for i in model.graph.inputs:
            if i.name not in x:
                raise BackendError(f"no data for input '{i.name}'")
            feeds[i.name] = np.asarray(x[i.name], dtype=i.dtype)
        names = [o.node for o in model.graph.outputs]
        results = session.run(names, feeds)
        return dict(zip(names, results, strict=True))

    def evaluate(
        self, model: OnnxModel, x: Mapping[str, Any], y: Mapping[str, Any], *, batch_size: int = 32
    ) -> dict[str, float]:
        """Loss and metrics under Keras's key names, computed by the numpy backend's lowerings.

        They come from the model's registry, so a plugin's loss or metric with a
        NumPy lowering is evaluated on ONNX too.
        """
        import numpy as np

        numpy_names = LoweringContext(model.registry, "numpy")
        pred = self.predict(model, x, batch_size=batch_size)
        outputs = model.graph.outputs
        several = len(outputs) > 1
        result: dict[str, float] = {}
        total = 0.0
        for o in outputs:
            loss = numpy_names.lowering("loss", o.loss)
            value = float(np.mean(loss.value(y[o.node], pred[o.node])))
            total += o.weight * value
            if several:
                result[f"{o.node}_loss"] = value
            for metric in o.metrics:
                impl = numpy_names.lowering("metric", metric)
                figure = float(impl(y[o.node], pred[o.node]))
                finish = getattr(impl, "result", None)
                figure = float(finish(figure)) if finish is not None else figure
                result[f"{o.node}_{metric}" if several else metric] = figure
        return {"loss": total, **result}

    def fit(self, model: Any, x: Any, y: Any, **kwargs: Any) -> dict[str, list[float]]:
        raise BackendError(
            "the onnx backend cannot train: it exports models for inference",
            help="train with another backend (--backend numpy or keras), then export the run's model "
            "file with the onnx backend's load() (see specforge-onnx's README, 'Trained weights')",
        )


def _copy(weights: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    import numpy as np

    return {
        name: [np.array(a, dtype=np.float32, copy=True) for a in arrays]
        for name, arrays in weights.items()
    }
