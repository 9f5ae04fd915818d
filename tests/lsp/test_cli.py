"""``specforge lsp`` without pygls: a clear message and exit code 2, not a traceback."""

from __future__ import annotations

from click.testing import CliRunner

import specforge.lsp
from specforge.cli import cli


def test_lsp_without_pygls_exits_2_with_the_install_command(monkeypatch):
    monkeypatch.setattr(specforge.lsp, "missing_dependency", lambda: "pygls")
    result = CliRunner().invoke(cli, ["lsp"])
    assert result.exit_code == 2
    assert "error: the language server needs the 'pygls' package, which is not installed" in (
        result.output
    )
    assert "pip install 'specforge[lsp]'" in result.output


def test_lsp_is_listed_in_the_help():
    result = CliRunner().invoke(cli, ["--help"])
    assert "lsp" in result.output
