"""``specforge evaluate``: a finished run's model on one of its splits, rebuilt from its spec."""

from __future__ import annotations

import json

import click

from . import cli
from .common import FORMATS, plugin_warnings
from .train import format_metrics, run_errors


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option(
    "--split",
    type=click.Choice(["test", "validation", "train"]),
    default="test",
    show_default=True,
    help="Which split to evaluate on.",
)
@click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help="Output format."
)
def evaluate(run_dir: str, split: str, fmt: str) -> None:
    """Evaluate the model of RUN_DIR (a directory `specforge train` wrote).

    The split is recomputed from the run's resolved spec with the same seed and
    the run's fitted preprocessors, so on the same machine and backend the test
    figures equal those in metrics.json.
    """
    from pathlib import Path

    from ..training.run import evaluate_run
    from ..training.rundir import METRICS, read_json

    plugin_warnings()
    with run_errors():
        values = evaluate_run(run_dir, split)
        recorded = read_json(Path(run_dir), METRICS).get(split)
    if fmt == "json":
        click.echo(json.dumps({"split": split, "metrics": values, "recorded": recorded}, indent=2))
        return
    click.echo(f"{split}: {format_metrics(values)}")
    if recorded is not None:
        same = recorded == values
        click.echo(
            "  same as metrics.json"
            if same
            else f"  metrics.json recorded: {format_metrics(recorded)}"
        )
