"""``specforge plugins``: what is installed, what each plugin adds, and what failed."""

from __future__ import annotations

import json
from typing import Any

import click

from . import cli
from .common import FORMATS


def plugins_data(*, debug: bool = False) -> dict[str, Any]:
    """Everything ``specforge plugins --format json`` prints.

    ``plugins``: each loaded plugin (built-ins first, then third-party ones in
    entry-point name order) with its distribution, version and what it adds,
    by kind (``node_type``, ``backend``, ``dataset``, ``lowerings[keras]``...);
    ``failed``: each problem, with the plugin's name, the stage that failed and
    the reason (``traceback`` too with ``--debug``); ``disabled``: third-party
    plugins skipped on purpose.
    """
    from .. import __version__
    from ..plugin import API_VERSION
    from ..registry import DISABLE_ENV, get_registry

    reg = get_registry()
    return {
        "specforge": __version__,
        "api_version": API_VERSION,
        "plugins": [
            {
                "name": p.name,
                "distribution": p.distribution,
                "version": p.version,
                "builtin": p.builtin,
                "in_process": p.in_process,
                "provides": {k: sorted(v) for k, v in sorted(p.provides.items())},
            }
            for p in reg.plugins
        ],
        "failed": [p.to_dict(debug=debug) for p in reg.problems],
        "disabled": {
            "all_third_party": reg.third_party_disabled,
            "plugins": list(reg.disabled),
            "how": f"--no-plugins or {DISABLE_ENV}",
        },
    }


def _origin(p: dict[str, Any]) -> str:
    if p["builtin"]:
        return f"built-in, specforge {p['version']}"
    if p["in_process"]:
        return "registered in-process, not installed"
    return f"{p['distribution']} {p['version']}"


@cli.command("plugins")
@click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help="Output format."
)
@click.option(
    "--check",
    is_flag=True,
    help="Load each installed plugin in a process of its own, with a timeout, and report "
    "those that fail or hang (exit 2 if any does).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds each plugin may take with --check [default: 10]; implies --check.",
)
@click.pass_context
def plugins_command(ctx: click.Context, fmt: str, check: bool, timeout: float | None) -> None:
    """List loaded plugins (built-in and third-party), what each adds, and failures.

    Exit code 0 even when a plugin failed: the failures are part of the listing.
    With --check, each installed plugin is loaded alone in a child process (so
    one that hangs cannot hang this command): exit 0 if all load, 2 if one
    fails or hangs.
    """
    if check or timeout is not None:
        _check(fmt, 10.0 if timeout is None else timeout)
        return
    debug = bool((ctx.obj or {}).get("debug"))
    data = plugins_data(debug=debug)
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
        return
    for p in data["plugins"]:
        click.echo(f"{p['name']} ({_origin(p)})")
        for kind, names in p["provides"].items():
            click.echo(f"  {kind}: {', '.join(names)}")
        if not p["provides"]:
            click.echo("  (adds nothing)")
    disabled = data["disabled"]
    if disabled["all_third_party"]:
        click.echo("")
        click.echo(f"third-party plugins are disabled ({disabled['how']})")
    elif disabled["plugins"]:
        click.echo("")
        click.echo(f"disabled ({disabled['how']}): {', '.join(disabled['plugins'])}")
    if data["failed"]:
        click.echo("")
        click.echo("failed:")
        from ..registry import get_registry

        for problem in get_registry().problems:
            click.echo(f"  {problem.render()}")
            if problem.lost:
                lost = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in problem.lost)
                click.echo(f"    not available: {lost}")
            if debug and problem.traceback:
                click.echo("    " + problem.traceback.rstrip().replace("\n", "\n    "))
        if not debug:
            click.echo("  (rerun as `specforge --debug plugins` for tracebacks)")


def _check(fmt: str, timeout: float) -> None:
    from ..plugin_check import check_plugins
    from ..registry import DISABLE_ENV

    results = check_plugins(timeout)
    bad = [r for r in results if r.outcome != "ok"]
    if fmt == "json":
        click.echo(
            json.dumps({"timeout_s": timeout, "plugins": [r.to_dict() for r in results]}, indent=2)
        )
    else:
        click.echo(
            f"checked {len(results)} installed plugin{'s' * (len(results) != 1)}, "
            f"each alone in a process of its own (timeout {timeout:g} s):"
        )
        for r in results:
            origin = f"{r.distribution} {r.version}"
            if r.outcome == "ok":
                state = f"ok ({r.seconds:.2f} s)"
            elif r.outcome == "hangs":
                state = f"HANGS: still loading after {timeout:g} s"
            else:
                state = f"FAILED ({r.stage}): {r.message}"
            off = " [disabled]" if r.disabled else ""
            click.echo(f"  {r.name} ({origin}){off}: {state}")
        if bad:
            names = ",".join(r.name for r in bad)
            click.echo(
                f"  help: turn them off with {DISABLE_ENV}={names} (or every third-party "
                "plugin with --no-plugins), and tell their authors"
            )
    if bad:
        raise click.exceptions.Exit(2)
