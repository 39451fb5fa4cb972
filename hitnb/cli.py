"""The ``hitnb`` command (also ``python -m hitnb``): look after a store from a terminal.

The verbs are the ``%hitnb`` magic's. Errors go to stderr with exit status 1 (2 for
a wrong command line); ``verify`` exits 1 when it finds problems. Long passes show a
progress bar on a terminal and stay quiet when piped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

import click

from hitnb import config
from hitnb._version import __version__
from hitnb.core import operations
from hitnb.core.run_files import RunFiles
from hitnb.core.stores import current_store
from hitnb.errors import HitnbError
from hitnb.names import display_name
from hitnb.store import maintenance
from hitnb.store.local import LocalStore


def _progress(label: str) -> maintenance.Progress:
    def wrap(items: list[Any]) -> Iterable[Any]:
        from tqdm import tqdm

        bar: Iterable[Any] = tqdm(
            items, desc=label, unit="entry", disable=not sys.stderr.isatty(), leave=False
        )
        return bar

    return wrap


def _store(ctx: click.Context) -> LocalStore:
    return current_store(ctx.obj.get("store"))


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


class _Group(click.Group):
    """Turns hitnb's own errors into one clear line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HitnbError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--store", type=click.Path(file_okay=False), help="the store folder to use")
@click.version_option(__version__, prog_name="hitnb")
@click.pass_context
def main(ctx: click.Context, store: str | None) -> None:
    """Look after hitnb's store: list, explain, verify, clean up."""
    ctx.obj = {"store": store}


@main.command("ls")
@click.argument("function", required=False)
@click.option("--experiments", is_flag=True, help="experiments only")
@click.option("--since", help="created within an age (2d, 12h) or since a date (2026-11-01)")
@click.option("--json", "as_json", is_flag=True, help="one JSON list, for scripts")
@click.pass_context
def ls(ctx: click.Context, function: str | None, experiments: bool, since: str | None,
       as_json: bool) -> None:  # fmt: skip
    """List stored entries, newest first."""
    start = operations.parse_since(since) if since else None
    if as_json:
        runs = operations.list_runs(_store(ctx), function, experiments=experiments, since=start)
        _emit_json([operations.run_record(r) for r in runs])
        return
    rows = operations.list_entries(_store(ctx), function, experiments=experiments, since=start)
    click.echo("\n".join(operations.format_runs(rows)) if rows else "no entries")


@main.command()
@click.argument("key")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, key: str, as_json: bool) -> None:
    """Everything stored about one entry (KEY or a unique prefix), except its value."""
    info = operations.show(_store(ctx), key)
    if as_json:
        _emit_json(info)
        return
    for name, value in info.items():
        if name == "files":
            click.echo("files:" if value["read"] or value["written"] else "files: none")
            for line in RunFiles.from_json(value).lines():
                click.echo(f"  {line}")
        elif isinstance(value, dict):
            click.echo(f"{name}:")
            for k, v in value.items():
                click.echo(f"  {k}: {v}")
        else:
            click.echo(f"{name}: {value}")


@main.command()
@click.argument("key")
@click.option("--against", help="compare with this entry (default: the newest sibling)")
@click.pass_context
def why(ctx: click.Context, key: str, against: str | None) -> None:
    """What made an entry's key differ from another entry of the same function."""
    for line in operations.why(_store(ctx), key, against).lines():
        click.echo(line)


@main.command()
@click.option("--max-size", help="evict least recently used entries down to this size (20GB)")
@click.option("--older-than", help="evict entries not used for this long (30d, 12h)")
@click.option("--include-experiments", is_flag=True, help="experiments may be evicted too")
@click.option("--dry-run", is_flag=True, help="say what would be removed, remove nothing")
@click.pass_context
def gc(ctx: click.Context, max_size: str | None, older_than: str | None,
       include_experiments: bool, dry_run: bool) -> None:  # fmt: skip
    """Evict entries by size or age, and remove leftovers of interrupted writes."""
    limit = config.parse_size(max_size) if max_size else None
    age = maintenance.parse_age(older_than) if older_than else None
    report = maintenance.gc(_store(ctx), max_size=limit, older_than=age,
                            include_experiments=include_experiments, dry_run=dry_run)  # fmt: skip
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {len(report.removed)} items, {operations.format_size(report.freed_bytes)}")


@main.command()
@click.option("--repair", is_flag=True, help="drop what is broken, rebuild what can be")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify(ctx: click.Context, repair: bool, as_json: bool) -> None:
    """Check every entry against its checksum (and repair with --repair)."""
    store = _store(ctx)
    if repair:
        report = maintenance.repair(store, _progress("repairing"))
    else:
        report = maintenance.verify(store, _progress("verifying"))
    if as_json:
        _emit_json(report.__dict__)
    else:
        click.echo(f"checked {report.checked} entries")
        for line in report.problems:
            click.echo(f"problem: {line}")
        for line in report.notes:
            click.echo(f"note: {line}")
        for line in report.fixed:
            click.echo(f"fixed: {line}")
        for line in report.removed:
            click.echo(f"removed: {line}")
        if report.ok and not report.fixed and not report.removed:
            click.echo("all good")
    if not report.ok:
        ctx.exit(1)


