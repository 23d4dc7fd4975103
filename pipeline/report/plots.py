"""The report's charts as plotly figures (plotly.graph_objects, validated by plotly), handed to the
page as JSON and drawn there by plotly.js, which the page carries inline (plotly's own bundle,
`plotly.offline.get_plotlyjs()`): hover, zoom and pan work offline and nothing is fetched.

Every function returns a plain dict {"data": [...], "layout": {...}} (Figure.to_plotly_json()).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import plotly.graph_objects as go

PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#72b7b2", "#eeca3b", "#9d755d", "#ff9da6")
LIMIT_COLOUR = "#d62728"
OTHER_COLOUR = "#bab0ac"
HEIGHT = 320


def _layout(title: str, height: int = HEIGHT, **extra) -> dict:
    # template "none" plus a few colours: plotly's own templates add ~7 KB of JSON to every figure.
    axis = dict(gridcolor="#e5e5e5", zerolinecolor="#cccccc", linecolor="#cccccc")
    for name in ("xaxis", "yaxis"):
        extra[name] = {**axis, **extra.get(name, {})}
    return dict(title=dict(text=title, font=dict(size=14)), height=height, margin=dict(l=60, r=20, t=40, b=50),
                template="none", plot_bgcolor="white", paper_bgcolor="white", font=dict(size=11),
                hovermode="closest", **extra)


def _json(fig: go.Figure) -> dict:
    return fig.to_plotly_json()


def bars(labels: Sequence[str], values: Sequence[float | None], title: str, horizontal: bool = True,
         value_name: str = "value") -> dict:
    labels = [str(l) for l in labels]
    values = [v or 0 for v in values]
    if horizontal:
        trace = go.Bar(x=values, y=labels, orientation="h", marker_color=PALETTE[0],
                       hovertemplate=f"%{{y}}: %{{x}} {value_name}<extra></extra>")
        height = max(160, 40 + 22 * len(labels))
        layout = _layout(title, height, yaxis=dict(autorange="reversed", automargin=True))
    else:
        trace = go.Bar(x=labels, y=values, marker_color=PALETTE[0],
                       hovertemplate=f"%{{x}}: %{{y}} {value_name}<extra></extra>")
        layout = _layout(title)
    return _json(go.Figure(trace, layout))


def grouped_bars(labels: Sequence[str], series: dict[str, Sequence[float | None]], title: str,
                 horizontal: bool = False, value_name: str = "") -> dict:
    fig = go.Figure(layout=_layout(title, max(HEIGHT, 40 + 30 * len(labels)) if horizontal else HEIGHT,
                                   barmode="group"))
    for i, (name, values) in enumerate(series.items()):
        values = [v if v is not None else 0 for v in values]
        if horizontal:
            fig.add_trace(go.Bar(name=name, x=values, y=[str(l) for l in labels], orientation="h",
                                 marker_color=PALETTE[i % len(PALETTE)],
                                 hovertemplate=f"{name} %{{y}}: %{{x}} {value_name}<extra></extra>"))
        else:
            fig.add_trace(go.Bar(name=name, x=[str(l) for l in labels], y=values, marker_color=PALETTE[i % len(PALETTE)],
                                 hovertemplate=f"{name} %{{x}}: %{{y}} {value_name}<extra></extra>"))
    if horizontal:
        fig.update_yaxes(autorange="reversed", automargin=True)
    return _json(fig)


def funnel(rows: list[dict]) -> dict:
    """Documents into and out of each stage."""
    stages = [r["stage"] for r in rows]
    fig = go.Figure(layout=_layout("documents per stage", barmode="group"))
    fig.add_trace(go.Bar(name="in", x=stages, y=[r.get("documents_in") or 0 for r in rows], marker_color="#9ecae1",
                         hovertemplate="%{x}: %{y} in<extra></extra>"))
    fig.add_trace(go.Bar(name="kept", x=stages, y=[r.get("documents_out") or 0 for r in rows],
                         marker_color=PALETTE[0], hovertemplate="%{x}: %{y} kept<extra></extra>"))
    fig.add_trace(go.Bar(name="dropped", x=stages, y=[r.get("dropped") or 0 for r in rows], marker_color=PALETTE[4],
                         hovertemplate="%{x}: %{y} dropped<extra></extra>"))
    return _json(fig)


def histogram(hist: dict[str, Any], title: str) -> dict:
    """Equal-width bins (report.json's histogram: edges, counts, log10) as bars."""
    edges, counts = hist.get("edges") or [], hist.get("counts") or []
    log = bool(hist.get("log10"))
    x, width, text = _bins(edges, log)
    fig = go.Figure(go.Bar(x=x, y=counts, width=width, marker_color=PALETTE[2], customdata=text,
                           hovertemplate="%{customdata}: %{y} documents<extra></extra>"),
                    _layout(title, xaxis=dict(title="log10(1 + value)" if log else "value"),
                            yaxis=dict(title="documents"), bargap=0.02))
    return _json(fig)


def score_histogram(dist: dict[str, Any], title: str | None = None, languages: Sequence[str] = ()) -> dict:
    """A score over every scored document: bars stacked by language group, each limit a vertical line
    (solid: the default; dashed: a language's own), labelled `min_x = v` or `max_x = v (lang)`."""
    column = dist["column"]
    log = bool(dist.get("log10"))
    edges = dist.get("edges") or []
    x, width, text = _bins(edges, log)
    fig = go.Figure(layout=_layout(title or column, barmode="stack", bargap=0.02,
                                   xaxis=dict(title=f"log10(1 + {column})" if log else column),
                                   yaxis=dict(title="documents"),
                                   legend=dict(orientation="h", y=-0.25)))
    colours = {}
    groups = dist.get("groups") or {}
    order = [g for g in languages if g in groups] + sorted(g for g in groups if g not in languages and g != "other")
    order += ["other"] if "other" in groups else []
    for i, group in enumerate(order):       # a language keeps its colour in every chart of the section
        counts = groups[group]
        colours[group] = OTHER_COLOUR if group == "other" else PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Bar(name=group, x=x, y=counts, width=width, customdata=text, marker_color=colours[group],
                             hovertemplate=f"{group} %{{customdata}}: %{{y}} documents<extra></extra>"))
    lo, hi = (x[0] - width[0] / 2, x[-1] + width[-1] / 2) if x else (None, None)
    for i, t in enumerate(t for t in dist.get("thresholds") or [] if t["value"] is not None):
        v = t["value"]
        pos = math.log10(1 + v) if log and v >= 0 else v
        own = t["lang"] != "default"
        colour = colours.get(t["lang"], LIMIT_COLOUR) if own else LIMIT_COLOUR
        label = f"{_field(t)} = {v:g}" + (f" ({t['lang']})" if own else "")
        y = 1.0 - 0.075 * (i % 6)            # labels stacked so that nearby limits stay readable
        slack = 1e-6 * max(1.0, abs(lo or 0), abs(hi or 0))      # the edges are rounded to 6 decimals
        if lo is None or not (lo - slack <= pos <= hi + slack) or (log and v < 0):
            side = "below" if lo is not None and pos < lo else "above"
            fig.add_annotation(text=f"{label}: off this range ({side})", xref="paper", yref="paper", x=1, y=y,
                               showarrow=False, xanchor="right", font=dict(color=colour, size=11))
            continue
        fig.add_shape(type="line", x0=pos, x1=pos, y0=0, y1=1, xref="x", yref="paper",
                      line=dict(color=colour, width=2, dash="dash" if own else "solid"))
        fig.add_annotation(text=label, x=pos, y=y, xref="x", yref="paper", showarrow=False, xanchor="left",
                           xshift=3, font=dict(color=colour, size=11), bgcolor="rgba(255,255,255,0.8)")
    return _json(fig)


def _field(t: dict) -> str:
    reason = t["reason"]
    for op in ("_min_", "_max_"):
        if op in reason:
            return op.strip("_") + "_" + reason.split(op, 1)[1]
    return reason


def _bins(edges: list[float], log: bool) -> tuple[list[float], list[float], list[str]]:
    if len(edges) < 2:
        return [], [], []
    pos = [math.log10(1 + e) if log else e for e in edges]
    x = [(a + b) / 2 for a, b in zip(pos, pos[1:])]
    width = [(b - a) for a, b in zip(pos, pos[1:])]
    text = [f"[{_g(a)}, {_g(b)})" for a, b in zip(edges, edges[1:])]
    return x, width, text


def _g(value: float) -> str:
    return f"{value:.4g}"
