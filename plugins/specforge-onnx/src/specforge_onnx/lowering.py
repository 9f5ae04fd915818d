"""Lowering a resolved Graph to an ONNX graph.

The lowering contract of the ``onnx`` backend, for this package and for any
plugin that wants its node types exported to ONNX::

    @hookimpl
    def register_lowerings(register):
        register("onnx", "node", "MyNode", lower_my_node)          # (ctx, node, inputs) -> value name
        register("onnx", "activation", "my_act", lower_my_act)      # (ctx, x) -> value name

As on every backend, a node lowering receives the lowering context first: on
ONNX it is an :class:`OnnxBuilder` (a :class:`specforge.plugin.LoweringContext`
holding the registry in use), then the :class:`specforge.ir.GraphNode` and
the names of the ONNX values holding its inputs (in the node's input order). It
adds ONNX nodes with :meth:`OnnxBuilder.op` and returns the name of the value
holding the node's output. Weights come from :meth:`OnnxBuilder.weight`:
``weight(i)`` is the node's i-th weight in Keras's order (Dense: kernel, then
bias), stored as an initializer; ``ctx.activation(name, x)`` applies an
activation through its ONNX lowering. Nothing here imports onnx at module level,
so registering the lowerings costs nothing when the backend is not used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from specforge.plugin import BackendError, LoweringContext

#: ONNX operator set the exported models use (Softmax/LogSoftmax on one axis need >= 13).
OPSET = 17
#: IR version written into the model: the one that goes with OPSET, so that older
#: onnxruntime releases open the files too.
IR_VERSION = 8
BACKEND = "onnx"


class OnnxBuilder(LoweringContext):
    """The ONNX backend's lowering context: collects the nodes and initializers of one model."""

    label = "onnx"

    def __init__(self, registry: Any, weights: Mapping[str, Sequence[Any]]):
        super().__init__(registry, BACKEND)
        self.weights = weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._taken: set[str] = set()
        self._counter = 0
        #: The spec node being lowered (set by :func:`lower_graph`).
        self.node: Any = None

    # -- names -----------------------------------------------------------
    def reserve(self, name: str) -> str:
        self._taken.add(name)
        return name

    def fresh(self, hint: str) -> str:
        """A value name not used yet, prefixed with the current node's name."""
        prefix = f"{self.node.name}/" if self.node is not None else ""
        while True:
            self._counter += 1
            name = f"{prefix}{hint}_{self._counter}"
            if name not in self._taken:
                return self.reserve(name)

    # -- graph pieces ----------------------------------------------------
    def op(
        self, op_type: str, inputs: Sequence[str], *, outputs: int = 1, **attributes: Any
    ) -> Any:
        """Add one ONNX node; return its output name (a list of names when ``outputs > 1``)."""
        from onnx import helper

        out_names = [self.fresh(op_type) for _ in range(outputs)]
        self.nodes.append(
            helper.make_node(
                op_type, list(inputs), out_names, name=self.fresh(f"{op_type}_node"), **attributes
            )
        )
        return out_names[0] if outputs == 1 else out_names

    def const(self, value: Any, *, dtype: Any = "float32", hint: str = "const") -> str:
        """Add a constant tensor (an initializer) and return its name."""
        import numpy as np
        from onnx import numpy_helper

        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name=name))
        return name

    def weight(self, index: int) -> str:
        """The current node's ``index``-th weight (Keras's order), as an initializer."""
        import numpy as np
        from onnx import numpy_helper

        node = self.node
        arrays = self.weights.get(node.name)
        if arrays is None or index >= len(arrays):
            have = 0 if arrays is None else len(arrays)
            raise BackendError(
                f"node '{node.name}' ({node.type}) needs weight #{index} but the model has {have}",
                help="the weights do not belong to this spec: build or train the spec again",
            )
        name = self.reserve(weight_name(node.name, index))
        self.initializers.append(
            numpy_helper.from_array(np.asarray(arrays[index], dtype=np.float32), name=name)
        )
        return name

    def activation(self, name: str, x: str) -> str:
        """Apply the activation called ``name`` (a canonical registry name) to value ``x``."""
        lower = self.find("activation", name)
        if lower is None:
            raise BackendError(
                f"the onnx backend cannot export activation '{name}' (node '{self.node.name}')",
                help="use another activation, or install a plugin that registers an onnx lowering for it",
            )
        return lower(self, x)

    def rename_output(self, value: str, name: str, protected: set[str]) -> str:
        """Make the value ``value`` appear under ``name`` (renaming or adding an Identity)."""
        if value == name:
            return name
        producers = [n for n in self.nodes if value in n.output]
        if value in protected or not producers:
            from onnx import helper

            self.nodes.append(
                helper.make_node("Identity", [value], [name], name=self.fresh("Identity_node"))
            )
        else:
            for n in self.nodes:
                for i, v in enumerate(n.input):
                    if v == value:
                        n.input[i] = name
                for i, v in enumerate(n.output):
                    if v == value:
                        n.output[i] = name
        return self.reserve(name)


def weight_name(node: str, index: int) -> str:
    """The initializer name of a node's weight: how a saved .onnx maps back to weights."""
    return f"{node}:w{index}"


