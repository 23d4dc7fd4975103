"""The run report rendered: a self-contained index.html, report.json, a terminal summary.

build_report() (build_spark.py) gathers the report; render_html() draws the page with inline
SVG charts (no external files, scripts or fonts: nothing is fetched when it is viewed);
summary() and compare() are plain text. The keys of report.json are build_spark.py's.
"""
from __future__ import annotations

import html
from typing import Any

SECTIONS = ("funnel", "languages", "sources", "domains", "dedup", "histograms", "tokenize", "mix")


# --- text -----------------------------------------------------------------------------------------

def summary(report: dict[str, Any]) -> str:
    lines = [f"=== report: {report['run']} ==="]
    for row in report["funnel"]:
        reasons = ", ".join(f"{k} {v}" for k, v in list(row["dropped_by_reason"].items())[:4])
        lines.append(f"{row['stage']:>9}: {row['documents_in']} -> {row['documents_out']} docs"
                     + (f" ({reasons})" if reasons else "")
                     + (f", {row['tokens_out']} tokens" if row.get("tokens_out") else ""))
    if report["languages"]:
        lines.append("languages: " + ", ".join(f"{r['lang']} {100 * r['token_share']:.1f}%"
                                               for r in report["languages"][:10]) + " (of tokens)")
    for split, info in report["tokenize"]["splits"].items():
        lines.append(f"{split}: {info['tokens']} tokens in {len(info['shards'])} shards")
    return "\n".join(lines)


