"""``specforge predict``: a run's model on new data, written as CSV."""

from __future__ import annotations

import click

from . import cli
from .common import plugin_warnings
from .train import run_errors


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("input", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="CSV file to write."
)
@click.option("--key", default=None, help="Array name in an .npz INPUT [default: x].")
def predict(run_dir: str, input: str, output: str, key: str | None) -> None:
    """Predict with the model of RUN_DIR on INPUT (CSV or .npz of features).

    \b
    A CSV holds one sample per row with the dataset's features in columns; a
    header is optional (when it names the features they are picked by name).
    The run's fitted preprocessors are applied. OUTPUT gets one column per
    output, or <output>_<k> per unit of a multi-unit output (class probabilities).
    """
    from ..training.run import predict_run

    plugin_warnings()
    with run_errors():
        rows, columns = predict_run(run_dir, input, output, key=key)
    click.echo(
        f"wrote {rows} prediction{'s' * (rows != 1)} ({', '.join(columns[:6])}{', ...' if len(columns) > 6 else ''}) to {output}"
    )
