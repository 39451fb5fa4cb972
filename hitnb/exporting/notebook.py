"""Stored runs as notebooks that a colleague can open, read and run again.

One run gives a notebook with a header (what ran, when, where, with which parameters,
metrics and package versions), the imports the code needs, the source of every
notebook-defined function and class it reaches, the global values it read, and the call
itself with the run's stored output already shown. Several runs of one experiment give
one notebook that runs them all and ends with a comparison: the runs table and a plotly
plot. Inputs that have no exact literal form are loaded from the original store by key.
"""

from __future__ import annotations

import ast
import json
import keyword
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
from hitnb.core.files import ABSENT, STAT_ONLY
from hitnb.core.operations import resolve_key
from hitnb.core.recipe import Recipe, ValueSource
from hitnb.core.record import result_of
from hitnb.core.run_files import UNKNOWN, RunFiles, size_text
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
    force: bool = False,
    max_keys: int | None = None,
) -> Path:
    """Write stored runs (by key or key prefix) as a notebook at ``path``; return the path.

    Several keys must be runs of one function; they become one notebook with a comparison.
    An existing file is never replaced unless ``force``; ``max_keys`` bounds how many runs
    one notebook may hold (the server sets it).
    """
    st = current_store(store)
    wanted = [keys] if isinstance(keys, str) else list(keys)
    if not wanted:
        raise HitnbError("name at least one key to export (see `hitnb ls`)")
    if max_keys is not None and len(wanted) > max_keys:
        raise HitnbError(
            f"{len(wanted)} runs were asked for; one notebook holds at most {max_keys}: "
            "export fewer runs at a time"
        )
    target = _notebook_path(Path(path))
    if target.exists() and not force:
        raise NotebookExistsError(target)
    entries = [_entry(st, key) for key in wanted]
    functions = {e.function for e in entries}
    if len(functions) > 1:
        raise HitnbError(
            f"runs of one function can be exported together, these are of {sorted(functions)}; "
            "export them one by one"
        )
    notebook = single(st, entries[0]) if len(entries) == 1 else several(st, entries)
    written = _write(notebook, target, force=force)
    notes = [n for e in entries for n in Recipe.from_json(st.recipe(e.key)).notes]
    if notes:
        warnings.warn(
            f"exported to {written} with notes: " + "; ".join(dict.fromkeys(notes)),
            HitnbWarning,
            stacklevel=2,
        )
    return written