def compare(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Two reports side by side: funnel, languages and token totals, with the change."""
    def fmt(v):
        return "-" if v is None else str(v)

    lines = [f"{'':<28} {'A':>14} {'B':>14} {'B-A':>10}", f"{'run':<28} {a['run']:>14} {b['run']:>14}"]
    funnel_a = {r["stage"]: r for r in a["funnel"]}
    funnel_b = {r["stage"]: r for r in b["funnel"]}
    for stage in list(dict.fromkeys(list(funnel_a) + list(funnel_b))):
        for key in ("documents_out", "chars_out"):
            va, vb = (funnel_a.get(stage) or {}).get(key), (funnel_b.get(stage) or {}).get(key)
            delta = vb - va if isinstance(va, int) and isinstance(vb, int) else None
            lines.append(f"{stage + ' ' + key:<28} {fmt(va):>14} {fmt(vb):>14} {fmt(delta):>10}")
    lang_a = {r["lang"]: r for r in a["languages"]}
    lang_b = {r["lang"]: r for r in b["languages"]}
    for lang in sorted(set(lang_a) | set(lang_b)):
        va, vb = (lang_a.get(lang) or {}).get("token_share"), (lang_b.get(lang) or {}).get("token_share")
        delta = round(vb - va, 4) if va is not None and vb is not None else None
        lines.append(f"{'lang ' + lang + ' token_share':<28} {fmt(va):>14} {fmt(vb):>14} {fmt(delta):>10}")
    for split in ("train", "valid"):
        va = (a["tokenize"]["splits"].get(split) or {}).get("tokens")
        vb = (b["tokenize"]["splits"].get(split) or {}).get("tokens")
        delta = vb - va if va is not None and vb is not None else None
        lines.append(f"{split + ' tokens':<28} {fmt(va):>14} {fmt(vb):>14} {fmt(delta):>10}")
    return "\n".join(lines)


# --- HTML -----------------------------------------------------------------------------------------

def bar_svg(labels: list[str], values: list[float], title: str, width: int = 640, bar_h: int = 16) -> str:
    """A horizontal bar chart as inline SVG (labels left, values right)."""
    top = max([v for v in values if v is not None] or [0]) or 1
    height = 24 + bar_h * len(values) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{html.escape(title)}"><text x="4" y="16" font-size="13" font-weight="bold">'
             f'{html.escape(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = 24 + i * bar_h
        w = int((width - 260) * (value or 0) / top)
        parts.append(f'<text x="4" y="{y + bar_h - 4}" font-size="11">{html.escape(str(label)[:28])}</text>'
                     f'<rect x="180" y="{y + 2}" width="{w}" height="{bar_h - 4}" fill="#4a7bb7"/>'
                     f'<text x="{184 + w}" y="{y + bar_h - 4}" font-size="11">{_num(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram_svg(hist: dict[str, Any], title: str, width: int = 640, height: int = 180) -> str:
    counts = hist.get("counts") or []
    edges = hist.get("edges") or []
    top = max(counts or [0]) or 1
    n = max(len(counts), 1)
    bw = (width - 60) / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" role="img" '
             f'aria-label="{html.escape(title)}"><text x="4" y="14" font-size="13" font-weight="bold">'
             f'{html.escape(title)}</text>']
    for i, c in enumerate(counts):
        h = (height - 30) * c / top
        parts.append(f'<rect x="{40 + i * bw:.1f}" y="{20 + height - 30 - h:.1f}" width="{max(bw - 1, 1):.1f}" '
                     f'height="{h:.1f}" fill="#6a9f58"><title>[{_num(edges[i])}, {_num(edges[i + 1])}): {c}'
                     f'</title></rect>')
    if edges:
        parts.append(f'<text x="40" y="{height + 8}" font-size="10">{_num(edges[0])}</text>'
                     f'<text x="{width - 20}" y="{height + 8}" font-size="10" text-anchor="end">{_num(edges[-1])}'
                     f'</text><text x="4" y="34" font-size="10">{top}</text>')
    parts.append("</svg>")
    return "".join(parts)


def table_html(rows: list[dict], columns: list[str]) -> str:
    if not rows:
        return "<p><em>not available for this run</em></p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_num(r.get(c)))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: dict[str, Any]) -> str:
    sec: dict[str, str] = {}
    funnel = report["funnel"]
    sec["funnel"] = (bar_svg([r["stage"] for r in funnel], [r["documents_out"] for r in funnel], "documents out")
                     + table_html([{**r, "dropped_by_reason": ", ".join(f"{k}: {v}" for k, v in
                                                                          r["dropped_by_reason"].items())}
                                   for r in funnel],
                                  ["stage", "documents_in", "documents_out", "dropped", "chars_in", "chars_out",
                                   "tokens_out", "dropped_by_reason"]))
    langs = report["languages"]
    sec["languages"] = (bar_svg([r["lang"] for r in langs], [r["tokens_est"] for r in langs], "tokens (est.)")
                        + table_html([{**r, **{f"lang_score_{k}": v for k, v in (r.get("lang_score") or {}).items()}}
                                      for r in langs],
                                     ["lang", "documents", "chars", "tokens_est", "doc_share", "token_share",
                                      "chars_per_token", "lang_score_mean", "lang_score_q05", "lang_score_q50"]))
    sec["sources"] = table_html(report["sources"], ["source", "documents", "chars"])
    sec["domains"] = (table_html(report["domains"], ["domain", "documents", "chars", "duplicate_rate"])
                      + "<h3>domain labels (classifier)</h3>"
                      + table_html(report["domain_labels"], ["domain__label", "documents", "chars"]))
    dedup = report["dedup"]
    sec["dedup"] = table_html([{"reason": k, "documents": v} for k, v in (dedup.get("rejected_by_reason") or {}).items()],
                              ["reason", "documents"]) + table_html(
        [{"lang": k, **v} for k, v in (dedup.get("duplicate_rate_by_lang") or {}).items()],
        ["lang", "documents", "duplicates", "rate"])
    h = report["histograms"]
    charts = []
    if h.get("doc_chars"):
        charts.append(histogram_svg(h["doc_chars"], "document length (characters, log bins)"))
    for col, hist in h.get("scores", {}).items():
        charts.append(histogram_svg(hist, col))
    if h.get("dedup_cluster_size"):
        d = h["dedup_cluster_size"]
        charts.append(bar_svg([f"size {s}" for s in d["sizes"]], d["clusters"], "dedup clusters by size"))
    sec["histograms"] = "".join(f"<div>{c}</div>" for c in charts) or "<p><em>no documents</em></p>"
    tok = report["tokenize"]
    parts = []
    for split, info in tok["splits"].items():
        parts.append(bar_svg([s["name"] for s in info["shards"]], [s["tokens"] for s in info["shards"]],
                             f"{split}: tokens per shard"))
        parts.append(table_html([{"bucket": k, **v} for k, v in info["totals"].items()],
                                ["bucket", "documents", "unique_documents", "tokens"]))
    cpt = tok["chars_per_token_by_lang"]
    if cpt:
        parts.append(bar_svg(list(cpt), list(cpt.values()), "characters per token"))
    sec["tokenize"] = "".join(parts) or "<p><em>no tokenize output</em></p>"
    mix = report["mix"]
    sec["mix"] = table_html([{"bucket": k, "weight": v} for k, v in (mix.get("applied") or {}).items()],
                            ["bucket", "weight"]) + (f"<p>configured: {html.escape(str(mix.get('weights')))}</p>"
                                                     if mix else "")
    body = "".join(f'<section id="{name}"><h2>{name}</h2>{sec[name]}</section>' for name in SECTIONS)
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>curate report</title><style>"
            "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
            "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;text-align:right}"
            "</style></head><body>"
            f"<h1>curate report</h1><p>run: {html.escape(report['run'])} · stages: "
            f"{html.escape(', '.join(report['stages']))}</p>{body}</body></html>\n")


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_report(report: dict[str, Any], out_dir: str) -> tuple[str, str]:
    import json

    from pipeline import storage
    from pipeline.io import join

    json_path, html_path = join(out_dir, "report.json"), join(out_dir, "index.html")
    storage.write_bytes(json_path, (json.dumps(report, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    storage.write_bytes(html_path, render_html(report).encode("utf-8"))
    return json_path, html_path
