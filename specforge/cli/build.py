"""``specforge build``: compile a spec into a backend model file (a ``.keras`` model by default).

Exit codes: 0 written, 1 invalid spec (or something the backend cannot lower),
2 usage or environment problem (unknown backend, framework not installed,
unwritable output), 130 interrupted. A failure never leaves a partial file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from ..spec.models import MAX_SEED
from . import EXIT_INVALID, cli
from .common import FORMATS, load_checked, plugin_warnings, set_option, usage_error


def _print_diagnostics(diagnostics, source: Mapping[str, str] | None, fmt: str, spec: str) -> None:
    from ..diagnostics import count, render_json, render_text

    if fmt == "json":
        click.echo(render_json(diagnostics))
    else:
        click.echo(render_text(diagnostics, source))
        errors, _ = count(diagnostics)
        click.echo(f"{spec}: invalid ({errors} error{'s' * (errors != 1)})", err=True)
    sys.stdout.flush()


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="The model file to write (model.keras).",
)
@click.option(
    "--backend",
    "backend_name",
    default="keras",
    show_default=True,
    help="A registered backend (see `specforge plugins`).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0, max=MAX_SEED),
    default=None,
    help="Seed for reproducible initial weights (default: the spec's train.seed).",
)
@click.option(
    "--weights",
    type=click.Path(exists=False),
    default=None,
    help="Take trained weights from a model file (model.npz, model.keras) or a `specforge train` run directory.",
)
@click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help="Output format."
)
@set_option
def build(
    spec: str,
    output: str,
    backend_name: str,
    seed: int | None,
    weights: str | None,
    fmt: str,
    overrides: tuple[str, ...],
) -> None:
    """Check SPEC, compile it with the backend and write the model to OUTPUT atomically.

    The .keras file loads with plain keras.models.load_model(path), without specforge.
    With --weights, the model gets the weights of a trained run (e.g. to export a
    NumPy-trained model with --backend onnx or --backend keras).
    """
    from ..builder import build as build_model
    from ..diagnostics import SpecError
    from ..lower import select_backend
    from ..plugin import BackendError
    from ..registry import get_registry
    from ..summary import summary_data, summary_text

    plugin_warnings()
    result = load_checked(spec, overrides)
    if not result.ok or result.graph is None:
        _print_diagnostics(result.diagnostics, result.document.sources, fmt, spec)
        raise click.exceptions.Exit(EXIT_INVALID)
    graph = result.graph
    reg = get_registry()
    try:
        backend = select_backend(backend_name, reg)
    except BackendError as e:
        raise usage_error(e.message, e.help) from None
    if backend.file_suffix and Path(output).suffix != backend.file_suffix:
        raise usage_error(
            f"the {backend.name} backend writes {backend.file_suffix} files, not '{output}'",
            f"use -o {Path(output).with_suffix(backend.file_suffix)}",
        )
    if seed is None:
        seed = graph.seed
    try:
        model = build_model(result, backend.name, seed, weights=weights, registry=reg)
        backend.save(model, output)
    except SpecError as e:
        _print_diagnostics(e.diagnostics, result.document.sources, fmt, spec)
        raise click.exceptions.Exit(EXIT_INVALID) from None
    except BackendError as e:
        raise usage_error(e.message, e.help) from None
    except OSError as e:
        raise usage_error(f"cannot write {output}: {e.strerror or e}") from None

    counted = getattr(model, "count_params", None)
    model_params = int(counted()) if callable(counted) else None
    if fmt == "json":
        data = {
            "spec": spec,
            "output": output,
            "backend": backend.name,
            "seed": seed,
            "model_params": model_params,
            "summary": summary_data(graph),
        }
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(summary_text(graph))
    if model_params is not None and model_params != graph.total_params:
        click.echo(
            f"warning: the {backend.name} model has {model_params:,} parameters, the spec {graph.total_params:,}",
            err=True,
        )
    seeded = f", seed {seed}" if seed is not None else ""
    click.echo(f"wrote {output} ({backend.name} backend{seeded})", err=True)
