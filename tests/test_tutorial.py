"""docs/tutorial.md tells the truth: its ``console`` blocks are run and their output compared.

Each ```` ```console ```` block is a shell session: ``$ command`` lines, each followed by
the output it prints (stdout and stderr as a terminal shows them). The blocks run in
order in one scratch folder (with ``specs/`` and ``examples/`` linked in), so a later
block can use a run directory an earlier one wrote. Before comparing, timings and run
directory timestamps are normalised, and so are the widths of aligned columns (the runs
listed depend on which blocks ran); a ``...`` line stands for any number of lines.

An HTML comment right before a block says how to treat it:
``<!-- tutorial-test: slow -->`` (Keras, run only with the slow tests),
``<!-- tutorial-test: skip REASON -->`` (a download, a long run, a server). A command
using an option the CLI lacks (``--set``, ``--resume``: being added) is skipped.

``python tests/test_tutorial.py`` prints every block's real output, to paste.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
LINKED = ("specs", "examples")


@dataclass
class Block:
    line: int
    marker: str  # "", "slow" or "skip ..."
    commands: list[tuple[str, list[str]]]  # (command, expected output lines)


def blocks(text: str) -> list[Block]:
    out = []
    pattern = re.compile(
        r"(?:<!-- tutorial-test: (?P<marker>[^>]*?) -->\n)?```console\n(?P<body>.*?)```", re.S
    )
    for m in pattern.finditer(text):
        commands: list[tuple[str, list[str]]] = []
        for line in m.group("body").splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            elif commands:
                commands[-1][1].append(line)
        out.append(Block(text[: m.start()].count("\n") + 1, m.group("marker") or "", commands))
    return out


_NORMALISE = [
    (re.compile(r" - \d+(\.\d+)?s$"), " - <t>s"),  # an epoch's time
    (re.compile(r" in \d+(\.\d+)? s\b"), " in <t> s"),  # the run's time
    (re.compile(r"(runs/[\w.]+)-\d{8}-\d{6}(-\d+)?"), r"\1-<time>"),
    (re.compile(r"(?<=\S)  +(?=\S)"), "  "),  # column alignment (a table's widths vary)
]


def normalise(line: str) -> str:
    for pattern, repl in _NORMALISE:
        line = pattern.sub(repl, line.rstrip())
    return line


def matches(expected: list[str], actual: list[str]) -> bool:
    """``expected`` equals ``actual`` line by line, a ``...`` line matching any lines."""
    regex = "".join(
        r"(?:[^\n]*\n)*?" if line == "..." else re.escape(normalise(line)) + r"\n"
        for line in expected
    )
    return re.fullmatch(regex, "".join(normalise(a) + "\n" for a in actual)) is not None


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("tutorial")
    for name in LINKED:
        (work / name).symlink_to(ROOT / name)
    bin_dir = work / ".bin"
    bin_dir.mkdir()
    script = bin_dir / "specforge"
    script.write_text(
        f"#!/bin/sh\nexec {sys.executable} -c "
        '\'import sys; from specforge.cli import main; sys.argv[0] = "specforge"; main()\' "$@"\n'
    )
    script.chmod(0o755)
    return work


def run(command: str, work: Path) -> list[str]:
    env = dict(os.environ)
    env["PATH"] = f"{work / '.bin'}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env["COLUMNS"] = "100"
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    proc = subprocess.run(
        ["bash", "-c", command],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    return [line for line in proc.stdout.splitlines() if not _TF_NOISE.match(line)]


#: TensorFlow's start-up log lines (C++ logging), which are not specforge's output.
_TF_NOISE = re.compile(
    r"^(WARNING: All log messages before absl|I0000 |W0000 |E0000 |To enable the following "
    r"instructions)"
)


def _missing_option(command: str, work: Path) -> str | None:
    for option in ("--set", "--resume"):
        if f" {option} " in f" {command} ":
            sub = command.split()[1]
            help_text = " ".join(run(f"specforge {sub} --help", work))
            if option not in help_text:
                return option
    return None


def _params() -> list:
    params = []
    for block in blocks(TUTORIAL.read_text(encoding="utf-8")):
        marks = []
        if block.marker == "slow":
            marks.append(pytest.mark.slow)
        elif block.marker.startswith("skip"):
            marks.append(pytest.mark.skip(reason=block.marker))
        params.append(pytest.param(block, id=f"line{block.line}", marks=marks))
    return params


def test_the_tutorial_has_console_blocks_and_every_skip_says_why():
    found = blocks(TUTORIAL.read_text(encoding="utf-8"))
    assert len(found) >= 10
    assert all(b.marker in ("", "slow") or len(b.marker.split()) > 1 for b in found)


@pytest.mark.parametrize("block", _params())
def test_a_console_block_prints_what_the_tutorial_says(block: Block, workdir: Path):
    for command, expected in block.commands:
        option = _missing_option(command, workdir)
        if option is not None:
            pytest.skip(f"the CLI has no {option} yet: {command}")
        actual = run(command, workdir)
        assert matches(expected, actual), (
            f"docs/tutorial.md line {block.line}: `{command}` printed\n"
            + "\n".join(actual)
            + "\n\nbut the tutorial says\n"
            + "\n".join(expected)
        )


def test_normalising_keeps_figures_and_drops_timings():
    assert normalise("epoch 1/15 - loss: 0.6453 - 2.1s") == "epoch 1/15 - loss: 0.6453 - <t>s"
    assert normalise("digits: trained 15 epochs on numpy in 1.2 s") == (
        "digits: trained 15 epochs on numpy in <t> s"
    )
    assert normalise("  run directory: runs/digits_mlp-20261125-123013") == (
        "  run directory: runs/digits_mlp-<time>"
    )
    assert normalise("run     status") == normalise("run  status") == "run  status"
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"]) and not matches(["a"], ["b"])


if __name__ == "__main__":  # print the real output of every block, to paste into the tutorial
    import tempfile

    work = Path(tempfile.mkdtemp())
    for name in LINKED:
        (work / name).symlink_to(ROOT / name)
    (work / ".bin").mkdir()
    script = work / ".bin" / "specforge"
    script.write_text(
        f"#!/bin/sh\nexec {sys.executable} -c "
        '\'import sys; from specforge.cli import main; sys.argv[0] = "specforge"; main()\' "$@"\n'
    )
    script.chmod(0o755)
    only = sys.argv[1:]
    for block in blocks(TUTORIAL.read_text(encoding="utf-8")):
        if block.marker.startswith("skip") or (only and str(block.line) not in only):
            continue
        print(f"--- line {block.line} {block.marker}")
        for command, _ in block.commands:
            print(f"$ {command}")
            print("\n".join(run(command, work)))
