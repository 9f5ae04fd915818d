"""Screen a ``.keras`` archive before Keras (or TensorFlow) is imported.

Everything here reads the archive as data, with the standard library (and
``h5py`` for the weights' shapes, never their values): ``config.json`` as JSON,
its shape and types checked by hand, and every declared size (``units``,
``filters``...) compared with the stored weights. A text file is rejected in
milliseconds, not after the 15 s TensorFlow import, and a 2 KB file declaring
a 2,000,000,000-unit layer never reaches Keras's allocator.

Used by ``specforge import`` (:mod:`.decompile`) and by whatever else opens
``.keras`` files from users.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..plugin import BackendError
from ..resources import BYTES_PER_VALUE, ENV_LIMIT, gib, memory_limit

#: config.json larger than this is refused (a 10,000-layer model is about 30 MB).
MAX_CONFIG_BYTES = 256 * 1024 * 1024
#: Keras configs nest about ten levels; far deeper is a damaged or hostile file.
MAX_DEPTH = 100
#: Layer config keys that size a layer's weights.
SIZE_KEYS = ("units", "filters", "output_dim", "input_dim", "key_dim", "value_dim", "num_heads")
WEIGHTS = "model.weights.h5"
_HELP = (
    "the file is damaged or was not written by Keras; save the model again with model.save(path)"
)


def _path(keys: tuple[Any, ...]) -> str:
    return "".join(f"[{k!r}]" for k in keys) or "the top level"


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def _depth(value: Any) -> int:
    """How deep ``value`` nests, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            return depth
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def read_config(path: str | Path) -> dict[str, Any]:
    """The model config (``config.json``) of a ``.keras`` archive, as plain JSON: nothing is executed."""
    p = Path(path)
    if not p.is_file():
        raise BackendError(f"{p}: no such file" if not p.exists() else f"{p}: not a regular file")
    if p.suffix.lower() in (".h5", ".hdf5"):
        raise BackendError(
            f"{p}: legacy HDF5 models are not supported (their loader ignores safe mode)",
            help="load it in Keras and save it again as model.keras, if you trust the file",
        )
    if not zipfile.is_zipfile(p):
        raise BackendError(f"{p} is not a Keras model file (a .keras file is a zip archive)")
    try:
        with zipfile.ZipFile(p) as archive:
            info = archive.getinfo("config.json")
            if info.file_size > MAX_CONFIG_BYTES:
                raise BackendError(
                    f"{p}: config.json is {info.file_size:,} bytes, more than the {MAX_CONFIG_BYTES:,} accepted"
                )
            config = json.loads(archive.read(info).decode("utf-8"))
    except KeyError:
        raise BackendError(
            f"{p} is a zip archive without config.json: not a Keras model file"
        ) from None
    except RecursionError:
        raise BackendError(
            f"{p}: config.json nests deeper than a JSON parser follows; no Keras model does",
            help=_HELP,
        ) from None
    except (zipfile.BadZipFile, UnicodeDecodeError, ValueError, OSError, EOFError) as exc:
        raise BackendError(
            f"{p}: unreadable Keras model file ({type(exc).__name__}: {str(exc)[:200]})", help=_HELP
        ) from None
    if _depth(config) > MAX_DEPTH:
        raise BackendError(
            f"{p}: config.json nests more than {MAX_DEPTH} levels deep; a Keras model's config "
            "nests about ten",
            help=_HELP,
        )
    if not isinstance(config, dict) or "class_name" not in config:
        raise BackendError(f"{p}: config.json does not describe a Keras model", help=_HELP)
    return config


def _endpoint_problems(value: Any, at: tuple[Any, ...], nested: bool = False) -> Iterator[str]:
    """``input_layers``/``output_layers``: [name, node, tensor] triples, in lists or objects."""
    if value is None and not nested:
        return
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:]):
            yield f"{_path(at)} should be [layer name, node index, tensor index]"
        return
    if isinstance(value, dict | list) and value:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            yield from _endpoint_problems(item, (*at, key), nested=True)
        return
    yield f"{_path(at)} should be [layer name, node index, tensor index], not {_kind(value)}"


