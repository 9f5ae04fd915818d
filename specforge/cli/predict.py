"""``specforge predict``: a run's model on new data, written as CSV, JSON or npz."""

from __future__ import annotations

import click

from . import cli
from .common import plugin_warnings
from .train import run_errors


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("input", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="File to write (.csv, .json or .npz).",
)
@click.option("--key", default=None, help="Array name in an .npz INPUT [default: x].")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "npz"]),
    default=None,
    help="Table format [default: from the OUTPUT suffix, else csv].",
)
def predict(run_dir: str, input: str, output: str, key: str | None, fmt: str | None) -> None:
    """Predict with the model of RUN_DIR on INPUT (CSV or .npz of features).

    \b
    A CSV holds one sample per row with the dataset's features in columns; a
    header is optional (when it names the features they are picked by name).
    The run's fitted preprocessors are applied. A classification output gets a
    `class` column (the class names) and one `prob_<class>` column per class; a
    regression output one column per target, named after it. With several
    outputs the columns start with `<output>_`.
    """
    from ..training.run import predict_run

    plugin_warnings()
    with run_errors():
        rows, columns = predict_run(run_dir, input, output, key=key, format=fmt)
    click.echo(
        f"wrote {rows} prediction{'s' * (rows != 1)} ({', '.join(columns[:6])}{', ...' if len(columns) > 6 else ''}) to {output}"
    )
