"""Shared fixtures: paths, an in-process CLI runner, and the list of diagnostic codes."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
INVALID = FIXTURES / "invalid"

#: The chapter's models and their exact parameter counts.
SEED_COUNTS = {
    "fashion_mnist_mlp": 266_610,
    "california_mlp": 3_471,
    "wide_deep": 3_479,
    "wide_deep_two_inputs": 3_416,
    "wide_deep_aux": 3_517,
}

#: Codes written as f-strings (``f"unknown-{kind}"``), expanded by file: the values
#: ``kind`` takes there. A new f-string code must be added here, or the tests fail.
FSTRING_CODES: dict[tuple[str, str], tuple[str, ...]] = {
    ("specforge/spec/check/structure.py", "unknown-{kind}"): (
        "unknown-activation",
        "unknown-initializer",
    ),
    ("specforge/spec/check/sections.py", "unknown-{kind}"): (
        "unknown-dataset",
        "unknown-preprocessor",
    ),
}

#: Names of the callables whose first argument is a diagnostic code.
_CODE_TAKERS = {
    "diagnostic",
    "Diagnostic",
    "_LoadError",
    "DataMismatch",
    "NodeWarning",
    "_OverrideError",
}
#: Methods that take a code only when their first argument looks like one
#: (``Reporter.add("unsupported-by-backend", ...)``, not ``seen.add(x)``).
_CODE_LIKE_TAKERS = {"add"}
_CODE_SHAPE = re.compile(r"^[a-z]+(-[a-z0-9]+)+$")


def invalid_cases() -> list[Path]:
    """The broken-spec fixtures: each tests/fixtures/invalid/NAME.{yaml,json} with a NAME.expected."""
    return sorted(p for p in INVALID.iterdir() if p.suffix in (".yaml", ".json"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize by data files, so new specs and fixtures are picked up by globbing."""
    if "spec_path" in metafunc.fixturenames:
        files = spec_files()
        metafunc.parametrize("spec_path", files, ids=[p.name for p in files])
    if "invalid_case" in metafunc.fixturenames:
        files = invalid_cases()
        metafunc.parametrize("invalid_case", files, ids=[p.name for p in files])


@pytest.fixture(autouse=True)
def _offline_data_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test downloads anything or touches the user's data cache.

    Downloads go to a closed port on 127.0.0.1 (a refused connection, which is
    not retried) and the cache to a fresh folder (created only if written to);
    tests of downloads point both at their own local server and folder.
    """
    monkeypatch.setenv("SPECFORGE_DATASETS_MIRROR", "http://127.0.0.1:9")
    home = tmp_path_factory.getbasetemp() / "specforge-data" / uuid.uuid4().hex
    monkeypatch.setenv("SPECFORGE_DATA_HOME", str(home))


@pytest.fixture(scope="session")
def seed_counts() -> dict[str, int]:
    return dict(SEED_COUNTS)


@pytest.fixture(scope="session")
def core_codes() -> dict[str, list[str]]:
    """Codes the loader, the spec models and the checker can emit."""
    spec = ROOT / "specforge" / "spec"
    return emitted_codes(
        [
            ROOT / "specforge" / "spec" / "load.py",
            *spec.glob("*.py"),
            # The data and train sections' codes have their fixtures in tests/training/.
            *(p for p in (spec / "check").glob("*.py") if p.name != "sections.py"),
        ]
    )


@pytest.fixture(scope="session")
def all_codes() -> dict[str, list[str]]:
    """Codes emitted anywhere in the package (CLI and section checks included)."""
    return emitted_codes(package_files())


@pytest.fixture(scope="session")
def run_specforge() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``python -m specforge ARGS`` in a fresh process (for what only a real process shows)."""
    return run_process


def spec_files() -> list[Path]:
    """Every spec in specs/ (YAML and JSON), so that new specs are tested too."""
    return sorted(p for p in SPECS.iterdir() if p.suffix in (".yaml", ".yml", ".json"))


def emitted_codes(files: Iterable[Path]) -> dict[str, list[str]]:
    """Every diagnostic code passed as the first argument of ``diagnostic(...)``,
    ``Diagnostic(...)`` or ``_LoadError(...)`` in ``files``: code -> ["file:line", ...]."""
    codes: dict[str, list[str]] = {}
    for path in files:
        rel = path.resolve().relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            arg = node.args[0]
            if name in _CODE_LIKE_TAKERS:
                if not (
                    isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and _CODE_SHAPE.match(arg.value)
                ):
                    continue
            elif name not in _CODE_TAKERS:
                continue
            where = f"{rel}:{node.lineno}"
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                codes.setdefault(arg.value, []).append(where)
            elif isinstance(arg, ast.JoinedStr):
                pattern = "".join(
                    v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
                    for v in arg.values
                )
                expansion = FSTRING_CODES.get((rel, pattern))
                if expansion is None:
                    raise AssertionError(
                        f"{where}: code f-string {pattern!r} has no expansion in tests/conftest.py FSTRING_CODES"
                    )
                for code in expansion:
                    codes.setdefault(code, []).append(where)
            # Anything else (a variable such as err.code) forwards a code made elsewhere.
    return codes


def package_files() -> list[Path]:
    return sorted(p for p in (ROOT / "specforge").rglob("*.py") if "__pycache__" not in p.parts)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def cli_run() -> Callable[..., CliResult]:
    """Run ``specforge ARGS`` in-process; returns exit code, stdout and stderr apart."""
    from specforge.cli import cli

    def run(*args: str, env: dict[str, str] | None = None) -> CliResult:
        runner = CliRunner()
        result = runner.invoke(cli, list(args), env=env, catch_exceptions=True)
        exc = result.exception if not isinstance(result.exception, SystemExit) else None
        return CliResult(result.exit_code, result.stdout, result.stderr, exc)

    return run


def run_process(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m specforge ARGS`` in a fresh process."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "specforge", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=full_env,
        timeout=120,
    )


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test from the repository root (so printed paths are 'specs/...')."""
    monkeypatch.chdir(ROOT)
    return ROOT
