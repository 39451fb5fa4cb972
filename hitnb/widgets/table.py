"""The experiment table: an ipywidgets view of :class:`~hitnb.widgets.model.RunTable`.

Column headers sort (click again to reverse), the filter box takes terms like
``lr<0.01 status=ok``, pages hold 20 runs, a run's key opens its detail (arguments,
metrics, files read and written, curves, result and figures on demand), and ticked runs
can be compared: their metric curves overlaid, or every run of the sweep in parameter
space. The table refreshes itself while a sweep stores new runs.
"""

from __future__ import annotations

import html
import os
import threading
import time
import weakref
from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets

from hitnb.core import events
from hitnb.core.files import shown
from hitnb.core.memo import MemoizedFunction, runs
from hitnb.core.run_files import UNKNOWN, digest_text, size_text
from hitnb.core.runs import Run
from hitnb.core.stores import current_store
from hitnb.names import display_name
from hitnb.store.local import Entry
from hitnb.widgets.compare import curves_figure, sweep_figure
from hitnb.widgets.model import RunTable

_REFRESH_SECONDS = 0.5


def _cell(value: Any, column: str = "") -> str:
    if column == "duration" and isinstance(value, int | float):
        text = _duration(float(value))
    elif isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = html.escape(str(value)) if value is not None else ""
    return f'<span style="white-space:nowrap">{text}</span>'


def _duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} \u00b5s"
    if seconds < 1:
        return f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


