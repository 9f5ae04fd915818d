"""Decompile a saved Keras model (``.keras``) into a spec.

Safety first: the archive's ``config.json`` is read as plain JSON and every
layer's class is screened (a Keras built-in with an ``import`` rule, or an
input) before Keras deserializes anything, and then only in safe mode. A
Lambda layer, a custom class or a nested model is reported, never loaded.

Fidelity second: each node an import rule produces is lowered again with the
Keras backend, and the rebuilt layer's Keras config is compared with the
original's. A setting no rule translated (a regularizer, a frozen layer, a
dtype policy) is reported, not silently dropped, so an imported spec builds
the same model. Every problem is collected and reported at once.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..lowering import Unsupported
from ..plugin import BackendError
from ..registry import Registry, get_registry
from ..relay import framework_message
from ..spec.models import DTYPES, FORMAT_VERSION, NAME_PATTERN
from .context import KerasContext
from .deep import run_deep
from .env import BACKEND, import_keras
from .screen import read_config, screen

#: The model classes a spec can describe.
MODEL_CLASSES = ("Sequential", "Functional", "Model")
#: Keras's compile() default optimizer, used when a model was saved uncompiled.
DEFAULT_OPTIMIZER = "rmsprop"


class DecompileError(Exception):
    """The model cannot become a spec; ``problems`` lists every reason (exit 1)."""

    def __init__(self, path: str, problems: Sequence[str]):
        self.path, self.problems = path, list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        n = len(self.problems)
        super().__init__(f"{path}: cannot import the model ({n} problem{'s' * (n != 1)}):\n{lines}")


@dataclass
class Decompiled:
    """An imported model: its spec (plain data), and notes worth telling the user."""

    spec: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    total_params: int = 0

    def to_yaml(self) -> str:
        return spec_to_yaml(self.spec)

    def to_json(self) -> str:
        return json.dumps(self.spec, indent=2) + "\n"


# ---------------------------------------------------------------- the archive


def _is_tensor(obj: Any) -> bool:
    return isinstance(obj, Mapping) and obj.get("class_name") == "__keras_tensor__"


def _tensors(obj: Any) -> Iterator[Mapping[str, Any]]:
    """The Keras tensors in a (nested) call argument, in order."""
    if _is_tensor(obj):
        yield obj
    elif isinstance(obj, Mapping):
        for value in obj.values():
            yield from _tensors(value)
    elif isinstance(obj, list | tuple):
        for value in obj:
            yield from _tensors(value)


def _leaves(structure: Any) -> list[tuple[str | None, list[Any]]]:
    """(key, [layer, node, tensor]) for each input/output of a functional config."""
    if isinstance(structure, list) and len(structure) == 3 and isinstance(structure[0], str):
        return [(None, structure)]
    if isinstance(structure, Mapping):
        return [(str(k), v) for k, v in structure.items()]
    if isinstance(structure, list):
        out: list[tuple[str | None, list[Any]]] = []
        for item in structure:
            out.extend(_leaves(item))
        return out
    return []


# ---------------------------------------------------------------- names


_NAME_RE = re.compile(NAME_PATTERN)


def _spec_name(name: str, taken: set[str]) -> str:
    """``name`` made a valid, unused spec name."""
    out = name if _NAME_RE.match(name) else re.sub(r"[^A-Za-z0-9_.\-]", "_", name)
    if not out or not re.match(r"[A-Za-z_]", out):
        out = "_" + out
    out = out[:120]
    base, i = out, 2
    while out in taken:
        out, i = f"{base}_{i}", i + 1
    taken.add(out)
    return out


def _f32(value: Any) -> Any:
    """A float as Keras stored it (float32), written as its shortest decimal (0.01, not 0.0099999)."""
    if isinstance(value, float) and math.isfinite(value):
        import numpy as np

        return float(str(np.float32(value)))
    return value


def _normalise(value: Any) -> Any:
    """A Keras config comparable across two builds: JSON types, no object ids, no initializer seeds."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if k == "shared_object_id":
                continue
            out[k] = _normalise(v)
        if "class_name" in out and isinstance(out.get("config"), dict):
            out["config"].pop("seed", None)
        return out
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


