"""Comparison plots of runs, with plotly.

- :func:`curves_figure`: a metric's logged series of selected runs, overlaid; runs that
  logged no series show their final value as a point at their last step.
- :func:`sweep_figure`: every run of a sweep, parameters against a chosen metric: parallel
  coordinates when there are two or more numeric parameters, else a scatter plot.
"""

from __future__ import annotations

from typing import Any

from hitnb.core.runs import Run


def run_label(run: Run, parameters: list[str] | None = None) -> str:
    """``lr=0.01, batch_size=32 (a1b2c3d4)``: what a legend says about a run."""
    names = parameters if parameters is not None else list(run.arguments)
    shown = ", ".join(f"{n}={run.arguments[n]}" for n in names[:4] if n in run.arguments)
    return f"{shown} ({run.key[:8]})" if shown else run.key[:8]


def curves_figure(runs: list[Run], metric: str) -> Any:
    """Overlaid curves of ``metric`` for ``runs``."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for run in runs:
        points = run.series.get(metric)
        if points:
            steps, values = zip(*points, strict=True)
            figure.add_trace(
                go.Scatter(x=steps, y=values, mode="lines+markers", name=run_label(run))
            )
        elif isinstance(run.metrics.get(metric), int | float):
            figure.add_trace(
                go.Scatter(x=[0], y=[run.metrics[metric]], mode="markers", name=run_label(run))
            )
    all_steps = [p[0] for r in runs for p in r.series.get(metric, [])]
    if all_steps and all(float(s).is_integer() for s in all_steps) and max(all_steps) <= 30:
        figure.update_xaxes(dtick=1)  # epochs are whole numbers
    figure.update_layout(
        title=f"{metric} of {len(runs)} runs",
        xaxis_title="step",
        yaxis_title=metric,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def _numeric(values: list[Any]) -> bool:
    return bool(values) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )


def sweep_figure(runs: list[Run], metric: str) -> Any:
    """All runs: their numeric parameters against ``metric``."""
    import plotly.graph_objects as go

    scored = [r for r in runs if isinstance(r.metrics.get(metric), int | float)]
    names = list(dict.fromkeys(n for r in scored for n in r.arguments))
    numeric = [n for n in names if _numeric([r.arguments.get(n) for r in scored])]
    scores = [r.metrics[metric] for r in scored]
    if len(numeric) >= 2:
        dimensions = [
            {"label": name, "values": [r.arguments[name] for r in scored]} for name in numeric
        ]
        dimensions.append({"label": metric, "values": scores})
        figure = go.Figure(
            go.Parcoords(
                line={"color": scores, "colorscale": "Viridis", "showscale": True},
                dimensions=dimensions,
            )
        )
    else:
        x_name = numeric[0] if numeric else (names[0] if names else "run")
        xs = [r.arguments.get(x_name, r.key[:8]) for r in scored]
        figure = go.Figure(
            go.Scatter(
                x=xs,
                y=scores,
                mode="markers",
                text=[run_label(r) for r in scored],
                marker={"size": 10, "color": scores, "colorscale": "Viridis"},
            )
        )
        figure.update_layout(xaxis_title=x_name, yaxis_title=metric)
    figure.update_layout(title=f"{metric} across {len(scored)} runs", template="plotly_white")
    return figure