@main.command()
@click.argument("targets", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="every entry")
@click.option("--older-than", help="entries not used for this long (30d)")
@click.option("--keep-experiments", is_flag=True, help="never remove experiments")
@click.option("--yes", is_flag=True, help="do not ask before removing everything")
@click.pass_context
def clear(ctx: click.Context, targets: tuple[str, ...], everything: bool, older_than: str | None,
          keep_experiments: bool, yes: bool) -> None:  # fmt: skip
    """Remove the entries of FUNCTIONs or KEYs, all of them, or old ones."""
    if not (targets or everything or older_than):
        raise click.UsageError("name FUNCTIONs or KEYs, or give --all or --older-than")
    if everything and not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("--all removes every entry: add --yes to confirm")
        click.confirm(f"remove every entry of {_store(ctx).root}?", abort=True)
    age = maintenance.parse_age(older_than) if older_than else None
    result = operations.clear(
        _store(ctx),
        list(targets),
        everything=everything,
        older_than=age,
        include_experiments=not keep_experiments,
    )
    kept = f" (kept {result.kept_experiments} experiments)" if result.kept_experiments else ""
    click.echo(f"removed {len(result.removed)} entries{kept}")


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Entries, experiments and size, in all and by function."""
    info = maintenance.store_stats(_store(ctx))
    if as_json:
        _emit_json(info)
        return
    click.echo(
        f"{info['store']}: {info['entries']} entries, {info['experiments']} experiments, "
        f"{operations.format_size(int(info['bytes']))}"  # type: ignore[call-overload]
    )
    if info["unindexed"]:
        click.echo(f"  and {info['unindexed']} entries not indexed yet (`hitnb gc` indexes them)")
    for row in info["functions"]:  # type: ignore[attr-defined]
        click.echo(
            f"  {display_name(row['function'])[:40]:40s} {row['entries']:6d} entries"
            f"  {operations.format_size(row['bytes']):>9s}"
        )


@main.command()
@click.argument("keys", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="the notebook to write")
@click.option("--force", is_flag=True, help="replace the notebook if it exists")
@click.pass_context
def export(ctx: click.Context, keys: tuple[str, ...], output: str | None, force: bool) -> None:
    """Write runs (KEYs or prefixes) as a notebook that repeats them; several runs of one
    experiment become one notebook with a comparison. An existing notebook is replaced
    only with --force; without -o, a free name is chosen."""
    import warnings

    from hitnb.exporting.notebook import default_path
    from hitnb.exporting.notebook import export as write

    store = _store(ctx)
    target = output or default_path(store, list(keys))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = write(list(keys), target, store=ctx.obj.get("store"), force=force)
    for warning in caught:
        click.echo(f"note: {warning.message}", err=True)
    click.echo(str(path))


@main.command()
@click.pass_context
def push(ctx: click.Context) -> None:
    """Upload to the shared store what was stored here while it was unreachable."""
    report = maintenance.push(_store(ctx), _progress("uploading"))
    click.echo(f"uploaded {len(report.fixed)} entries")
    for line in report.problems:
        click.echo(f"problem: {line}", err=True)
    if not report.ok:
        ctx.exit(1)


@main.command()
@click.argument("function", required=False)
@click.option("--experiments", is_flag=True, help="experiments only")
@click.pass_context
def pull(ctx: click.Context, function: str | None, experiments: bool) -> None:
    """Fetch the shared store's entries (of FUNCTION) to work offline."""
    report = maintenance.pull(_store(ctx), function, experiments=experiments,
                              progress=_progress("downloading"))  # fmt: skip
    click.echo(f"pulled {len(report.fixed)} entries")
    for line in report.problems:
        click.echo(f"problem: {line}", err=True)
    if not report.ok:
        ctx.exit(1)


@main.group("config")
def config_group() -> None:
    """Show and change settings (written to the user config file)."""


@config_group.command("list")
def config_list() -> None:
    """Every setting, its value and where the value comes from."""
    values = config.settings()
    sources = config.sources()
    for name in config.NAMES:
        click.echo(f"{name:20s} {getattr(values, name)!s:30s} ({sources[name]})")
    click.echo(f"{'(store folder)':20s} {config.store_path()}")


@config_group.command("get")
@click.argument("name")
def config_get(name: str) -> None:
    """One setting's value."""
    if name not in config.NAMES:
        raise click.BadParameter(f"unknown setting; settings: {', '.join(config.NAMES)}")
    click.echo(str(getattr(config.settings(), name)))


@config_group.command("set")
@click.argument("name")
@click.argument("value")
def config_set(name: str, value: str) -> None:
    """Set a setting in the user config file."""
    path = config.write_user_setting(name, value)
    click.echo(f"{name} = {value} ({path})")


@config_group.command("unset")
@click.argument("name")
def config_unset(name: str) -> None:
    """Remove a setting from the user config file."""
    path = config.write_user_setting(name, None)
    click.echo(f"{name} unset ({path})")


if __name__ == "__main__":  # pragma: no cover
    main()