# ---------------------------------------------------------------- the decompiler


@dataclass
class _Layer:
    entry: Mapping[str, Any]
    keras_name: str
    class_name: str
    inputs: list[str] = field(default_factory=list)


class _Decompiler:
    def __init__(
        self, path: str | Path, name: str | None, default_loss: str | None, registry: Registry
    ):
        self.path = str(path)
        self.name = name
        self.default_loss = default_loss
        self.reg = registry
        self.ctx = KerasContext(registry)
        self.problems: list[str] = []
        self.notes: list[str] = []

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def fail_if_problems(self) -> None:
        if self.problems:
            raise DecompileError(self.path, self.problems)

    # -- structure ---------------------------------------------------------
    def screen(
        self, top: Mapping[str, Any]
    ) -> tuple[list[_Layer], list[str], list[tuple[str, str]]]:
        """Layers, model input layer names, and (output key, layer name) pairs; problems recorded."""
        cls = top.get("class_name")
        module = str(top.get("module") or "")
        if (
            cls not in MODEL_CLASSES
            or not module.startswith("keras")
            or top.get("registered_name") not in (None, cls)
        ):
            self.problem(
                f"the file holds a {cls} ({module or 'unknown module'}), not a Sequential or functional Keras model"
            )
            self.fail_if_problems()
        config = top.get("config") or {}
        entries = config.get("layers")
        if not isinstance(entries, list) or not entries:
            self.problem("the model has no layers")
            self.fail_if_problems()
        layers: list[_Layer] = []
        for entry in entries:
            lcls = str(entry.get("class_name"))
            lconfig = entry.get("config") or {}
            lname = str(entry.get("name") or lconfig.get("name") or f"layer_{len(layers)}")
            lmodule = str(entry.get("module") or "")
            registered = entry.get("registered_name")
            where = f"layer '{lname}' ({lcls})"
            if not lmodule.startswith("keras") or (
                registered not in (None, lcls) and lcls != "InputLayer"
            ):
                self.problem(
                    f"{where}: a custom class ({registered or lmodule}), not a Keras built-in layer"
                )
            elif lcls in MODEL_CLASSES:
                self.problem(f"{where}: a nested model; flatten it into one model first")
            elif lcls != "InputLayer" and self.reg.lowering(BACKEND, "import", lcls) is None:
                self.problem(
                    f"{where}: unsupported layer type; no plugin provides an import rule for {lcls}"
                )
            layers.append(_Layer(entry, lname, lcls))

        if cls == "Sequential":
            return self._sequential(config, layers)
        return self._functional(config, layers)

    def _sequential(
        self, config: Mapping[str, Any], layers: list[_Layer]
    ) -> tuple[list[_Layer], list[str], list[tuple[str, str]]]:
        if layers[0].class_name != "InputLayer":
            shape = config.get("build_input_shape")
            if not isinstance(shape, list):
                self.problem(
                    "the Sequential model has no input shape (it was never built): build it or give it an Input"
                )
                self.fail_if_problems()
            entry = {
                "class_name": "InputLayer",
                "config": {"batch_shape": shape, "dtype": "float32", "name": "input"},
            }
            layers.insert(0, _Layer(entry, "input", "InputLayer"))
        previous = layers[0].keras_name
        for layer in layers[1:]:
            if layer.class_name == "InputLayer":
                self.problem(
                    f"layer '{layer.keras_name}': an InputLayer in the middle of a Sequential model"
                )
                continue
            layer.inputs = [previous]
            previous = layer.keras_name
        return layers, [layers[0].keras_name], [(layers[-1].keras_name, layers[-1].keras_name)]

    def _functional(
        self, config: Mapping[str, Any], layers: list[_Layer]
    ) -> tuple[list[_Layer], list[str], list[tuple[str, str]]]:
        names = {layer.keras_name for layer in layers}
        for layer in layers:
            if layer.class_name == "InputLayer":
                continue
            calls = layer.entry.get("inbound_nodes") or []
            where = f"layer '{layer.keras_name}' ({layer.class_name})"
            if len(calls) != 1:
                self.problem(
                    f"{where}: called {len(calls)} times; a shared layer has no spec equivalent"
                )
                continue
            call = calls[0]
            # Keras records the construction-time ``training`` flag (Dropout: False); the
            # model's own call overrides it, so it is not a setting of the layer.
            kwargs = {k: v for k, v in (call.get("kwargs") or {}).items() if k != "training"}
            supported = self.reg.lowering(BACKEND, "import", layer.class_name) is not None
            if supported and (
                list(_tensors(kwargs)) or any(v is not None for v in kwargs.values())
            ):
                self.problem(
                    f"{where}: called with keyword arguments {sorted(kwargs)}, which a spec cannot express"
                )
            for tensor in _tensors(call.get("args") or []):
                history = (tensor.get("config") or {}).get("keras_history") or [None, 0, 0]
                source, node_index, tensor_index = [*history, 0, 0][:3]
                if source not in names:
                    self.problem(f"{where}: reads '{source}', which is not a layer of the model")
                elif node_index or tensor_index:
                    self.problem(
                        f"{where}: reads output {tensor_index} of call {node_index} of '{source}'; only single-output layers called once are supported"
                    )
                else:
                    layer.inputs.append(str(source))
        inputs = [leaf[0] for _, leaf in _leaves(config.get("input_layers"))]
        outputs = [
            (key or str(leaf[0]), str(leaf[0]))
            for key, leaf in _leaves(config.get("output_layers"))
        ]
        if not inputs or not outputs:
            self.problem("the model config names no inputs or no outputs")
        return layers, [str(i) for i in inputs], outputs

    # -- the spec --------------------------------------------------------------
    def inputs_section(
        self, layers: dict[str, _Layer], input_names: list[str], rename: dict[str, str]
    ) -> list[dict[str, Any]]:
        out = []
        for name in input_names:
            layer = layers.get(name)
            if layer is None or layer.class_name != "InputLayer":
                self.problem(f"model input '{name}' is not an InputLayer")
                continue
            config = layer.entry.get("config") or {}
            shape = config.get("batch_shape") or config.get("batch_input_shape")
            where = f"input '{name}'"
            if not isinstance(shape, list) or len(shape) < 2:
                self.problem(f"{where}: no usable shape ({shape})")
                continue
            if shape[0] is not None:
                self.problem(
                    f"{where}: a fixed batch size ({shape[0]}); a spec's inputs have a free batch axis"
                )
            if any(d is None for d in shape[1:]):
                self.problem(
                    f"{where}: shape {tuple(shape)} has axes of unknown size; a spec needs static shapes"
                )
                continue
            for flag in ("sparse", "ragged", "optional"):
                if config.get(flag):
                    self.problem(f"{where}: a {flag} input has no spec equivalent")
            dtype = config.get("dtype", "float32")
            if isinstance(dtype, Mapping):
                dtype = (dtype.get("config") or {}).get("name", "float32")
            if dtype not in DTYPES:
                self.problem(f"{where}: dtype {dtype!r} is not one of {', '.join(DTYPES)}")
            item: dict[str, Any] = {"name": rename[name], "shape": [int(d) for d in shape[1:]]}
            if dtype != "float32":
                item["dtype"] = dtype
            out.append(item)
        return out

    def node(self, layer: _Layer, live: Any, rename: dict[str, str]) -> dict[str, Any] | None:
        rule = self.reg.lowering(BACKEND, "import", layer.class_name)
        where = f"layer '{layer.keras_name}' ({layer.class_name})"
        try:
            fields = dict(rule(self.ctx, live))
        except Unsupported as exc:
            self.problem(f"{where}: {exc}")
            return None
        except Exception as exc:
            owner = self.reg.owner.get(("lowering", f"{BACKEND}:import:{layer.class_name}"), "?")
            self.problem(
                f"{where}: the import rule of plugin '{owner}' failed: {type(exc).__name__}: {exc}"
            )
            return None
        type_name = fields.pop("type", None)
        node_type = self.reg.node_types.get(str(type_name))
        if node_type is None:
            self.problem(
                f"{where}: its import rule gave node type {type_name!r}, which is not registered"
            )
            return None
        fields.pop("name", None)
        fields.pop("inputs", None)
        # Leave out parameters at their defaults: the spec reads like a hand-written one.
        defaults = {
            k: f.default
            for k, f in node_type.params_model.model_fields.items()
            if not f.is_required()
        }
        params = {k: v for k, v in fields.items() if not (k in defaults and defaults[k] == v)}
        return {
            "name": rename[layer.keras_name],
            "type": node_type.name,
            **params,
            "inputs": [rename[i] for i in layer.inputs],
        }

    def compile_section(
        self,
        compile_config: Mapping[str, Any] | None,
        outputs: list[tuple[str, str]],
        rename: dict[str, str],
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        keys = [key for key, _ in outputs]
        cc = dict(compile_config or {})
        if not cc:
            if self.default_loss is None:
                self.problem(
                    "the model was saved without compile settings, so it carries no loss: compile it before saving, or pass --loss NAME"
                )
                loss_value: Any = None
            else:
                loss_value = self.default_loss
                self.notes.append(
                    f"the model carries no compile settings: loss '{self.default_loss}' (from --loss) and Keras's default optimizer '{DEFAULT_OPTIMIZER}'"
                )
            cc = {"loss": loss_value, "optimizer": DEFAULT_OPTIMIZER}

        def per_output(value: Any, what: str) -> dict[str, Any]:
            if value is None:
                return {}
            if isinstance(value, Mapping) and not ("class_name" in value and "config" in value):
                unknown = [k for k in value if k not in keys]
                if unknown:
                    self.problem(
                        f"compile {what} names unknown outputs {unknown} (outputs: {keys})"
                    )
                return {k: v for k, v in value.items() if k in keys}
            if isinstance(value, list | tuple) and len(keys) > 1:
                if len(value) != len(keys):
                    self.problem(f"compile {what} has {len(value)} entries for {len(keys)} outputs")
                return dict(zip(keys, value, strict=False))
            if isinstance(value, list | tuple) and len(value) == 1 and what != "metrics":
                return {keys[0]: value[0]}
            return dict.fromkeys(keys, value)

        losses = per_output(cc.get("loss"), "loss")
        weights = per_output(cc.get("loss_weights"), "loss_weights")
        metrics_value = cc.get("metrics")
        if (
            isinstance(metrics_value, list)
            and len(keys) > 1
            and metrics_value
            and not all(isinstance(m, list | tuple) for m in metrics_value)
        ):
            metrics = dict.fromkeys(keys, metrics_value)  # a flat list: every output
        else:
            metrics = per_output(metrics_value, "metrics")
        if cc.get("weighted_metrics"):
            self.problem("compile weighted_metrics has no spec equivalent")

        out_items = []
        for key, layer_name in outputs:
            item: dict[str, Any] = {"node": rename.get(layer_name, layer_name)}
            raw_loss = losses.get(key)
            if raw_loss is None:
                if cc.get("loss") is not None:
                    self.problem(f"output '{key}': the compile settings give it no loss")
                item["loss"] = None
            else:
                try:
                    item["loss"] = self.ctx.loss_name(raw_loss)
                except Unsupported as exc:
                    self.problem(f"output '{key}': {exc}")
                    item["loss"] = None
            weight = weights.get(key, 1.0)
            if isinstance(weight, list | tuple) and len(weight) == 1:
                weight = weight[0]
            if not isinstance(weight, int | float) or isinstance(weight, bool):
                self.problem(f"output '{key}': loss weight {weight!r} is not a number")
            elif float(weight) != 1.0:
                item["loss_weight"] = float(weight)
            raw_metrics = metrics.get(key) or []
            if not isinstance(raw_metrics, list | tuple):
                raw_metrics = [raw_metrics]
            names = []
            for m in raw_metrics:
                try:
                    names.append(self.ctx.metric_name(m))
                except Unsupported as exc:
                    self.problem(f"output '{key}': {exc}")
            if names:
                item["metrics"] = names
            out_items.append(item)
        return out_items, self.optimizer_section(cc.get("optimizer"))

    def optimizer_section(self, value: Any) -> dict[str, Any]:
        keras = import_keras()
        if isinstance(value, str):
            cls, config = value, {}
        elif isinstance(value, Mapping):
            cls, config = str(value.get("class_name")), dict(value.get("config") or {})
            if str(value.get("module") or "keras").split(".")[0] != "keras" or value.get(
                "registered_name"
            ) not in (None, cls):
                self.problem(f"optimizer {cls}: a custom class, not a Keras built-in optimizer")
                return {"type": cls}
        else:
            self.problem(f"optimizer {value!r}: not a Keras optimizer")
            return {"type": "sgd"}
        canonical = self.reg.canonical("optimizer", cls)
        opt = self.reg.get("optimizer", cls) if canonical else None
        if opt is None or self.reg.lowering(BACKEND, "optimizer", canonical) is None:
            self.problem(f"optimizer {cls} has no spec equivalent")
            return {"type": cls}
        keras_cls = getattr(keras.optimizers, cls, None) or keras.optimizers.get(cls).__class__
        defaults = _normalise(keras_cls().get_config())
        fields = opt.params_model.model_fields
        section: dict[str, Any] = {"type": canonical}
        for key, raw in config.items():
            if key == "name":
                continue
            value = _f32(raw)
            if key in fields:
                if isinstance(raw, Mapping):
                    self.problem(
                        f"optimizer {cls}: {key} is a {raw.get('class_name', 'schedule')}; a spec takes a constant"
                    )
                    continue
                spec_default = fields[key].default
                if key == "learning_rate" or value != spec_default:
                    section[key] = value
            elif _normalise(raw) != defaults.get(key):
                self.problem(f"optimizer {cls}: setting {key}={raw!r} has no spec equivalent")
        return section

    # -- verification ------------------------------------------------------
    def verify_node(self, layer: _Layer, live: Any, node: dict[str, Any]) -> None:
        """Lower the imported node again and compare its Keras config with the original layer's.

        Catches every setting an import rule did not translate (a regularizer, a
        frozen layer, a dtype policy): the spec would build a different layer.
        """
        from pydantic import ValidationError

        from ..ir import GraphNode
        from ..plugin import ShapeError

        keras = import_keras()
        where = f"layer '{layer.keras_name}' ({layer.class_name})"
        node_type = self.reg.node_types[node["type"]]
        fields = {k: v for k, v in node.items() if k not in ("name", "type", "inputs")}
        try:
            params = node_type.params_model.model_validate(fields)
        except ValidationError as exc:
            errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            self.problem(f"{where}: its import rule gave invalid parameters ({errors})")
            return
        shapes, dtypes = _input_shapes(live, layer)
        if shapes is None:
            self.problem(f"{where}: its input shapes are unknown (the model was never built)")
            return
        try:
            graph_node = GraphNode(
                name=node["name"],
                type=node_type.name,
                params=params,
                inputs=tuple(node["inputs"]),
                input_shapes=shapes,
                output_shape=tuple(node_type.output_shape(params, shapes)),
                param_count=node_type.param_count(params, shapes),
            )
        except (ShapeError, TypeError, ValueError) as exc:
            self.problem(f"{where}: the spec node would not fit its inputs ({exc})")
            return
        inputs = [
            keras.Input(shape=shape, dtype=dtype)
            for shape, dtype in zip(shapes, dtypes, strict=True)
        ]
        try:
            out = self.reg.lowering(BACKEND, "node", node_type.name)(self.ctx, graph_node, inputs)
            rebuilt = keras.Model(inputs, out).get_layer(node["name"])
        except Exception as exc:
            self.problem(
                f"{where}: the imported node does not build in Keras ({type(exc).__name__}: {exc})"
            )
            return
        a, b = _layer_config(live), _layer_config(rebuilt)
        if a != b:
            diffs = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
            shown = ", ".join(f"{k}={_show(a.get(k))}" for k in diffs[:4]) + (
                ", ..." if len(diffs) > 4 else ""
            )
            self.problem(
                f"{where}: {shown}: no spec equivalent (a spec would build the layer without it)"
            )
        elif int(rebuilt.count_params()) != int(live.count_params()):
            self.problem(
                f"{where}: {live.count_params():,} parameters, the spec's node {rebuilt.count_params():,}"
            )

    def check_spec(self, spec: dict[str, Any], original_params: int) -> int:
        """Check the imported spec as a whole; return its parameter count."""
        from ..diagnostics import render_text
        from ..spec.api import check_data

        result = check_data(spec, file=f"<imported {Path(self.path).name}>", registry=self.reg)
        if not result.ok or result.graph is None:
            self.problem(
                "the imported spec does not check (a bug in an import rule):\n"
                + render_text(result.errors)
            )
            self.fail_if_problems()
        total = result.graph.total_params
        if total != original_params:
            self.problem(
                f"the model has {original_params:,} parameters, the imported spec {total:,}"
            )
            self.fail_if_problems()
        return total

    def run(self) -> Decompiled:
        # The file is screened (zip, config.json, its size and shape, the layers, the
        # stored weights' shapes) before TensorFlow is imported: a wrong file fails in ms.
        top = screen(self.path)
        layers, input_names, outputs = self.screen(top)
        by_name = {layer.keras_name: layer for layer in layers}
        taken: set[str] = set()
        rename = {layer.keras_name: _spec_name(layer.keras_name, taken) for layer in layers}
        inputs = self.inputs_section(by_name, input_names, rename)
        self.fail_if_problems()  # before Keras deserializes anything
        keras = import_keras()
        try:
            model = run_deep(
                lambda: keras.models.load_model(self.path, safe_mode=True, compile=False),
                len(layers),
            )
        except (KeyboardInterrupt, MemoryError):
            raise
        except Exception as exc:  # Keras's refusal, in words (never its advice to turn safety off)
            self.problem(f"Keras cannot load the model: {framework_message(exc)}")
            self.fail_if_problems()
            raise  # pragma: no cover - fail_if_problems raised
        changed = [f"{k} → {v}" for k, v in rename.items() if k != v]
        if changed:
            self.notes.append("renamed to valid spec names: " + ", ".join(changed))

        spec: dict[str, Any] = {"specforge": FORMAT_VERSION}
        model_name = self.name or str((top.get("config") or {}).get("name") or Path(self.path).stem)
        spec["name"] = _spec_name(model_name, set())
        spec["description"] = f"Imported from {Path(self.path).name} by specforge import."
        spec["inputs"] = inputs

        def nodes() -> list[dict[str, Any]]:
            out = []
            for layer in layers:
                if layer.class_name == "InputLayer":
                    continue
                live = model.get_layer(layer.keras_name)
                node = self.node(layer, live, rename)
                if node is not None:
                    self.verify_node(layer, live, node)
                    out.append(node)
            return out

        spec["nodes"] = _implicit_inputs(run_deep(nodes, len(layers)), spec["inputs"])
        for key, layer_name in outputs:
            if (
                by_name.get(layer_name) is not None
                and by_name[layer_name].class_name == "InputLayer"
            ):
                self.problem(
                    f"output '{key}' is the input '{layer_name}' itself; a spec's outputs are nodes"
                )
        spec["outputs"], spec["optimizer"] = self.compile_section(
            top.get("compile_config"), outputs, rename
        )
        self.fail_if_problems()
        params = self.check_spec(spec, int(model.count_params()))
        return Decompiled(spec, self.notes, params)


def _input_shapes(live: Any, layer: _Layer) -> tuple[tuple[tuple[int, ...], ...] | None, list[str]]:
    """Static input shapes (batch axis excluded) and dtypes of a loaded layer."""
    try:
        tensors = live.input if isinstance(live.input, list | tuple) else [live.input]
        return tuple(tuple(int(d) for d in t.shape[1:]) for t in tensors), [
            t.dtype for t in tensors
        ]
    except (AttributeError, ValueError, TypeError):  # a layer never called (unbuilt Sequential)
        pass
    shape = (layer.entry.get("build_config") or {}).get("input_shape")
    if not isinstance(shape, list) or not shape:
        return None, []
    many = isinstance(shape[0], list)
    shapes = [tuple(s[1:]) for s in shape] if many else [tuple(shape[1:])]
    if any(d is None for s in shapes for d in s):
        return None, []
    return tuple(tuple(int(d) for d in s) for s in shapes), ["float32"] * len(shapes)


def _show(value: Any) -> str:
    """A config value for a message: ``L2(l2=0.01)`` rather than its serialized dict."""
    if isinstance(value, Mapping) and "class_name" in value:
        args = ", ".join(
            f"{k}={_show(v)}" for k, v in (value.get("config") or {}).items() if k != "name"
        )
        return f"{value['class_name']}({args})"
    return repr(value)


def _layer_config(layer: Any) -> dict[str, Any]:
    """A layer's Keras config without its name, ready to compare."""
    keras = import_keras()
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(layer)["config"]))
    config.pop("name", None)
    return _normalise(config)