class NotebookExistsError(HitnbError, FileExistsError):
    """The notebook to write exists already; it is replaced only when asked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"{path} exists already and was left as it is; choose another path, or replace it "
            "with --force (force=True in Python)"
        )


def default_path(store: LocalStore, keys: list[str]) -> Path:
    """``train-a1b2c3d4.ipynb`` (one run) or ``train-6-runs.ipynb``, in the working folder;
    ``train-a1b2c3d4-2.ipynb`` and so on when that name is taken (nothing is replaced)."""
    entry = _entry(store, keys[0])
    name = re.sub(r"[^\w.-]+", "_", display_name(entry.function).replace(".", "_"))[:80]
    suffix = entry.key[:8] if len(keys) == 1 else f"{len(keys)}-runs"
    path = Path(f"{name}-{suffix}.ipynb")
    number = 1
    while path.exists():
        number += 1
        path = Path(f"{name}-{suffix}-{number}.ipynb")
    return path


def _notebook_path(path: Path) -> Path:
    path = path.expanduser()
    return path if path.suffix == ".ipynb" else path.with_suffix(".ipynb")


def _entry(store: LocalStore, key: str) -> Entry:
    entry = store.get(resolve_key(store, key))
    assert entry is not None
    return entry


def _write(notebook: nbformat.NotebookNode, path: Path, *, force: bool = False) -> Path:
    """Write the notebook whole (temp file, then a link or rename), never over an existing
    file unless ``force``: the link fails if the name was taken meanwhile."""
    path = _notebook_path(path)
    temp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            nbformat.write(notebook, fh)
        Path(temp).chmod(0o644 & ~_umask())
        if force:
            Path(temp).replace(path)
        else:
            try:
                os.link(temp, path)
            except FileExistsError:
                raise NotebookExistsError(path) from None
            Path(temp).unlink()
        temp = None
    except OSError as exc:
        raise HitnbError(
            f"cannot write the notebook to {path}: {exc.strerror or exc}; choose another path"
        ) from None
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- names and text that go into the notebook ---------------------------------------------------
def _ref(name: str) -> str:
    """``name`` in code: itself when it is an identifier, else ``globals()['...']`` (its
    repr), so a name that carries code (a crafted ``__name__``) is never run as code."""
    if name.isidentifier() and not keyword.iskeyword(name):
        return name
    return f"globals()[{name!r}]"


def _code(text: str) -> str:
    """``text`` as a markdown code span, whatever backticks it holds (its fence is longer
    than any run of them inside), on one line, with table pipes escaped."""
    text = " ".join(str(text).split()).replace("|", "\\|")
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~-])")


def _md(text: str) -> str:
    """Plain text in markdown: every character markdown or HTML would act on is escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _fenced(text: str) -> list[str]:
    """A fenced code block of ``text``, with a fence longer than any inside."""
    fence = "`" * max(3, max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    return [fence, text, fence]


def _call(recipe: Recipe) -> str:
    """The call of the recipe's function with its arguments by name, checked to be exactly
    that (a name, and names as arguments); anything else is rebuilt with :func:`_ref`."""
    function = recipe.function or ""
    names = list(recipe.arguments)
    try:
        tree = ast.parse(recipe.call or "", mode="eval").body
    except SyntaxError:
        tree = None
    if (
        isinstance(tree, ast.Call)
        and isinstance(tree.func, ast.Name)
        and tree.func.id == function
        and all(
            isinstance(a, ast.Name)
            or (isinstance(a, ast.Starred) and isinstance(a.value, ast.Name))
            for a in tree.args
        )
        and all(isinstance(k.value, ast.Name) for k in tree.keywords)
    ):
        return str(recipe.call)
    pairs = ", ".join(f"{n!r}: {_ref(n)}" for n in names)
    return f"{_ref(function)}(**{{{pairs}}})"


def _imports(lines: list[str]) -> str:
    """The recipe's import lines, each checked to be one import statement and nothing else."""
    kept = []
    for line in lines:
        try:
            body = ast.parse(line).body
        except SyntaxError:
            body = []
        if len(body) == 1 and isinstance(body[0], ast.Import | ast.ImportFrom):
            kept.append(line)
        else:
            kept.append(f"# not an import, left out: {line!r}")
    return "\n".join(kept)


# -- pieces ------------------------------------------------------------------------------------
def _source_of(how: ValueSource) -> str | None:
    """The expression that gives a value back, or None when it was not kept."""
    if how.literal is not None:
        return how.literal
    if how.key is not None:
        return f"hitnb.load({json.dumps(how.key)}, store=STORE)"
    return None


def _assignments(values: dict[str, ValueSource]) -> str:
    lines = []
    for name, how in values.items():
        source = _source_of(how)
        if source is not None:
            lines.append(f"{_ref(name)} = {source}")
        else:
            missing = " ".join((how.missing or "unknown").split())
            lines.append(f"{_ref(name)} = None  # not kept: {missing}; set it here")
    return "\n".join(lines)


def _uses_numpy(recipe: Recipe) -> bool:
    sources = (*recipe.values.values(), *recipe.arguments.values())
    return any("np.array(" in (how.literal or "") for how in sources)


def _table(mapping: dict[str, Any]) -> str:
    if not mapping:
        return "_none_"
    rows = "\n".join(
        f"| {_code(k)} | {_code(json.dumps(v, default=str))} |" for k, v in mapping.items()
    )
    return "| name | value |\n|---|---|\n" + rows


def _header(entry: Entry, recipe: Recipe, store: LocalStore) -> str:
    run = Run.from_entry(entry, store)
    packages = _packages(entry)
    title = display_name(entry.function)
    lines = [
        f"# {'Cell' if recipe.is_cell else 'Run of'} {_code(title)}",
        "",
        f"- **key**: {_code(entry.key)}",
        f"- **computed**: {run.created:%Y-%m-%d %H:%M:%S %Z} in {entry.duration:.3f} s"
        f"{' (failed)' if entry.status != 'ok' else ''}",
        f"- **origin**: {_md(entry.origin or 'unknown')}",
        f"- **code version**: {_code(entry.code[:12])}",
        f"- **Python** {_md(KeyParts.from_json(entry.parts).extras.get('python', PYTHON))}"
        + "".join(
            f", **{_md(name)}** {_md(version)}" for name, version in sorted(packages.items())
        ),
        f"- **store**: {_code(str(store.root))}",
        "",
        "## Parameters" if not recipe.is_cell else "## Inputs",
        "",
        _table(entry.params),
    ]
    if entry.metrics:
        lines += ["", "## Metrics", "", _table(entry.metrics)]
    run_files = RunFiles.from_parts(entry.parts)
    if run_files:
        lines += ["", "## Files", "", *_files_markdown(run_files)]
    if entry.error:
        lines += ["", "## Error", "", *_fenced(entry.error.strip())]
    notes = recipe.notes
    if notes:
        lines += ["", "## Notes", "", *(f"- {_md(note)}" for note in notes)]
    return "\n".join(lines)


def _files_markdown(run_files: RunFiles) -> list[str]:
    """The files a run read and wrote, as markdown tables."""
    header = ["| file | size | content (xxh3-128) |", "|---|---|---|"]
    lines = []
    if run_files.read:
        lines += ["Read (an input of the run):", "", *header]
        lines += [
            f"| {_code(r.path)} | {'folder' if r.folder else _size_read(r.size)} | "
            f"{_digest_markdown(r.digest, folder=r.folder)} |"
            for r in run_files.read
        ]
    if run_files.written:
        lines += ["", "Written (a hit puts them back):", "", *header]
        lines += [
            f"| {_code(w.path)} | {size_text(w.size)} | {_digest_markdown(w.digest)} |"
            for w in run_files.written
        ]
    return lines[1:] if lines[0] == "" else lines


def _size_read(size: int) -> str:
    return size_text(size) if size >= 0 else "-"  # (a file the run looked for, not there)


def _digest_markdown(digest: str, *, folder: bool = False) -> str:
    if folder:
        return "its listing"
    if digest == STAT_ONLY:
        return "compared by size and time only"
    if digest == ABSENT:
        return "not there"
    return _code(digest) if digest != UNKNOWN else ""


def _files_check(run_files: RunFiles) -> Any:
    """A cell that says whether the files the run read are the same here, or None when the
    run read none that can be checked."""
    reads = [r for r in run_files.read if r.digest != UNKNOWN]
    if not reads:
        return None
    listed = "".join(
        f"    FileRead({r.path!r}, size={r.size}, mtime_ns={r.mtime_ns}, digest={r.digest!r}"
        f"{', folder=True' if r.folder else ''}),\n"
        for r in reads
    )
    return new_code_cell(
        "# The files the run read, as it read them: where one differs, the calls below compute\n"
        "# from other data than the stored run did.\n"
        "from hitnb.core.files import FileRead\n"
        "from hitnb.core.run_files import RunFiles\n\n"
        f"changed = RunFiles(read=(\n{listed})).changed()\n"
        'print("; ".join(changed) if changed else "the files the run read are unchanged")'
    )


def _setup(recipe: Recipe, store: LocalStore) -> str:
    lines = ["%load_ext hitnb"] if recipe.is_cell else []
    lines += [
        "import hitnb",
        "",
        f"STORE = {str(store.root)!r}  # where kept inputs are loaded from",
    ]
    if _uses_numpy(recipe):
        lines.insert(len(lines) - 2, "import numpy as np")
    return "\n".join(lines)


def _code_cells(recipe: Recipe) -> list[nbformat.NotebookNode]:
    cells = []
    if recipe.imports:
        cells.append(new_code_cell(_imports(recipe.imports)))
    for definition in recipe.definitions:
        cells.append(new_code_cell(definition.source))
    if recipe.values:
        cells.append(new_code_cell(_assignments(recipe.values)))
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
        elif kind == "error":
            outputs.append(new_output("error", **payload))
        elif kind in ("result", "shown"):
            outputs.append(
                new_output(
                    "execute_result", data=payload, metadata=metadata or {}, execution_count=None
                )
            )
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


def _recipe(store: LocalStore, entry: Entry) -> Recipe:
    recipe = Recipe.from_json(store.recipe(entry.key))
    if not recipe.exportable:
        raise HitnbError(
            f"entry {entry.key[:12]} of {display_name(entry.function)} has no recipe to export "
            f"({'; '.join(recipe.notes) or 'it was stored by a hitnb without export'}); run the "
            "call again to store one"
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
    check = _files_check(RunFiles.from_parts(entry.parts))
    if check is not None:
        cells.append(check)
    cells += _code_cells(recipe)
    value = _stored_value(store, entry)
    if recipe.cell is not None:
        body = new_code_cell(recipe.cell)
        if value is not None:
            shown_last = value.has_result and not value.shows_result()  # an older record
            body.outputs = _event_outputs(value.events) + (
                result_outputs(value.result) if shown_last else []
            )
        cells.append(body)
    else:
        if recipe.arguments:
            cells.append(new_code_cell(_assignments(recipe.arguments)))
        call = new_code_cell(f"result = {_call(recipe)}\nresult")
        call.outputs = result_outputs(value)
        cells.append(call)
    return _notebook(cells, [entry.key], store, _packages(entry))


def several(store: LocalStore, entries: list[Entry]) -> Any:
    """One notebook for several runs of one experiment, ending with a comparison."""
    entries = sorted(entries, key=lambda e: e.created)
    newest = entries[-1]
    recipe = _recipe(store, newest)
    if recipe.is_cell:
        raise HitnbError("%%memo cells are exported one at a time")
    runs = [Run.from_entry(e, store) for e in entries]
    name = display_name(newest.function)
    codes = {e.code for e in entries}
    header = _header(newest, recipe, store).replace(
        f"# Run of {_code(name)}", f"# {len(entries)} runs of {_code(name)}"
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
        arguments = _recipe(store, entry).arguments
        calls.append(
            "{"
            + ", ".join(f"{n!r}: {_source_of(how) or 'None'}" for n, how in arguments.items())
            + "}"
        )
    function = _ref(recipe.function or "")
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
