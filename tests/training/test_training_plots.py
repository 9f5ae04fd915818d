"""The chapter's figures, checked through the matplotlib Figure objects the plotting functions return."""

from __future__ import annotations

import numpy as np

from specforge.training import plots


def texts(fig) -> dict[str, list[str]]:
    axes = fig.get_axes()
    return {
        "suptitle": fig._suptitle.get_text() if fig._suptitle else "",
        "titles": [ax.get_title() for ax in axes],
        "xlabels": [ax.get_xlabel() for ax in axes],
        "ylabels": [ax.get_ylabel() for ax in axes],
    }


def test_learning_curves_plot_every_key_against_the_epoch_with_validation_dashed():
    history = {
        "loss": [1.0, 0.5, 0.3],
        "accuracy": [0.5, 0.7, 0.8],
        "val_loss": [1.1, 0.7, 0.5],
        "val_accuracy": [0.4, 0.6, 0.7],
    }
    fig = plots.learning_curves(history, "digits_mlp")
    t = texts(fig)
    assert t["suptitle"] == "digits_mlp: learning curves"
    assert t["titles"] == ["loss", "accuracy"]
    assert t["xlabels"] == ["epoch", "epoch"] and t["ylabels"] == ["loss", "accuracy"]
    loss_ax = fig.get_axes()[0]
    lines = {line.get_label(): line for line in loss_ax.get_lines()}
    assert set(lines) == {"loss", "val_loss"}
    np.testing.assert_array_equal(lines["loss"].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines["val_loss"].get_ydata(), [1.1, 0.7, 0.5])
    assert lines["val_loss"].get_linestyle() == "--" and lines["loss"].get_linestyle() == "-"
    assert lines["val_loss"].get_color() == lines["loss"].get_color()


def test_learning_curves_give_each_outputs_loss_a_panel_and_group_each_metric():
    keys = [
        "loss",
        "output_loss",
        "aux_output_loss",
        "output_mean_absolute_error",
        "aux_output_mean_absolute_error",
    ]
    history = {k: [1.0, 2.0] for k in keys + [f"val_{k}" for k in keys]}
    fig = plots.learning_curves(history, "wide_deep_aux", ["output", "aux_output"])
    assert texts(fig)["titles"] == [
        "loss",
        "output loss",
        "aux_output loss",
        "mean_absolute_error",
    ]
    assert [len(ax.get_lines()) for ax in fig.get_axes()] == [2, 2, 2, 4]


def test_each_key_keeps_its_colour_whatever_the_panel_and_epochs_are_whole_numbers():
    keys = ["loss", "accuracy", "val_loss", "val_accuracy"]
    history = {k: list(np.linspace(1, 0, 20)) for k in keys}
    fig = plots.learning_curves(history, "m")
    colors = {
        line.get_label(): line.get_color() for ax in fig.get_axes() for line in ax.get_lines()
    }
    assert colors == plots.key_colors(keys)
    assert colors["loss"] == colors["val_loss"] != colors["accuracy"] == colors["val_accuracy"]
    fig.canvas.draw()
    ticks = fig.get_axes()[0].get_xticks()
    assert len(ticks) > 2 and all(float(t).is_integer() for t in ticks)


def test_the_chosen_epoch_is_marked_on_every_panel():
    metrics = {"best_epoch": 4, "restored_best": True, "checkpoint": {"epoch": 4}}
    assert plots.chosen_epochs(metrics) == [(4, "best epoch 4 (restored)")]
    assert plots.chosen_epochs({"checkpoint": {"epoch": 2}}) == [(2, "checkpoint: epoch 2")]
    history = {"loss": [3.0, 2.0, 1.0, 0.5, 0.6], "accuracy": [0.1, 0.2, 0.3, 0.4, 0.3]}
    fig = plots.learning_curves(history, "m", marks=plots.chosen_epochs(metrics))
    for ax in fig.get_axes():
        (mark,) = [ln for ln in ax.get_lines() if ln.get_label() == "best epoch 4 (restored)"]
        assert list(mark.get_xdata()) == [4, 4]