class ExperimentTable(widgets.VBox):  # type: ignore[misc]
    """Runs of one experiment (or of all experiments) in the notebook."""

    def __init__(
        self,
        function: str | MemoizedFunction[Any, Any] | None = None,
        *,
        store: str | os.PathLike[str] | None = None,
        page_size: int = 20,
    ) -> None:
        self.function = function.identity if isinstance(function, MemoizedFunction) else function
        self.store_location = store
        self.model = RunTable(page_size=page_size)
        self._runs: dict[str, Run] = {}
        self._last_refresh = 0.0
        self._lock = threading.Lock()
        self.title = widgets.HTML()
        self.filter_box = widgets.Text(
            placeholder="filter: lr<0.01 status=ok adam", continuous_update=False,
            layout=widgets.Layout(width="320px"),
        )  # fmt: skip
        self.previous = widgets.Button(icon="chevron-left", layout=widgets.Layout(width="36px"))
        self.next = widgets.Button(icon="chevron-right", layout=widgets.Layout(width="36px"))
        self.page_label = widgets.Label()
        self.grid = widgets.GridBox()
        self.metric = widgets.Dropdown(description="metric", layout=widgets.Layout(width="240px"))
        self.compare_button = widgets.Button(description="Compare ticked", icon="line-chart")
        self.sweep_button = widgets.Button(description="Sweep view", icon="th")
        self.plot = widgets.Output()
        self.detail = widgets.Output()
        self.filter_box.observe(self._on_filter, names="value")
        self.previous.on_click(lambda _: self._turn(-1))
        self.next.on_click(lambda _: self._turn(+1))
        self.compare_button.on_click(lambda _: self.compare())
        self.sweep_button.on_click(lambda _: self.sweep())
        super().__init__(
            [
                self.title,
                widgets.HBox([self.filter_box, self.previous, self.page_label, self.next]),
                self.grid,
                widgets.HBox([self.metric, self.compare_button, self.sweep_button]),
                self.plot,
                self.detail,
            ]
        )
        self.add_class("hitnb-experiment-table")
        self.refresh()
        self._forward = _weak_listener(self._on_stored)
        events.subscribe("stored", self._forward)

    # -- data ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the runs again from the store's index (no result is loaded)."""
        found = runs(self.function, experiments_only=True, store=self.store_location)
        self._runs = {r.key: r for r in found}
        self.model.replace_runs(found)
        metrics = self.model.metric_columns
        self.metric.options = metrics
        if metrics and self.metric.value not in metrics:
            self.metric.value = metrics[0]
        self._last_refresh = time.monotonic()
        self.render()

    def _on_stored(self, entry: Entry) -> None:
        wanted = entry.experiment and self.function in (None, entry.function)
        if wanted and time.monotonic() - self._last_refresh >= _REFRESH_SECONDS:
            with self._lock:
                self.refresh()

    # -- rendering -------------------------------------------------------------------------
    def render(self) -> None:
        model = self.model
        shown = model.visible()
        failed = sum(r["status"] != "ok" for r in model.rows)
        name = display_name(self.function) if self.function else "all experiments"
        self.title.value = (
            f"<b>{html.escape(name)}</b>: {len(model.rows)} runs"
            + (f", {failed} failed" if failed else "")
            + (f", {len(shown)} shown" if len(shown) != len(model.rows) else "")
            + (f", {len(model.selected)} ticked" if model.selected else "")
        )
        self.page_label.value = f"page {model.page + 1} of {model.pages}"
        columns = model.columns
        header: list[widgets.Widget] = [widgets.Label("")]
        for column in columns:
            arrow = ""
            if column == model.sort_column:
                arrow = " \u25bc" if model.descending else " \u25b2"
            button = widgets.Button(description=column + arrow, tooltip=f"sort by {column}")
            button.add_class("hitnb-sort")
            button.on_click(lambda _, c=column: self._sort(c))
            header.append(button)
        cells: list[widgets.Widget] = header
        for row in model.page_rows():
            tick = widgets.Checkbox(value=row["key"] in model.selected, indent=False)
            tick.observe(lambda change, k=row["key"]: self._tick(k, change), names="value")
            opener = widgets.Button(
                description=row["key"][:10],
                tooltip="show this run",
                layout=widgets.Layout(width="106px"),
            )
            opener.on_click(lambda _, k=row["key"]: self.show(k))
            cells += [tick, opener]
            cells += [widgets.HTML(_cell(row.get(c), c)) for c in columns[1:]]
        self.grid.children = cells
        self.grid.layout = widgets.Layout(
            grid_template_columns=(
                f"32px 110px 150px repeat({len(columns) - 2}, minmax(70px, auto))"
            ),
            grid_gap="2px 8px",
            align_items="center",
        )

    # -- what the user does -----------------------------------------------------------------
    def _on_filter(self, change: dict[str, Any]) -> None:
        self.model.set_filter(change["new"])
        self.render()

    def _sort(self, column: str) -> None:
        self.model.sort(column)
        self.render()

    def _turn(self, step: int) -> None:
        self.model.go_to(self.model.page + step)
        self.render()

    def _tick(self, key: str, change: dict[str, Any]) -> None:
        if change["new"] != (key in self.model.selected):
            self.model.toggle(key)
            self.render()

    def select(self, keys: list[str] | None = None) -> None:
        """Tick runs by key (default: every run the filter shows)."""
        wanted = keys if keys is not None else [r["key"] for r in self.model.visible()]
        for key in wanted:
            if key not in self.model.selected:
                self.model.toggle(key)
        self.render()

    def compare(self, metric: str | None = None) -> Any:
        """Plot the ticked runs' curves of ``metric`` (default: the metric dropdown's)."""
        figure = curves_figure(self._ticked(), self._metric(metric))
        self._show_plot(figure)
        return figure

    def sweep(self, metric: str | None = None) -> Any:
        """Plot every shown run in parameter space, coloured by ``metric``."""
        shown = [self._runs[r["key"]] for r in self.model.visible()]
        figure = sweep_figure(shown, self._metric(metric))
        self._show_plot(figure)
        return figure

    def _ticked(self) -> list[Run]:
        return [self._runs[k] for k in self.model.selected] or [
            self._runs[r["key"]] for r in self.model.page_rows()
        ]

    def _metric(self, metric: str | None) -> str:
        chosen = metric or self.metric.value
        if not chosen:
            raise ValueError("these runs have no metrics to plot; return a dict of numbers, or "
                             "call hitnb.log(name, value) in the experiment")  # fmt: skip
        if metric is not None:
            self.metric.value = metric
        return str(chosen)

    def _show_plot(self, figure: Any) -> None:
        show_in(self.plot, [figure])

    def show(self, key: str) -> None:
        """Open a run's detail: arguments, metrics, files read and written, curves; its result on
        demand."""
        run = self._runs[key]
        load = widgets.Button(description="Load result", icon="download")
        export = widgets.Button(description="Export notebook", icon="file-code-o")
        result = widgets.Output()
        load.on_click(lambda _: self._load_result(run, result))
        export.on_click(lambda _: self.export([run.key], result))
        curves = [curves_figure([run], name) for name in run.series]
        show_in(
            self.detail,
            [widgets.HTML(detail_html(run)), *curves, widgets.HBox([load, export]), result],
        )

    def export(self, keys: list[str] | None = None, into: widgets.Output | None = None) -> Any:
        """Export runs (default: the ticked ones) as a notebook; show a link to it."""
        from hitnb.exporting.notebook import default_path, export

        wanted = keys or list(self.model.selected)
        if not wanted:
            raise ValueError("tick the runs to export, or pass their keys")
        store = current_store(self.store_location)
        path = export(wanted, default_path(store, wanted), store=self.store_location)
        link = widgets.HTML(f'exported: <a href="{html.escape(str(path))}" '
                            f'target="_blank">{html.escape(str(path))}</a>')  # fmt: skip
        show_in(into or self.plot, [link], append=True)
        return path

    def _load_result(self, run: Run, into: widgets.Output) -> None:
        try:
            value = run.value
        except Exception as exc:  # a click has no cell to raise into: say it in the widget
            show_in(into, [], error=f"could not load run {run.key[:10]}: {exc}")
            return
        show_in(into, [value, *_figures_in(value)])

    def close(self) -> None:
        events.unsubscribe("stored", self._forward)
        super().close()