def _elem_type(dtype: str) -> int:
    import numpy as np
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def lower_graph(graph: Any, weights: Mapping[str, Sequence[Any]], registry: Any) -> Any:
    """The ONNX ModelProto computing ``graph``'s outputs from its inputs with ``weights``."""
    from onnx import TensorProto, helper

    b = OnnxBuilder(registry, weights)
    values: dict[str, str] = {}
    inputs = []
    for i in graph.inputs:
        values[i.name] = b.reserve(i.name)
        inputs.append(helper.make_tensor_value_info(i.name, _elem_type(i.dtype), ["N", *i.shape]))
    for n in graph.nodes:
        b.reserve(n.name)
    protected = {i.name for i in graph.inputs}
    for n in graph.nodes:
        lower = b.find("node", n.type)
        if lower is None:
            owner = registry.owner.get(("node_type", n.type), "?")
            raise BackendError(
                f"the onnx backend cannot export node '{n.name}': no onnx lowering for node type "
                f"'{n.type}' (from plugin '{owner}')",
                help="the plugin providing the node type has to register an onnx lowering for it "
                "(see docs/plugins.md); `specforge plugins` lists the lowerings installed",
            )
        b.node = n
        result = lower(b, n, [values[name] for name in n.inputs])
        values[n.name] = b.rename_output(result, n.name, protected | set(values.values()))
        b.node = None
    outputs = [
        helper.make_tensor_value_info(o.node, TensorProto.FLOAT, ["N", *graph.shape_of(o.node)])
        for o in graph.outputs
    ]
    onnx_graph = helper.make_graph(b.nodes, graph.name, inputs, outputs, initializer=b.initializers)
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="specforge-onnx",
    )
    model.ir_version = IR_VERSION
    return model


# ---------------------------------------------------------------- node lowerings


def _dense(b: OnnxBuilder, node: Any, inputs: list[str]) -> str:
    (x,) = inputs
    rank = len(node.input_shapes[0]) + 1
    kernel = b.weight(0)
    if rank == 2 and node.param("use_bias"):
        y = b.op("Gemm", [x, kernel, b.weight(1)])
    else:
        y = b.op("MatMul", [x, kernel])
        if node.param("use_bias"):
            y = b.op("Add", [y, b.weight(1)])
    return b.activation(node.param("activation"), y)


def _flatten(b: OnnxBuilder, node: Any, inputs: list[str]) -> str:
    (x,) = inputs
    if len(node.input_shapes[0]) == 1:
        return x
    return b.op("Flatten", [x], axis=1)


def _concatenate(b: OnnxBuilder, node: Any, inputs: list[str]) -> str:
    # Keras counts axes with the batch axis as 0, like ONNX: the number carries over.
    return b.op("Concat", inputs, axis=int(node.param("axis")))


NODE_LOWERINGS: dict[str, Callable[..., str]] = {
    "Dense": _dense,
    "Flatten": _flatten,
    "Concatenate": _concatenate,
}


# ---------------------------------------------------------------- activations


def _unary(op_type: str, **attributes: Any) -> Callable[[OnnxBuilder, str], str]:
    def lower(b: OnnxBuilder, x: str) -> str:
        return b.op(op_type, [x], **attributes)

    return lower


def _times(inner: Callable[[OnnxBuilder, str], str]) -> Callable[[OnnxBuilder, str], str]:
    """x * inner(x) (swish, mish)."""

    def lower(b: OnnxBuilder, x: str) -> str:
        return b.op("Mul", [x, inner(b, x)])

    return lower


def _relu6(b: OnnxBuilder, x: str) -> str:
    return b.op("Clip", [x, b.const(0.0, hint="zero"), b.const(6.0, hint="six")])


def _gelu(b: OnnxBuilder, x: str) -> str:
    # 0.5 * x * (1 + erf(x / sqrt(2))): Keras's exact (approximate=False) form.
    scaled = b.op("Mul", [x, b.const(1.0 / math.sqrt(2.0), hint="inv_sqrt2")])
    one_plus = b.op("Add", [b.op("Erf", [scaled]), b.const(1.0, hint="one")])
    return b.op("Mul", [b.op("Mul", [x, one_plus]), b.const(0.5, hint="half")])


def _heaviside(b: OnnxBuilder, x: str) -> str:
    from onnx import TensorProto

    return b.op(
        "Cast", [b.op("GreaterOrEqual", [x, b.const(0.0, hint="zero")])], to=TensorProto.FLOAT
    )


def _mish(b: OnnxBuilder, x: str) -> str:
    return b.op("Mul", [x, b.op("Tanh", [b.op("Softplus", [x])])])


ACTIVATION_LOWERINGS: dict[str, Callable[[OnnxBuilder, str], str]] = {
    "linear": lambda b, x: x,
    "relu": _unary("Relu"),
    "sigmoid": _unary("Sigmoid"),
    "tanh": _unary("Tanh"),
    "softmax": _unary("Softmax", axis=-1),
    "log_softmax": _unary("LogSoftmax", axis=-1),
    "elu": _unary("Elu", alpha=1.0),
    # ONNX's Selu defaults are the same constants as Keras's (Klambauer et al.).
    "selu": _unary("Selu"),
    "softplus": _unary("Softplus"),
    "softsign": _unary("Softsign"),
    "silu": _times(_unary("Sigmoid")),
    "gelu": _gelu,
    "exponential": _unary("Exp"),
    # Keras 3: relu6(x + 3) / 6 == clip(x / 6 + 0.5, 0, 1).
    "hard_sigmoid": _unary("HardSigmoid", alpha=1.0 / 6.0, beta=0.5),
    "leaky_relu": _unary("LeakyRelu", alpha=0.2),
    "relu6": _relu6,
    "mish": _mish,
    "heaviside": _heaviside,
}