def test_regression_predictions_are_scattered_against_the_actual_values_with_the_identity_line():
    rng = np.random.default_rng(0)
    actual = rng.uniform(0, 5, (50, 1))
    main = plots.OutputPredictions(
        "output", "regression", actual, actual + rng.normal(0, 0.1, (50, 1))
    )
    aux = plots.OutputPredictions("aux_output", "regression", actual, actual * 1.2)
    fig = plots.predictions("wide_deep_aux", [main, aux])
    t = texts(fig)
    assert t["suptitle"] == "wide_deep_aux: predictions on the test set"
    assert t["titles"] == [
        "output: predicted vs actual",
        "aux_output: predicted vs actual",
        "output vs aux_output",
        "difference between output and aux_output",
    ]
    assert t["xlabels"] == [
        "actual",
        "actual",
        "output prediction",
        "samples ordered by output prediction",
    ]
    assert t["ylabels"] == [
        "predicted",
        "predicted",
        "aux_output prediction",
        "output - aux_output",
    ]
    ax = fig.get_axes()[0]
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 0], actual.ravel())
    identity = ax.get_lines()[0]
    assert identity.get_linestyle() == "--"
    np.testing.assert_allclose(identity.get_xdata(), identity.get_ydata())


def test_classification_predictions_are_a_confusion_matrix_with_the_class_names():
    actual = np.array([0, 1, 2, 2, 1, 0])
    probs = np.eye(3)[[0, 1, 2, 1, 1, 0]]
    fig = plots.predictions(
        "iris",
        [
            plots.OutputPredictions(
                "species", "classification", actual, probs, ["setosa", "versicolor", "virginica"]
            )
        ],
    )
    ax = fig.get_axes()[0]
    assert ax.get_title() == "species: confusion matrix (accuracy 0.833)"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["setosa", "versicolor", "virginica"]
    matrix = ax.get_images()[0].get_array()
    np.testing.assert_array_equal(matrix, [[2, 0, 0], [0, 2, 0], [0, 1, 1]])
    assert sorted(t.get_text() for t in ax.texts) == sorted("200020011")


def test_class_indices_come_from_labels_one_hot_rows_probabilities_or_a_sigmoid():
    np.testing.assert_array_equal(plots.class_indices(np.array([2, 0])), [2, 0])
    np.testing.assert_array_equal(plots.class_indices(np.array([[0.1, 0.9], [0.8, 0.2]])), [1, 0])
    np.testing.assert_array_equal(
        plots.class_indices(np.array([[0.7], [0.2]], dtype=np.float32)), [1, 0]
    )


def test_saved_plots_are_real_pngs_written_atomically(tmp_path):
    fig = plots.learning_curves({"loss": [3.0, 2.0, 1.0]}, "m")
    plots.save(fig, tmp_path / "curves.png")
    data = (tmp_path / "curves.png").read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


def test_plotting_never_imports_pyplot():
    import subprocess
    import sys

    code = (
        "import sys; from specforge.training import plots; import numpy as np;"
        "plots.learning_curves({'loss': [1.0, 0.5]}, 'm');"
        "print('matplotlib.pyplot' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr


def test_the_perceptrons_step_outputs_get_a_confusion_matrix_of_the_species(tmp_path, monkeypatch):
    """Its loss is a mean squared error, but the data set's targets are classes."""
    from pathlib import Path

    from specforge.training import train

    seen = []
    real = plots.predictions
    monkeypatch.setattr(plots, "predictions", lambda *a, **k: seen.append(a[1]) or real(*a, **k))
    spec = Path(__file__).resolve().parents[2] / "specs" / "perceptron_iris.yaml"
    train(spec, out=tmp_path / "run", epochs=2, progress="quiet")
    ((out,),) = seen
    assert out.kind == "classification"
    assert list(out.class_names) == ["setosa", "versicolor", "virginica"]
    fig = real("perceptron_iris", [out])
    assert fig.get_axes()[0].get_title().startswith("species: confusion matrix")