def _type_problems(config: dict[str, Any]) -> Iterator[str]:
    """Where config.json's structure is not what Keras writes (key paths, never the values)."""
    for key in ("class_name", "module", "registered_name"):
        if config.get(key) is not None and not isinstance(config[key], str):
            yield f"{_path((key,))} should be a string, not {_kind(config[key])}"
    inner = config.get("config")
    if inner is None:
        return
    if not isinstance(inner, dict):
        yield f"['config'] should be an object, not {_kind(inner)}"
        return
    for key in ("input_layers", "output_layers"):
        yield from _endpoint_problems(inner.get(key), ("config", key))
    layers = inner.get("layers")
    if layers is None:
        return
    if not isinstance(layers, list):
        yield f"['config']['layers'] should be an array, not {_kind(layers)}"
        return
    for i, entry in enumerate(layers):
        at = ("config", "layers", i)
        if not isinstance(entry, dict):
            yield f"{_path(at)} should be an object (a layer), not {_kind(entry)}"
            continue
        for key in ("class_name", "module", "registered_name", "name"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                yield f"{_path((*at, key))} should be a string, not {_kind(entry[key])}"
        for key in ("config", "build_config"):
            if entry.get(key) is not None and not isinstance(entry[key], dict):
                yield f"{_path((*at, key))} should be an object, not {_kind(entry[key])}"
        calls = entry.get("inbound_nodes")
        if calls is not None and not isinstance(calls, list):
            yield f"{_path((*at, 'inbound_nodes'))} should be an array, not {_kind(calls)}"
        for j, call in enumerate(calls if isinstance(calls, list) else []):
            if not isinstance(call, dict):
                yield f"{_path((*at, 'inbound_nodes', j))} should be an object, not {_kind(call)}"
                continue
            for key, kind in (("args", list), ("kwargs", dict)):
                if call.get(key) is not None and not isinstance(call[key], kind):
                    yield f"{_path((*at, 'inbound_nodes', j, key))} should be {_kind(kind())}, not {_kind(call[key])}"
        lconfig = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        for key in ("batch_shape", "batch_input_shape"):
            shape = lconfig.get(key)
            if shape is None:
                continue
            if not isinstance(shape, list):
                yield f"{_path((*at, 'config', key))} should be an array, not {_kind(shape)}"
                continue
            for j, dim in enumerate(shape):
                if dim is not None and (
                    not isinstance(dim, int) or isinstance(dim, bool) or dim < 1
                ):
                    yield (
                        f"{_path((*at, 'config', key, j))} should be a positive integer or null, "
                        f"not {_kind(dim)}"
                    )
        for key in SIZE_KEYS:
            value = lconfig.get(key)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1
            ):
                yield f"{_path((*at, 'config', key))} should be a positive integer, not {_kind(value)}"


def stored_shapes(path: str | Path) -> list[tuple[int, ...]] | None:
    """The shapes of the weights in the archive's ``model.weights.h5`` (None: no weights file)."""
    try:
        import h5py
    except ImportError:  # pragma: no cover - installed with Keras
        return None
    shapes: list[tuple[int, ...]] = []
    try:
        with zipfile.ZipFile(path) as archive:
            if WEIGHTS not in archive.namelist():
                return None
            with archive.open(WEIGHTS) as fh, h5py.File(fh, "r") as h5:

                def visit(_name: str, obj: Any) -> None:
                    if isinstance(obj, h5py.Dataset):
                        shapes.append(tuple(int(d) for d in obj.shape))

                h5.visititems(visit)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise BackendError(
            f"{path}: its {WEIGHTS} is unreadable ({type(exc).__name__}: {str(exc)[:200]})",
            help=_HELP,
        ) from None
    return shapes


def _size_problems(path: str | Path, config: dict[str, Any]) -> Iterator[str]:
    """Declared sizes the stored weights do not have, or that cannot fit in memory."""
    layers = (config.get("config") or {}).get("layers") or []
    declared = []
    for i, entry in enumerate(layers):
        lconfig = entry.get("config") or {}
        for key in SIZE_KEYS:
            if isinstance(lconfig.get(key), int):
                declared.append(
                    (i, str(entry.get("name") or lconfig.get("name") or i), key, lconfig[key])
                )
    shapes = stored_shapes(path) if declared else None
    if shapes is not None:
        dims = {d for shape in shapes for d in shape}
        mismatched = [
            f"['config']['layers'][{i}]['config'][{key!r}]: layer '{name}' declares "
            f"{key} {value:,}, but no weight stored in {WEIGHTS} has that size"
            for i, name, key, value in declared
            if value not in dims
        ]
        if mismatched:
            yield from mismatched
            return
    limit = memory_limit()
    if limit is None:
        return
    widths = [
        math.prod(d for d in shape if isinstance(d, int))
        for entry in layers
        for key in ("batch_shape", "batch_input_shape")
        if isinstance(shape := (entry.get("config") or {}).get(key), list)
    ]
    widest = max(widths, default=1)
    for i, name, key, value in declared:
        # Keras allocates each layer's weights on load: an input this wide into a layer this
        # large (or, unbuilt, a square of it) must fit in memory.
        need = max(widest, value) * value * BYTES_PER_VALUE
        if need > limit:
            yield (
                f"['config']['layers'][{i}]['config'][{key!r}]: layer '{name}' declares {key} "
                f"{value:,}, about {gib(need)} of weights, more than the {gib(limit)} this "
                f"machine has (set {ENV_LIMIT} to change the limit)"
            )


def screen(path: str | Path) -> dict[str, Any]:
    """``config.json`` of the archive at ``path``, checked for shape, types and sizes.

    :raises BackendError: the file is not a ``.keras`` archive, or its config is
        damaged (each problem located by its key path in config.json).
    """
    config = read_config(path)
    problems = list(_type_problems(config))
    if not problems:
        problems = list(_size_problems(path, config))
    if problems:
        shown = problems[:10] + (
            [f"... and {len(problems) - 10} more"] if len(problems) > 10 else []
        )
        raise BackendError(
            f"{path}: config.json does not describe a model Keras could load safely:\n"
            + "\n".join(f"  - {p}" for p in shown),
            help=_HELP,
        )
    return config