def show_in(
    into: widgets.Output, objects: Iterable[Any], *, append: bool = False, error: str = ""
) -> None:
    """Show ``objects`` in an Output widget by setting its outputs to their display data
    (what ``display`` would publish, captured in this process).

    Not ``with into: display(...)``: that routes the kernel's messages through the widget by
    message id, a client that mimics a frontend (nbclient) answers with state updates of its
    own while the cell runs, and under ipykernel 7 the cell's execute_reply could then be held
    back until a later request: the cell looked hung (under CPU load, about one cell in ten).
    Setting the state is one comm update, the same from a cell or a button click.
    """
    from IPython.display import display
    from IPython.utils.capture import capture_output

    with capture_output(display=True) as captured:  # in this process: no kernel message
        display(*objects)
    outputs: list[dict[str, Any]] = [
        {"output_type": "display_data", "data": o.data, "metadata": o.metadata}
        for o in captured.outputs
    ]
    if error:
        outputs.append({"output_type": "stream", "name": "stderr", "text": error + "\n"})
    into.outputs = (tuple(into.outputs) if append else ()) + tuple(outputs)


def _weak_listener(method: Any) -> Any:
    """A listener that calls ``method`` while its table lives and then unsubscribes itself,
    so a table the notebook dropped can be garbage collected."""
    ref = weakref.WeakMethod(method)

    def forward(entry: Entry) -> None:
        target = ref()
        if target is None:
            events.unsubscribe("stored", forward)
        else:
            target(entry)

    return forward


def _figures_in(value: Any) -> list[Any]:
    """plotly figures inside a result (a tuple, list or dict of values), not the result."""
    items = (
        value.values()
        if isinstance(value, dict)
        else value
        if isinstance(value, tuple | list)
        else ()
    )
    return [v for v in items if type(v).__module__.startswith("plotly")]


def detail_html(run: Run) -> str:
    """The detail of one run as an HTML fragment."""

    def table(mapping: dict[str, Any]) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(str(k))}</td><td>{_cell(v)}</td></tr>"
            for k, v in mapping.items()
        )
        return f"<table class='hitnb-detail'>{rows}</table>" if rows else "<i>none</i>"

    facts = {
        "key": run.key,
        "function": display_name(run.function),
        "created": run.created.strftime("%Y-%m-%d %H:%M:%S"),
        "duration": f"{run.duration:.3f} s",
        "status": run.status,
        "code version": run.code[:12],
        "origin": run.origin,
    }
    parts = [
        f"<h4>Run {html.escape(run.key[:12])}</h4>",
        table(facts),
        "<h5>Arguments</h5>",
        table(run.arguments),
        "<h5>Metrics</h5>",
        table(run.metrics),
    ]
    if run.files.read:
        parts += ["<h5>Files read</h5>", _files_table(
            (r.path, "folder (its listing)" if r.folder else size_text(r.size), r.digest)
            for r in run.files.read
        )]  # fmt: skip
    if run.files.written:
        parts += ["<h5>Files written</h5>", _files_table(
            (w.path, size_text(w.size), w.digest) for w in run.files.written
        )]  # fmt: skip
    if run.error:
        parts += ["<h5>Error</h5>", f"<pre>{html.escape(run.error)}</pre>"]
    return "".join(parts)


def _files_table(rows: Iterable[tuple[str, str, str]]) -> str:
    """Files as a table of path (as the user would write it), size and content digest."""
    body = "".join(
        f"<tr><td>{_cell(shown(path))}</td><td>{_cell(size)}</td>"
        f"<td>{_cell(digest_text(digest) if digest != UNKNOWN else '')}</td></tr>"
        for path, size, digest in rows
    )
    return f"<table class='hitnb-detail hitnb-files'>{body}</table>"


def open_table(
    function: str | MemoizedFunction[Any, Any] | None = None, **options: Any
) -> ExperimentTable:
    """The experiment table of ``function`` (name or object), or of all experiments."""
    if function is None and options.get("store") is None:
        current_store()  # fail early with a clear message if the store cannot be opened
    return ExperimentTable(function, **options)
