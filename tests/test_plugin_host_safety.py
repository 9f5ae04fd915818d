"""Plugins cannot break the host: any exception but Ctrl-C is caught and named, what a
plugin prints never reaches machine-readable stdout, and a plugin that hangs is named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from specforge.plugin import hookimpl
from specforge.registry import load_registry
from specforge.testing import make_distribution, plugins_installed

ROOT = Path(__file__).resolve().parent.parent
SPEC = "specs/wide_deep.yaml"

GOOD = textwrap.dedent(
    """\
    from specforge.plugin import NodeType, hookimpl

    SPECFORGE_API = 1

    class Identity(NodeType):
        name = "Identity"

        def output_shape(self, params, input_shapes):
            return tuple(input_shapes[0])

    @hookimpl
    def register_node_types(register):
        register(Identity())
    """
)

BASE_EXCEPTION = textwrap.dedent(
    """\
    class Fatal(BaseException):
        pass

    raise Fatal("the licence server said no")
    """
)

CHATTY = textwrap.dedent(
    """\
    import os, sys
    from specforge.plugin import hookimpl

    SPECFORGE_API = 1
    print("chatty: hello from import")
    sys.stdout.write("no newline at the end")
    os.write(1, b"chatty: raw bytes on file descriptor 1\\n")

    @hookimpl
    def register_node_types(register):
        print("chatty: registering node types")
    """
)


def run(site: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SPECFORGE_DEBUG", "SPECFORGE_DISABLE_PLUGINS")
    }
    full_env.update({"PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "specforge", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full_env,
        timeout=timeout,
    )


# ---------------------------------------------------------------- exceptions


def test_a_base_exception_at_import_is_named_and_every_command_still_works(tmp_path):
    site = make_distribution(
        tmp_path, "specforge-fatal", {"fatal": "fatal_plugin"}, {"fatal_plugin.py": BASE_EXCEPTION}
    )
    result = run(site, "validate", SPEC)
    assert result.returncode == 0, result.stderr
    assert f"{SPEC}: valid" in result.stdout
    assert (
        "warning: plugin 'fatal' from specforge-fatal 0.0.1 (import): Fatal: the licence server said no"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


class RaisesBaseException:
    SPECFORGE_API = 1

    @hookimpl
    def register_losses(self, register):
        raise GeneratorExit("stopped from inside")


class RaisesSystemExit:
    SPECFORGE_API = 1

    @hookimpl
    def register_metrics(self, register):
        raise SystemExit(4)


def test_a_base_exception_or_system_exit_in_a_hook_is_named_with_its_stage():
    reg = load_registry(
        [("gen", RaisesBaseException()), ("quit", RaisesSystemExit())], entry_points=False
    )
    problems = {p.plugin: p for p in reg.problems}
    assert problems["gen"].stage == "hook register_losses"
    assert problems["gen"].message == "GeneratorExit: stopped from inside"
    assert problems["quit"].stage == "hook register_metrics"
    assert reg.canonical("loss", "mse") is not None  # the built-ins are all there


class RaisesKeyboardInterrupt:
    SPECFORGE_API = 1

    @hookimpl
    def register_losses(self, register):
        raise KeyboardInterrupt


def test_ctrl_c_while_a_plugin_loads_still_stops_specforge():
    with pytest.raises(KeyboardInterrupt):
        load_registry([("ctrl_c", RaisesKeyboardInterrupt())], entry_points=False)


def test_ctrl_c_during_a_plugin_import_exits_130(tmp_path):
    site = make_distribution(
        tmp_path, "specforge-ctrlc", {"ctrlc": "ctrlc"}, {"ctrlc.py": "raise KeyboardInterrupt\n"}
    )
    result = run(site, "validate", SPEC)
    assert result.returncode == 130 and "interrupted" in result.stderr


# ---------------------------------------------------------------- prints


@pytest.fixture
def chatty(tmp_path: Path) -> Path:
    return make_distribution(
        tmp_path, "specforge-chatty", {"chatty": "chatty_plugin"}, {"chatty_plugin.py": CHATTY}
    )


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "--format", "json", SPEC),
        ("summary", "--format", "json", SPEC),
        ("plugins", "--format", "json"),
        ("schema",),
    ],
    ids=["validate", "summary", "plugins", "schema"],
)
def test_a_printing_plugin_never_corrupts_json_output(chatty, args):
    result = run(chatty, *args)
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert "chatty:" not in result.stdout and "no newline" not in result.stdout
    assert "plugin 'chatty': chatty: hello from import" in result.stderr
    assert "chatty: raw bytes on file descriptor 1" in result.stderr
    assert "plugin 'chatty': chatty: registering node types" in result.stderr


class PrintsWhileRegistering:
    SPECFORGE_API = 1

    @hookimpl
    def register_datasets(self, register):
        print("loud: I am registering")


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "--format", "json", str(ROOT / SPEC)),
        ("summary", "--format", "json", str(ROOT / SPEC)),
        ("plugins", "--format", "json"),
        ("schema",),
    ],
    ids=["validate", "summary", "plugins", "schema"],
)
def test_a_plugin_printing_in_process_leaves_json_output_valid(cli_run, capsys, args):
    with plugins_installed(("loud", PrintsWhileRegistering()), entry_points=False):
        loaded = capsys.readouterr()  # the registry is built on entering the block
        result = cli_run(*args)
    assert loaded.out == "" and "plugin 'loud': loud: I am registering" in loaded.err
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)


# ---------------------------------------------------------------- plugins that hang


SLEEPY = "import time\ntime.sleep({seconds})\nSPECFORGE_API = 1\n"


def test_a_slow_plugin_is_named_while_specforge_waits(tmp_path):
    site = make_distribution(
        tmp_path, "specforge-sleepy", {"sleepy": "sleepy"}, {"sleepy.py": SLEEPY.format(seconds=2)}
    )
    result = run(site, "validate", SPEC, env={"SPECFORGE_PLUGIN_SLOW_AFTER": "0.5"})
    assert result.returncode == 0, result.stderr
    assert "specforge: still waiting for plugin 'sleepy' (import) after 0.5 s" in result.stderr
    assert "SPECFORGE_DISABLE_PLUGINS=sleepy" in result.stderr
    assert "specforge plugins --check" in result.stderr


def test_plugins_check_names_the_plugin_that_hangs_and_the_one_that_fails(tmp_path):
    site = tmp_path / "site"
    make_distribution(site, "specforge-good", {"good": "good_plugin"}, {"good_plugin.py": GOOD})
    make_distribution(
        site, "specforge-fatal", {"fatal": "fatal_plugin"}, {"fatal_plugin.py": BASE_EXCEPTION}
    )
    make_distribution(
        site, "specforge-sleepy", {"sleepy": "sleepy"}, {"sleepy.py": SLEEPY.format(seconds=600)}
    )
    started = time.perf_counter()
    result = run(site, "plugins", "--check", "--timeout", "5", timeout=60)
    assert time.perf_counter() - started < 50
    assert result.returncode == 2, result.stdout + result.stderr
    out = result.stdout
    assert "good (specforge-good 0.0.1): ok (" in out
    assert (
        "fatal (specforge-fatal 0.0.1): FAILED (import): Fatal: the licence server said no" in out
    )
    assert "sleepy (specforge-sleepy 0.0.1): HANGS: still loading after 5 s" in out
    (advice,) = [line for line in out.splitlines() if "SPECFORGE_DISABLE_PLUGINS=" in line]
    assert "fatal" in advice and "sleepy" in advice and "good" not in advice
    data = json.loads(run(site, "plugins", "--timeout", "5", "--format", "json", timeout=60).stdout)
    outcomes = {p["name"]: p["outcome"] for p in data["plugins"]}
    assert {k: outcomes[k] for k in ("good", "fatal", "sleepy")} == {
        "good": "ok",
        "fatal": "failed",
        "sleepy": "hangs",
    }


def test_plugins_check_exits_0_when_every_plugin_loads(tmp_path):
    site = make_distribution(
        tmp_path, "specforge-good", {"good": "good_plugin"}, {"good_plugin.py": GOOD}
    )
    result = run(site, "plugins", "--check", env={"SPECFORGE_DISABLE_PLUGINS": ""})
    assert "good (specforge-good 0.0.1): ok (" in result.stdout
    assert result.returncode == 0 or "FAILED" in result.stdout or "HANGS" in result.stdout
