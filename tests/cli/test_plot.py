"""``specforge plot activations``: the chapter's two-panel figure, from the NumPy backend."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from specforge.numpy_backend.plot import (
    DEFAULT_ACTIVATIONS,
    PlotError,
    activations_figure,
    activations_grid,
    plottable_activations,
)
from specforge.registry import get_registry

#: figsize (10, 5) inches at 100 dpi
PNG_SIZE = (1000, 500)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def curves(fig) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """gid -> (x, f(x), f'(x)) read back from the plotted Line2D objects."""
    left, right = fig.axes
    functions = {line.get_gid(): line for line in left.get_lines()}
    derivatives = {line.get_gid(): line for line in right.get_lines()}
    assert functions.keys() == derivatives.keys()
    out = {}
    for gid, line in functions.items():
        x, y = (np.asarray(a, dtype=float) for a in line.get_data())
        dx, dy = (np.asarray(a, dtype=float) for a in derivatives[gid].get_data())
        assert np.array_equal(x, dx)
        out[gid] = (x, y, dy)
    return out


def assert_derivative_matches_finite_differences(x, y, dy):
    """Each secant slope of the plotted f equals the mean of the plotted f' at its ends.

    (The trapezoid rule: exact to O(h²) even where f' has a kink, as softsign's does
    at 0.) Intervals next to a kink or a jump of f itself (relu, step at 0) are left out.
    """
    h = x[1] - x[0]
    assert np.allclose(np.diff(x), h)
    secant = np.diff(y) / h
    trapezoid = (dy[:-1] + dy[1:]) / 2
    kink = np.abs(np.diff(secant)) > 0.05 * (
        1 + np.abs(secant[1:]) + np.abs(secant[:-1])
    )  # at x[1:-1]
    keep = np.ones_like(secant, dtype=bool)
    keep[:-1] &= ~kink
    keep[1:] &= ~kink
    assert keep.mean() > 0.95, "too few smooth intervals: the check would prove little"
    bad = keep & (
        np.abs(secant - trapezoid) > 1e-4 * (1 + np.abs(trapezoid))
    )  # measured worst: 2.5e-5
    assert not bad.any(), (
        f"f' is not the slope of f on the intervals starting at x = {x[:-1][bad][:5]}"
    )


def test_writes_the_chapter_figure_with_the_four_activations(cli_run, tmp_path):
    out = tmp_path / "activations.png"
    res = cli_run("plot", "activations", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert res.stdout == f"wrote {out} (heaviside, sigmoid, tanh, relu)\n"
    assert png_size(out) == PNG_SIZE
    assert [p.name for p in tmp_path.iterdir()] == ["activations.png"]


def test_the_figure_has_the_chapter_panels_and_labels():
    fig = activations_figure(registry=get_registry())
    left, right = fig.axes
    assert left.get_title() == "Activation Functions"
    assert right.get_title() == "Derivatives of Activation Functions"
    assert [t.get_text() for t in left.get_legend().get_texts()] == [
        "step",
        "logistic",
        "tanh",
        "ReLU",
    ]
    assert left.get_xlim() == (-4.0, 4.0) and left.get_ylim() == (-1.1, 1.1)
    assert tuple(round(v, 6) for v in fig.get_size_inches() * fig.dpi) == PNG_SIZE
    c = curves(fig)
    assert list(c) == list(DEFAULT_ACTIVATIONS)
    x, y, dy = c["heaviside"]
    assert set(np.unique(y)) == {0.0, 1.0} and not dy.any()  # the step and its zero derivative
    x, y, dy = c["relu"]
    assert dy[x < 0].max() == 0 and dy[x > 0].min() == 1


@pytest.mark.parametrize("name", plottable_activations(get_registry()))
def test_each_plotted_derivative_is_the_slope_of_the_plotted_function(name):
    fig = activations_figure([name], registry=get_registry())
    ((gid, (x, y, dy)),) = curves(fig).items()
    assert gid == name
    assert_derivative_matches_finite_differences(x, y, dy)


def test_activation_options_choose_the_curves_and_aliases_resolve(cli_run, tmp_path):
    out = tmp_path / "a.svg"
    res = cli_run(
        "plot",
        "activations",
        "-o",
        str(out),
        "--activation",
        "swish",
        "--activation",
        "elu",
        "--activation",
        "step",
    )
    assert res.exit_code == 0, res.output
    assert out.read_text().lstrip().startswith("<?xml")
    fig = activations_figure(["swish", "elu", "step"], registry=get_registry())
    assert list(curves(fig)) == ["silu", "elu", "heaviside"]


def test_all_draws_every_elementwise_activation(cli_run, tmp_path):
    res = cli_run("plot", "activations", "-o", str(tmp_path / "all.png"), "--all")
    assert res.exit_code == 0, res.output
    names = plottable_activations(get_registry())
    assert "softmax" not in names and {"heaviside", "gelu", "mish", "silu"} <= set(names)
    width, height = png_size(tmp_path / "all.png")
    assert width == 1040 and height == round(100 * (2.3 * -(-len(names) // 4) + 0.6))


def test_all_is_a_grid_of_panels_each_with_the_function_and_its_derivative():
    names = plottable_activations(get_registry())
    fig = activations_grid(names, registry=get_registry())
    assert len(fig.axes) == len(names)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[names.index("heaviside")] == "heaviside (step)" and "relu" in titles
    for ax, name in zip(fig.axes, names, strict=True):
        f, d = ax.get_lines()[:2]
        assert (f.get_gid(), d.get_gid()) == (name, f"{name}'")
        assert f.get_linestyle() == "-" and d.get_linestyle() == "--"
        x, y = (np.asarray(a, dtype=float) for a in f.get_data())
        assert_derivative_matches_finite_differences(x, y, np.asarray(d.get_ydata(), dtype=float))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--activation", "softmax"], "activation 'softmax' is not elementwise"),
        (["--activation", "nope"], "activation 'nope' has no NumPy lowering"),
        (["--all", "--activation", "relu"], "--all and --activation exclude each other"),
    ],
)
def test_bad_requests_are_usage_errors(cli_run, tmp_path, args, message):
    res = cli_run("plot", "activations", "-o", str(tmp_path / "a.png"), *args)
    assert res.exit_code == 2 and message in res.stderr
    assert not list(tmp_path.iterdir())


def test_an_unknown_image_format_is_a_usage_error(cli_run, tmp_path):
    res = cli_run("plot", "activations", "-o", str(tmp_path / "a.bmpx"))
    assert res.exit_code == 2 and "end the file name with .png, .svg or .pdf" in res.stderr


def test_an_activation_from_a_plugin_is_drawn_from_its_numpy_lowering():
    from specforge.plugin import Activation, hookimpl
    from specforge.registry import load_registry

    class HardTanh:
        def forward(self, x):
            return np.clip(x, -1.0, 1.0)

        def backward(self, x, y, g):
            return np.where(np.abs(x) < 1.0, g, 0.0)

    class Plugin:
        @hookimpl
        def register_activations(self, register):
            register(Activation("hard_tanh", description="clip(x, -1, 1)"))

        @hookimpl
        def register_lowerings(self, register):
            register("numpy", "activation", "hard_tanh", HardTanh())

    reg = load_registry([("specforge-hardtanh", Plugin())], entry_points=False)
    assert "hard_tanh" in plottable_activations(reg)
    fig = activations_figure(["sigmoid", "hard_tanh"], registry=reg)
    x, y, dy = curves(fig)["hard_tanh"]
    assert y.min() == -1 and y.max() == 1
    assert_derivative_matches_finite_differences(x, y, dy)
    with pytest.raises(PlotError):
        # the process-wide registry does not have it
        activations_figure(["hard_tanh"], registry=get_registry())


def test_a_failed_write_leaves_nothing(cli_run, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def broken(self, fname, **kwargs):
        Path(fname).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken)
    res = cli_run("plot", "activations", "-o", str(tmp_path / "a.png"))
    assert res.exit_code == 2 and "No space left on device" in res.stderr
    assert not list(tmp_path.iterdir())
