"""Stored runs as notebooks that a colleague can open, read and run again.

One run gives a notebook with a header (what ran, when, where, with which parameters,
metrics and package versions), the imports the code needs, the source of every
notebook-defined function and class it reaches, the global values it read, and the call
itself with the run's stored output already shown. Several runs of one experiment give
one notebook that runs them all and ends with a comparison: the runs table and a plotly
plot. Inputs that have no exact literal form are loaded from the original store by key.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from hitnb._version import __version__
from hitnb.core.operations import resolve_key
from hitnb.core.record import result_of
from hitnb.core.runs import Run
from hitnb.core.stores import current_store
from hitnb.errors import HitnbError, HitnbWarning
from hitnb.hashing.keys import PYTHON, KeyParts
from hitnb.names import display_name
from hitnb.store.local import Entry, LocalStore

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
PLOTLY_JSON = "application/vnd.plotly.v1+json"


def export(
    keys: str | Sequence[str],
    path: str | os.PathLike[str],
    *,
    store: str | os.PathLike[str] | None = None,
) -> Path:
    """Write stored runs (by key or key prefix) as a notebook at ``path``; return the path.

    Several keys must be runs of one function; they become one notebook with a comparison.
    """
    st = current_store(store)
    wanted = [keys] if isinstance(keys, str) else list(keys)
    if not wanted:
        raise HitnbError("name at least one key to export (see `hitnb ls`)")
    entries = [_entry(st, key) for key in wanted]
    functions = {e.function for e in entries}
    if len(functions) > 1:
        raise HitnbError(
            f"runs of one function can be exported together, these are of {sorted(functions)}; "
            "export them one by one"
        )
    notebook = single(st, entries[0]) if len(entries) == 1 else several(st, entries)
    written = _write(notebook, Path(path))
    notes = [n for e in entries for n in (st.recipe(e.key) or {}).get("notes", [])]
    if notes:
        warnings.warn(
            f"exported to {written} with notes: " + "; ".join(dict.fromkeys(notes)),
            HitnbWarning,
            stacklevel=2,
        )
    return written


def default_path(store: LocalStore, keys: list[str]) -> Path:
    """``train-a1b2c3d4.ipynb`` (one run) or ``train-6-runs.ipynb``, in the working folder."""
    entry = _entry(store, keys[0])
    name = re.sub(r"[^\w.-]+", "_", display_name(entry.function).replace(".", "_"))[:80]
    suffix = entry.key[:8] if len(keys) == 1 else f"{len(keys)}-runs"
    return Path(f"{name}-{suffix}.ipynb")


def _entry(store: LocalStore, key: str) -> Entry:
    entry = store.get(resolve_key(store, key))
    assert entry is not None
    return entry


def _write(notebook: nbformat.NotebookNode, path: Path) -> Path:
    path = path.expanduser()
    if path.suffix != ".ipynb":
        path = path.with_suffix(".ipynb")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            nbformat.write(notebook, fh)
        Path(temp).replace(path)
    except OSError as exc:
        raise HitnbError(
            f"cannot write the notebook to {path}: {exc.strerror or exc}; choose another path"
        ) from None
    return path


# -- pieces ------------------------------------------------------------------------------------
def _assignments(values: dict[str, dict[str, str]]) -> str:
    lines = []
    for name, how in values.items():
        if "literal" in how:
            lines.append(f"{name} = {how['literal']}")
        elif "key" in how:
            lines.append(f'{name} = hitnb.load("{how["key"]}", store=STORE)')
        else:
            lines.append(f"{name} = None  # not kept: {how.get('missing', 'unknown')}; set it here")
    return "\n".join(lines)


def _uses_numpy(recipe: dict[str, Any]) -> bool:
    texts = [v.get("literal", "") for v in (*recipe.get("values", {}).values(),
                                             *recipe.get("arguments", {}).values())]  # fmt: skip
    return any("np.array(" in t for t in texts)


def _table(mapping: dict[str, Any]) -> str:
    if not mapping:
        return "_none_"
    rows = "\n".join(f"| `{k}` | {json.dumps(v, default=str)} |" for k, v in mapping.items())
    return "| name | value |\n|---|---|\n" + rows


def _header(entry: Entry, recipe: dict[str, Any], store: LocalStore) -> str:
    run = Run.from_entry(entry, store)
    packages = _packages(entry)
    title = display_name(entry.function)
    lines = [
        f"# {'Cell' if 'cell' in recipe else 'Run of'} `{title}`",
        "",
        f"- **key**: `{entry.key}`",
        f"- **computed**: {run.created:%Y-%m-%d %H:%M:%S %Z} in {entry.duration:.3f} s"
        f"{' (failed)' if entry.status != 'ok' else ''}",
        f"- **origin**: {entry.origin or 'unknown'}",
        f"- **code version**: `{entry.code[:12]}`",
        f"- **Python** {KeyParts.from_json(entry.parts).extras.get('python', PYTHON)}"
        + "".join(f", **{name}** {version}" for name, version in sorted(packages.items())),
        f"- **store**: `{store.root}`",
        "",
        "## Parameters" if "cell" not in recipe else "## Inputs",
        "",
        _table(entry.params),
    ]
    if entry.metrics:
        lines += ["", "## Metrics", "", _table(entry.metrics)]
    if entry.error:
        lines += ["", "## Error", "", "```", entry.error.strip(), "```"]
    notes = recipe.get("notes", [])
    if notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in notes)]
    return "\n".join(lines)


def _setup(recipe: dict[str, Any], store: LocalStore) -> str:
    lines = ["%load_ext hitnb"] if "cell" in recipe else []
    lines += [
        "import hitnb",
        "",
        f"STORE = {str(store.root)!r}  # where kept inputs are loaded from",
    ]
    if _uses_numpy(recipe):
        lines.insert(len(lines) - 2, "import numpy as np")
    return "\n".join(lines)


def _code_cells(recipe: dict[str, Any]) -> list[nbformat.NotebookNode]:
    cells = []
    if recipe.get("imports"):
        cells.append(new_code_cell("\n".join(recipe["imports"])))
    for definition in recipe.get("definitions", []):
        cells.append(new_code_cell(definition["source"]))
    if recipe.get("values"):
        cells.append(new_code_cell(_assignments(recipe["values"])))
    return cells


def result_outputs(value: Any) -> list[nbformat.NotebookNode]:
    """How a result shows in a notebook, as stored outputs of the cell that computes it."""
    if value is None:
        return []
    if type(value).__module__.startswith("plotly"):
        data = {PLOTLY_JSON: json.loads(value.to_json()), "text/plain": repr(value)[:2000]}
        return [new_output("execute_result", data=data, execution_count=None)]
    from IPython.core.formatters import DisplayFormatter

    data, metadata = DisplayFormatter().format(value)
    return [new_output("execute_result", data=data, metadata=metadata, execution_count=None)]


def _event_outputs(events: list[Any]) -> list[nbformat.NotebookNode]:
    outputs = []
    for kind, payload, metadata in events:
        if kind in ("stdout", "stderr"):
            outputs.append(new_output("stream", name=kind, text=payload))
        elif kind == "display":
            outputs.append(new_output("display_data", data=payload, metadata=metadata or {}))
    return outputs


def _notebook(
    cells: list[Any], keys: list[str], store: LocalStore, packages: dict[str, str]
) -> Any:
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": KERNELSPEC,
            "language_info": {"name": "python"},
            "hitnb": {
                "keys": keys,
                "store": str(store.root),
                "hitnb": __version__,
                "python": PYTHON,
                "packages": packages,
            },
        },
    )


def _packages(entry: Entry) -> dict[str, str]:
    return KeyParts.from_json(entry.parts).packages()


def _recipe(store: LocalStore, entry: Entry) -> dict[str, Any]:
    recipe = store.recipe(entry.key)
    if not recipe or ("call" not in recipe and "cell" not in recipe):
        notes = (recipe or {}).get("notes", [])
        raise HitnbError(
            f"entry {entry.key[:12]} of {display_name(entry.function)} has no recipe to export "
            f"({'; '.join(notes) or 'it was stored by a hitnb without export'}); run the call "
            "again to store one"
        )
    return recipe


def _stored_value(store: LocalStore, entry: Entry) -> Any:
    if entry.status != "ok":
        return None
    try:
        return result_of(store.load(entry))
    except HitnbError:
        return None


# -- notebooks ------------------------------------------------------------------------------
def single(store: LocalStore, entry: Entry) -> Any:
    """The notebook of one run or one ``%%memo`` cell."""
    recipe = _recipe(store, entry)
    cells = [new_markdown_cell(_header(entry, recipe, store)), new_code_cell(_setup(recipe, store))]
    cells += _code_cells(recipe)
    value = _stored_value(store, entry)
    if "cell" in recipe:
        body = new_code_cell(recipe["cell"])
        if value is not None:
            body.outputs = _event_outputs(value.events) + (
                result_outputs(value.result) if value.has_result else []
            )
        cells.append(body)
    else:
        if recipe["arguments"]:
            cells.append(new_code_cell(_assignments(recipe["arguments"])))
        call = new_code_cell(f"result = {recipe['call']}\nresult")
        call.outputs = result_outputs(value)
        cells.append(call)
    return _notebook(cells, [entry.key], store, _packages(entry))


def several(store: LocalStore, entries: list[Entry]) -> Any:
    """One notebook for several runs of one experiment, ending with a comparison."""
    entries = sorted(entries, key=lambda e: e.created)
    newest = entries[-1]
    recipe = _recipe(store, newest)
    if "cell" in recipe:
        raise HitnbError("%%memo cells are exported one at a time")
    runs = [Run.from_entry(e, store) for e in entries]
    name = display_name(newest.function)
    codes = {e.code for e in entries}
    header = _header(newest, recipe, store).replace(
        f"# Run of `{name}`", f"# {len(entries)} runs of `{name}`"
    )
    if len(codes) > 1:
        header += (
            f"\n\n> These runs used {len(codes)} code versions; this notebook has the newest "
            "one, so the older runs compute again."
        )
    cells = [new_markdown_cell(header), new_code_cell(_setup(recipe, store))]
    cells += _code_cells(recipe)
    calls = []
    for entry in entries:
        arguments = _recipe(store, entry)["arguments"]
        calls.append("dict(" + ", ".join(
            f"{n}={how['literal']}" if "literal" in how else
            f'{n}=hitnb.load("{how["key"]}", store=STORE)' if "key" in how else f"{n}=None"
            for n, how in arguments.items()) + ")")  # fmt: skip
    function = recipe["function"]
    cells.append(
        new_code_cell(
            "runs = [\n" + "".join(f"    {c},\n" for c in calls) + "]\n"
            f"results = [{function}(**arguments) for arguments in runs]"
        )
    )
    cells.append(new_markdown_cell("## Comparison"))
    table = new_code_cell(f"hitnb.experiments({function})")
    table.outputs = result_outputs(_frame(runs))
    cells.append(table)
    metric = next((m for r in runs for m in r.metrics), None)
    if metric is not None:
        from hitnb.widgets.compare import curves_figure

        plot = new_code_cell(
            "from hitnb.widgets.compare import curves_figure\n\n"
            f"curves_figure({function}.runs(), {metric!r})"
        )
        plot.outputs = result_outputs(curves_figure(runs, metric))
        cells.append(plot)
    return _notebook(cells, [e.key for e in entries], store, _packages(newest))


def _frame(runs: list[Run]) -> Any:
    from hitnb.core.metrics import experiments_frame

    return experiments_frame(runs)