def _implicit_inputs(
    nodes: list[dict[str, Any]], inputs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Drop ``inputs`` where the spec's default says the same: the node above, or the only input."""
    out = []
    previous: str | None = inputs[0]["name"] if len(inputs) == 1 else None
    for node in nodes:
        reads = node.get("inputs") or []
        item = {k: v for k, v in node.items() if k != "inputs"}
        if reads != [previous] or previous is None:
            item["inputs"] = reads
        out.append(item)
        previous = node["name"]
    return out


def decompile(
    path: str | Path,
    *,
    name: str | None = None,
    default_loss: str | None = None,
    registry: Registry | None = None,
) -> Decompiled:
    """Turn the Keras model saved at ``path`` into a spec.

    :param name: the spec's name (default: the model's).
    :param default_loss: the loss of each output when the model was saved
        without compile settings.
    :param registry: the import rules and names to use (default: the installed plugins).
    :raises DecompileError: unsupported layers or settings, all listed (exit 1).
    :raises BackendError: not a readable ``.keras`` file, or Keras missing (exit 2).
    """
    if registry is None:  # the API's edge: below it, the registry is passed on
        registry = get_registry()
    try:
        return _Decompiler(path, name, default_loss, registry).run()
    except (TypeError, KeyError, AttributeError, IndexError, ValueError) as exc:
        # The screen checks the config's shape; this catches what it does not foresee
        # (a hand-edited file), in words, never as an internal error.
        raise BackendError(
            f"{path}: config.json is malformed where the screen does not look "
            f"({framework_message(exc)})",
            help="the file is damaged or was not written by Keras; save the model again",
        ) from None


# ---------------------------------------------------------------- writing specs


def _flow(value: Any) -> str:
    import yaml

    return yaml.safe_dump(
        value, default_flow_style=True, sort_keys=False, width=1_000_000, allow_unicode=True
    ).strip()


def spec_to_yaml(spec: Mapping[str, Any]) -> str:
    """A spec as YAML in the style of ``specs/``: one flow mapping per input, node and output."""
    import yaml

    head = {k: spec[k] for k in ("specforge", "name", "description") if k in spec}
    parts = [yaml.safe_dump(head, sort_keys=False, allow_unicode=True, width=100).rstrip()]
    for section in ("inputs", "nodes", "outputs"):
        if section in spec:
            parts.append(
                f"{section}:\n" + "\n".join(f"  - {_flow(item)}" for item in spec[section])
            )
    for section in ("optimizer",):
        if section in spec:
            parts.append(f"{section}: {_flow(spec[section])}")
    rest = {
        k: v
        for k, v in spec.items()
        if k not in ("specforge", "name", "description", "inputs", "nodes", "outputs", "optimizer")
    }
    if rest:
        parts.append(yaml.safe_dump(rest, sort_keys=False, allow_unicode=True).rstrip())
    return "\n\n".join(parts) + "\n"


__all__ = ["DecompileError", "Decompiled", "decompile", "read_config", "spec_to_yaml"]
