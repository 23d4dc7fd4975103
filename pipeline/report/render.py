"""The run report rendered: a self-contained index.html, report.json, a terminal summary, and two
runs compared (text, and compare.html).

build_report() (build_spark.py) gathers the report; render_html() draws the page. Charts are plotly
figures (plots.py) drawn by plotly.js, which the page carries inline with its data; tables sort by
a click on their header; a language menu filters the sample tables. Nothing is fetched when the
page is viewed: no external file, script, font or image. The keys of report.json are build_spark.py's.
"""
from __future__ import annotations

import html
import json
from functools import lru_cache
from typing import Any, Callable, Iterable

from pipeline.report import plots

SECTIONS = ("funnel", "drops", "thresholds", "dedup", "languages", "sources", "domains", "histograms",
            "tokenize", "mix")
TITLES = {"funnel": "Funnel", "drops": "Drop explorer", "thresholds": "Scores against thresholds",
          "dedup": "Dedup", "languages": "Languages", "sources": "Sources", "domains": "Domains",
          "histograms": "Kept documents", "tokenize": "Tokens", "mix": "Mix"}
COMPARE_SECTIONS = ("funnel", "reasons", "languages", "tokens", "changes")


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
    for note in report.get("notes") or []:
        lines.append(f"note: {note}")
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


# --- page building blocks ---------------------------------------------------------------------------

def esc(value: Any) -> str:
    return html.escape(_num(value) if not isinstance(value, str) else value)


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _slug(*parts: str) -> str:
    return "-".join("".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in str(p)) for p in parts)


class Page:
    """Collects the figures of one page; each plot() is a placeholder drawn by the page's script."""

    def __init__(self):
        self.figures: list[dict] = []

    def plot(self, figure: dict | None, css: str = "plot") -> str:
        if not figure:
            return ""
        self.figures.append(figure)
        return f'<div class="{css}" data-fig="{len(self.figures) - 1}"></div>'


def table(rows: Iterable[dict], columns: list[str], labels: dict[str, str] | None = None, raw: Iterable[str] = (),
          row_attrs: Callable[[dict], str] | None = None, css: str = "sortable", empty: str = "none") -> str:
    """A sortable table; `raw` columns hold HTML already escaped; numbers carry data-v for sorting."""
    rows = list(rows)
    if not rows:
        return f"<p class=\"empty\"><em>{html.escape(empty)}</em></p>"
    raw = set(raw)
    labels = labels or {}
    head = "".join(f"<th title=\"sort\">{html.escape(labels.get(c, c))}</th>" for c in columns)
    body = []
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c)
            if c in raw:
                cells.append(f"<td class=\"t\">{v if v is not None else '-'}</td>")
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                cells.append(f"<td data-v=\"{v}\">{esc(v)}</td>")
            else:
                cells.append(f"<td class=\"t\">{esc(v)}</td>")
        attrs = (" " + row_attrs(r)) if row_attrs else ""
        body.append(f"<tr{attrs}>{''.join(cells)}</tr>")
    return f"<table class=\"{css}\"><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def link(url: str | None) -> str:
    if not url:
        return "-"
    shown = url if len(url) <= 90 else url[:87] + "…"
    return f"<a href=\"{html.escape(url)}\" rel=\"noreferrer noopener\" target=\"_blank\">{html.escape(shown)}</a>"


def lang_filter(target: str, langs: Iterable[str]) -> str:
    options = "".join(f"<option value=\"{html.escape(l)}\">{html.escape(l)}</option>" for l in sorted(set(langs)))
    return (f"<label class=\"filter\">language <select class=\"langfilter\" data-target=\"{html.escape(target)}\">"
            f"<option value=\"\">all</option>{options}</select></label>")


def top_counts(counts: dict[str, int], n: int = 4) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} {v}" for k, v in items[:n])
    return text + (f", +{len(items) - n} more" if len(items) > n else "")


def excerpt_html(ex: dict | None) -> str:
    if not ex:
        return "-"
    return (f"<div class=\"why\">{html.escape(ex.get('kind') or '')}</div>"
            f"<pre class=\"excerpt\">{html.escape(ex.get('text') or '')}</pre>")


def diff_html(differences: list[dict]) -> str:
    if not differences:
        return "<em>no difference in the compared text</em>"
    parts = []
    for d in differences:
        parts.append(f"<div class=\"diff\">…{html.escape(d['before'])}<del title=\"only in the kept document\">"
                     f"{html.escape(d['kept'])}</del><ins title=\"only in the removed copy\">{html.escape(d['copy'])}"
                     f"</ins>{html.escape(d['after'])}…</div>")
    return "".join(parts)


def score_html(score: dict | None) -> str:
    if not score:
        return "-"
    sign = "&lt;" if score["op"] == "min" else "&gt;"
    return (f"<code>{html.escape(score['column'])}</code> = {esc(score['value'])} {sign} "
            f"{esc(score.get('limit'))}")


# --- the run page -------------------------------------------------------------------------------------

def render_html(report: dict[str, Any]) -> str:
    page = Page()
    sec = {
        "funnel": _funnel_section(page, report),
        "drops": _drops_section(page, report),
        "thresholds": _thresholds_section(page, report),
        "dedup": _dedup_section(page, report),
        "languages": _languages_section(page, report),
        "sources": table(report.get("sources") or [], ["source", "documents", "chars"], empty="not available"),
        "domains": _domains_section(report),
        "histograms": _histograms_section(page, report),
        "tokenize": _tokenize_section(page, report),
        "mix": _mix_section(report),
    }
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.get("notes") or [])
    sampling = report.get("sampling") or {}
    header = (f"<h1>curate report</h1><p class=\"meta\">run <code>{html.escape(report['run'])}</code> · stages "
              f"{html.escape(', '.join(report.get('stages') or []))} · sample seed {esc(sampling.get('seed'))}</p>"
              + (f"<ul class=\"notes\">{notes}</ul>" if notes else ""))
    return _page("curate report", header, [(name, TITLES[name], sec[name]) for name in SECTIONS], page)


def _funnel_section(page: Page, report: dict) -> str:
    funnel = report.get("funnel") or []
    rows = [{**r, "dropped_by_reason": ", ".join(f"{k}: {v}" for k, v in r["dropped_by_reason"].items()),
             "explore": f"<a href=\"#drops-{_slug(r['stage'])}\">drops</a>" if r.get("dropped") else "-"}
            for r in funnel]
    return (page.plot(plots.funnel(funnel)) +
            table(rows, ["stage", "documents_in", "documents_out", "dropped", "chars_in", "chars_out", "tokens_out",
                         "dropped_by_reason", "explore"], raw=["explore"],
                  row_attrs=lambda r: f"data-stage=\"{html.escape(r['stage'])}\" data-out=\"{r.get('documents_out')}\""))


def _near(report: dict) -> dict[str, dict]:
    out = {}
    for section in (report.get("thresholds") or {}).values():
        out.update(section.get("near") or {})
    return out


def _drops_section(page: Page, report: dict) -> str:
    drops = report.get("drops") or {}
    if not drops:
        return "<p><em>no rejected documents were written for this run</em></p>"
    sampling = report.get("sampling") or {}
    stats_in = {r["stage"]: r.get("documents_in") for r in report.get("funnel") or []}
    near = _near(report)
    parts = [f"<p>Every stage's rejected documents, by drop reason. Samples are drawn in Spark with seed "
             f"{esc(sampling.get('seed'))}: up to {esc(sampling.get('per_reason'))} per reason, plus up to "
             f"{esc(sampling.get('per_lang'))} per reason and language for "
             f"{html.escape(', '.join(sampling.get('languages') or []))}. More: "
             f"<code>curate report --run RUN --samples 50 --seed 7</code>.</p>"]
    for stage in _stage_order(report, drops):
        info = drops[stage]
        reasons = _by_count(info.get("reasons") or {})
        total_in = stats_in.get(stage)
        parts.append(f"<h3 id=\"drops-{_slug(stage)}\">{html.escape(stage)}: {esc(info['total'])} dropped"
                     + (f" of {esc(total_in)}" if total_in else "") + "</h3>")
        rows = []
        for name, entry in reasons.items():
            rule = entry.get("rule")
            rows.append({"reason": f"<a href=\"#{_slug('drop', stage, name)}\">{html.escape(name)}</a>",
                         "documents": entry["count"],
                         "share": round(entry["count"] / total_in, 4) if total_in else None,
                         "languages": top_counts(entry.get("by_lang") or {}),
                         "sources": top_counts(entry.get("by_source") or {}, 3),
                         "rule": _rule_text(rule)})
        parts.append(table(rows, ["reason", "documents", "share", "languages", "sources", "rule"], raw=["reason"],
                           labels={"share": "share of input"}, empty="nothing dropped",
                           row_attrs=lambda r: "class=\"reason-row\""))
        if stage == "filter" and any(k in reasons for k in near):
            parts.append("<p>For each filter reason below: the dropped samples, then the kept documents nearest "
                         "the limit and the dropped ones a looser limit brings back first.</p>")
        for name, entry in reasons.items():
            parts.append(_reason_details(page, stage, name, entry, near.get(name)))
    return "".join(parts)


def _stage_order(report: dict, keyed: dict) -> list[str]:
    """The keys of a per-stage dict in flow order (report.json may hold them sorted by name)."""
    order = [s for s in report.get("stages") or [] if s in keyed]
    return order + sorted(s for s in keyed if s not in order)


def _by_count(entries: dict[str, dict]) -> dict[str, dict]:
    return dict(sorted(entries.items(), key=lambda kv: (-kv[1]["count"], kv[0])))


def _rule_text(rule: dict | None) -> str:
    if not rule:
        return "-"
    sign = ">=" if rule["op"] == "min" else "<="
    langs = ", ".join(f"{l}: {_num(v)}" for l, v in (rule.get("by_lang") or {}).items())
    default = _num(rule.get("default")) if rule.get("default") is not None else "off"
    return f"keep {rule['column']} {sign} {default}" + (f" ({langs})" if langs else "")


def _reason_details(page: Page, stage: str, name: str, entry: dict, near: dict | None) -> str:
    ident = _slug("drop", stage, name)
    samples = entry.get("samples") or []
    rows = [{"url": link(s.get("url")), "lang": s.get("lang"), "source": s.get("source"),
             "score": score_html(s.get("score")),
             "why": excerpt_html(s.get("excerpt")) + (f"<div class=\"why\">duplicate of "
                                                      f"<code>{html.escape(s['duplicate_of'])}</code></div>"
                                                      if s.get("duplicate_of") else ""),
             "_url": s.get("url") or "", "_lang": s.get("lang") or "null"} for s in samples]
    body = ["<div class=\"counts\"><div><h5>by language</h5>"
            + table([{"lang": k, "documents": v} for k, v in sorted((entry.get("by_lang") or {}).items(),
                                                                     key=lambda kv: (-kv[1], kv[0]))],
                    ["lang", "documents"], css="sortable small")
            + "</div><div><h5>by source</h5>"
            + table([{"source": k, "documents": v} for k, v in sorted((entry.get("by_source") or {}).items(),
                                                                       key=lambda kv: (-kv[1], kv[0]))],
                    ["source", "documents"], css="sortable small") + "</div></div>"]
    body.append(f"<h5>{len(samples)} sampled of {entry['count']} "
                + lang_filter(ident + "-samples", [r["_lang"] for r in rows]) + "</h5>")
    body.append(f"<div id=\"{ident}-samples\">" + table(
        rows, ["url", "lang", "source", "score", "why"], raw=["url", "score", "why"], css="sortable wide",
        row_attrs=lambda r: f"class=\"sample\" data-url=\"{html.escape(r['_url'])}\" data-lang=\"{html.escape(r['_lang'])}\"")
        + "</div>")
    if near:
        body.append(_near_tables(near, ident))
    return (f"<details class=\"reason\" id=\"{ident}\" data-stage=\"{html.escape(stage)}\" "
            f"data-reason=\"{html.escape(name)}\" data-count=\"{entry['count']}\"><summary><b>{html.escape(name)}</b>"
            f" · {entry['count']} documents · {html.escape(top_counts(entry.get('by_lang') or {}))}</summary>"
            + "".join(body) + "</details>")


def _near_tables(near: dict, ident: str) -> str:
    def rows(items):
        return [{"url": link(i.get("url")), "lang": i.get("lang"), "value": i.get("value"), "limit": i.get("limit"),
                 "distance": i.get("distance"), "start of the text": _short(i.get("excerpt"))} for i in items[:5]]
    cols = ["url", "lang", "value", "limit", "distance", "start of the text"]
    return ("<div class=\"near\"><h5>kept documents nearest the limit</h5>"
            + table(rows(near.get("borderline_kept") or []), cols, raw=["url"], empty="none", css="sortable wide")
            + "<h5>dropped by this rule alone, nearest to passing (a looser limit brings these back first)</h5>"
            + table(rows(near.get("would_come_back") or []), cols, raw=["url"], empty="none", css="sortable wide")
            + "</div>")


def _short(text: str | None, size: int = 160) -> str | None:
    return text if text is None or len(text) <= size else text[:size] + "…"


def _thresholds_section(page: Page, report: dict) -> str:
    sections = report.get("thresholds") or {}
    if not sections:
        return "<p><em>no scores were persisted for this run</em></p>"
    reasons = {r["stage"]: r.get("dropped_by_reason") or {} for r in report.get("funnel") or []}
    parts = ["<p>Every score over every scored document, kept and dropped, per language (the largest, the rest "
             "as <i>other</i>), with its limits drawn in red (dashed: a language's own). The what-if tables move "
             "one limit at a time, the other rules as they are. To apply new filter limits without rescoring: "
             "<code>python -m jobs.run --conf CONF --set filter.select_only=true --set "
             "filter.thresholds.FILTER.default.FIELD=VALUE</code>.</p>"]
    for stage in _stage_order(report, sections):
        section = sections[stage]
        what = section.get("what_if") or {}
        source = "<run>/filter_scores" if stage == "filter" else "the classify output and rejected/classify"
        parts.append(f"<h3 id=\"thresholds-{stage}\">{html.escape(stage)}: {esc(section.get('documents'))} scored "
                     f"documents ({html.escape(source)}), {esc(what.get('kept_now'))} kept by these limits"
                     f" (the stage kept {esc(what.get('stage_kept'))})</h3>")
        rules = section.get("rules") or []
        rows = []
        for rule in rules:
            w = (what.get("rules") or {}).get(rule["reason"]) or {}
            if not w:
                continue
            loose = _looser(w.get("rows") or [], rule["op"])
            more = _first_gain(w.get("rows") or [], rule["op"])
            rows.append({"rule": f"<a href=\"#{_slug('rule', rule['reason'])}\">{html.escape(rule['reason'])}</a>",
                         "keep if": _rule_text(rule).removeprefix("keep "),
                         "dropped by it": reasons.get(stage, {}).get(rule["reason"], 0),
                         "fails only this rule": w.get("only_this_rule"),
                         "one step looser": loose[0] if loose else None,
                         "kept then": loose[1] if loose else None,
                         "nearest limit keeping more": f"{more[0]} → {more[1]} kept" if more else "-"})
        parts.append(table(rows, ["rule", "keep if", "dropped by it", "fails only this rule", "one step looser",
                                  "kept then", "nearest limit keeping more"], raw=["rule"]))
        off = [r["reason"] for r in rules if not (what.get("rules") or {}).get(r["reason"])]
        if off:
            parts.append(f"<p class=\"meta\">limits switched off (null): {html.escape(', '.join(off))}</p>")
        dists = section.get("distributions") or {}
        langs = section.get("languages") or []
        owners: dict[str, list[dict]] = {}
        for rule in rules:
            owners.setdefault(rule["owner"], []).append(rule)
        used = set()
        for owner, owned in owners.items():
            dropped_here = sum(reasons.get(stage, {}).get(r["reason"], 0) for r in owned)
            blocks = []
            for rule in owned:
                used.add(rule["column"])
                blocks.append(_rule_block(page, rule, dists.get(rule["column"]),
                                          (what.get("rules") or {}).get(rule["reason"]),
                                          (section.get("near") or {}).get(rule["reason"]), langs))
            prefix = owned[0]["column"].split("__", 1)[0] + "__"
            others = [c for c in dists if c.startswith(prefix) and c not in {r["column"] for r in owned}]
            if others:
                used.update(others)
                blocks.append("<details class=\"others\"><summary>other scores of this filter (no limit)</summary>"
                              + "".join(page.plot(plots.score_histogram(dists[c], languages=langs)) for c in others)
                              + "</details>")
            parts.append(f"<details class=\"owner\" data-owner=\"{html.escape(owner)}\"{' open' if dropped_here else ''}>"
                         f"<summary><b>{html.escape(owner)}</b> · {len(owned)} limits · {dropped_here} dropped"
                         f"</summary>{''.join(blocks)}</details>")
        rest = [c for c in dists if c not in used]
        if rest:
            parts.append("<details class=\"owner\"><summary>scores without a limit</summary>"
                         + "".join(page.plot(plots.score_histogram(dists[c], languages=langs)) for c in rest)
                         + "</details>")
    return "".join(parts)


def _looser(rows: list[dict], op: str) -> tuple[str, int] | None:
    """The limit one step looser than the current one (lower for a min_ rule, higher for a max_ one)
    and what the stage would keep with it."""
    sign = -1 if op == "min" else 1
    looser = sorted((r for r in rows if r["step"] * sign > 0), key=lambda r: abs(r["step"]))
    return (_limit_text(looser[0]), looser[0]["kept"]) if looser else None


def _first_gain(rows: list[dict], op: str) -> tuple[str, int] | None:
    """The nearest looser limit of the what-if rows at which the stage keeps more documents."""
    sign = -1 if op == "min" else 1
    current = next((r for r in rows if r.get("current")), None)
    for r in sorted((r for r in rows if r["step"] * sign > 0), key=lambda r: abs(r["step"])):
        if current is not None and r["kept"] > current["kept"]:
            return _limit_text(r), r["kept"]
    return None


def _limit_text(row: dict) -> str:
    text = _num(row.get("default")) if row.get("default") is not None else "off"
    langs = ", ".join(f"{l}: {_num(v)}" for l, v in (row.get("by_lang") or {}).items())
    return text + (f" ({langs})" if langs else "")


def _rule_block(page: Page, rule: dict, dist: dict | None, what: dict | None, near: dict | None,
                languages: list[str]) -> str:
    ident = _slug("rule", rule["reason"])
    parts = [f"<div class=\"rule\" id=\"{ident}\" data-reason=\"{html.escape(rule['reason'])}\" "
             f"data-column=\"{html.escape(rule['column'])}\"><h4>{html.escape(rule['reason'])}: "
             f"{html.escape(_rule_text(rule))}</h4>"]
    if dist and dist.get("count"):
        parts.append(page.plot(plots.score_histogram(dist, f"{rule['column']} ({dist['count']} documents, "
                                                             f"{dist.get('missing', 0)} without a value)",
                                                       languages), "plot threshold"))
    else:
        parts.append("<p><em>no document has this score</em></p>")
    if what:
        rows = [{"limit": _limit_text(r), "kept": r["kept"], "change": r["change"],
                 "fail this rule": r["failing_this_rule"], "_current": r["current"]} for r in what["rows"]]
        parts.append("<div class=\"whatif\"><h5>what if (" + ("lower" if rule["op"] == "min" else "higher")
                     + " is looser)</h5>" + table(rows, ["limit", "kept", "change", "fail this rule"], css="sortable small",
                                                  row_attrs=lambda r: "class=\"current\"" if r["_current"] else "")
                     + "</div>")
    if near:
        parts.append(_near_tables({k: v[:5] for k, v in near.items()}, ident))
    parts.append("</div>")
    return "".join(parts)


def _dedup_section(page: Page, report: dict) -> str:
    dedup = report.get("dedup") or {}
    if not dedup:
        return "<p><em>dedup did not run</em></p>"
    parts = []
    mh = dedup.get("minhash") or {}
    reasons = dedup.get("rejected_by_reason") or {}
    parts.append("<p>steps: " + html.escape(", ".join(dedup.get("steps") or [])) +
                 (f" · MinHash: Jaccard ≥ {esc(mh.get('threshold'))}, {esc(mh.get('num_perm'))} permutations, "
                  f"{esc(mh.get('bands'))} bands × {esc(mh.get('rows'))} rows, {esc(mh.get('candidate_pairs'))} "
                  f"candidate pairs, {esc(mh.get('verified_pairs'))} verified" if mh else "") + "</p>")
    parts.append(table([{"reason": k, "documents": v} for k, v in reasons.items()], ["reason", "documents"],
                       empty="dedup removed nothing"))
    h = (report.get("histograms") or {}).get("dedup_cluster_size")
    if h:
        parts.append(page.plot(plots.bars([f"{s} documents" for s in h["sizes"]], h["clusters"],
                                          "MinHash clusters by size (kept document and its copies)",
                                          horizontal=False, value_name="clusters")))
    groups = dedup.get("groups") or {}
    names = {"minhash_duplicate": "MinHash near-duplicates", "exact_duplicate": "Exact duplicates",
             "url_duplicate": "URL duplicates", "semantic_duplicate": "Semantic duplicates"}
    for reason in [*[r for r in names if r in groups], *[r for r in groups if r not in names]]:
        parts.append(f"<h3 id=\"{_slug('dedup', reason)}\">{html.escape(names.get(reason, reason))}: "
                     f"{len(groups[reason])} example groups of {reasons.get(reason, '?')} removed documents</h3>")
        for g in groups[reason]:
            parts.append(_group_html(g, reason))
    if "semantic" not in (dedup.get("steps") or []):
        parts.append("<p><em>semantic dedup did not run in this run (dedup.steps)</em></p>")
    lines = dedup.get("frequent_lines") or []
    removed = dedup.get("lines_removed") or {}
    parts.append(f"<h3 id=\"dedup-lines\">Lines removed by line-level dedup</h3><p>{esc(removed.get('lines', 0))} "
                 f"lines cut from {esc(removed.get('documents', 0))} documents.</p>")
    parts.append(table(lines, ["line", "documents"], empty="line-level dedup removed no line in this run"
                       if "lines" in (dedup.get("steps") or []) else "line-level dedup did not run"))
    parts.append("<h3>Duplicate rate by language</h3>" + table(
        [{"lang": k, **v} for k, v in (dedup.get("duplicate_rate_by_lang") or {}).items()],
        ["lang", "documents", "duplicates", "rate"]))
    return "".join(parts)


def _group_html(group: dict, reason: str) -> str:
    kept = group["kept"]
    rows = []
    for c in group.get("copies") or []:
        rows.append({"removed copy": link(c.get("url")), "lang": c.get("lang"), "Jaccard": c.get("jaccard"),
                     "similarity": c.get("similarity"), "where they differ": diff_html(c.get("differences") or [])})
    cols = ["removed copy", "lang", "Jaccard"] + (["similarity"] if any(r["similarity"] is not None for r in rows)
                                                   else []) + ["where they differ"]
    return (f"<div class=\"group\" data-reason=\"{html.escape(reason)}\"><div class=\"kept\">kept: {link(kept.get('url'))} "
            f"({esc(kept.get('lang'))}, a group of {esc(group.get('size'))})"
            f"<pre class=\"excerpt\">{html.escape(kept.get('excerpt') or '')}</pre></div>"
            + table(rows, cols, raw=["removed copy", "where they differ"]) + "</div>")


def _languages_section(page: Page, report: dict) -> str:
    langs = report.get("languages") or []
    rows = [{**r, **{f"lang_score_{k}": v for k, v in (r.get("lang_score") or {}).items()}} for r in langs]
    return (page.plot(plots.bars([r["lang"] for r in langs], [r["tokens_est"] for r in langs], "tokens (estimated)",
                                 value_name="tokens")) if langs else "") + table(
        rows, ["lang", "documents", "chars", "tokens_est", "doc_share", "token_share", "chars_per_token",
               "lang_score_mean", "lang_score_q05", "lang_score_q50"], empty="not available")


def _domains_section(report: dict) -> str:
    return (table(report.get("domains") or [], ["domain", "documents", "chars", "duplicate_rate"], empty="not available")
            + "<h3>domain labels (classifier)</h3>"
            + table(report.get("domain_labels") or [], ["domain__label", "documents", "chars"], empty="not available"))


def _histograms_section(page: Page, report: dict) -> str:
    h = report.get("histograms") or {}
    charts = []
    if h.get("doc_chars"):
        charts.append(page.plot(plots.histogram(h["doc_chars"], "kept documents: length in characters (log bins)")))
    for col, hist in (h.get("scores") or {}).items():
        charts.append(page.plot(plots.histogram(hist, f"kept documents: {col}")))
    return "".join(charts) or "<p><em>no documents</em></p>"


def _tokenize_section(page: Page, report: dict) -> str:
    tok = report.get("tokenize") or {}
    parts = []
    for split, info in (tok.get("splits") or {}).items():
        parts.append(page.plot(plots.bars([s["name"] for s in info["shards"]], [s["tokens"] for s in info["shards"]],
                                          f"{split}: tokens per shard", value_name="tokens")))
        parts.append(table([{"bucket": k, **v} for k, v in info["totals"].items()],
                           ["bucket", "documents", "unique_documents", "tokens"]))
    cpt = tok.get("chars_per_token_by_lang") or {}
    if cpt:
        parts.append(page.plot(plots.bars(list(cpt), list(cpt.values()), "characters per token",
                                          value_name="characters per token")))
    return "".join(parts) or "<p><em>no tokenize output</em></p>"


def _mix_section(report: dict) -> str:
    mix = report.get("mix") or {}
    return table([{"bucket": k, "weight": v} for k, v in (mix.get("applied") or {}).items()], ["bucket", "weight"],
                 empty="no mix applied") + (f"<p>configured: {html.escape(str(mix.get('weights')))}</p>" if mix else "")


# --- the comparison page ------------------------------------------------------------------------------

def render_compare_html(a: dict[str, Any], b: dict[str, Any], changes: dict[str, Any] | None) -> str:
    page = Page()
    sec = {}
    fa = {r["stage"]: r for r in a.get("funnel") or []}
    fb = {r["stage"]: r for r in b.get("funnel") or []}
    stages = list(dict.fromkeys([*fa, *fb]))

    def delta(x, y):
        return y - x if isinstance(x, (int, float)) and isinstance(y, (int, float)) else None

    rows = []
    for s in stages:
        ra, rb = fa.get(s) or {}, fb.get(s) or {}
        rows.append({"stage": s, "A in": ra.get("documents_in"), "A kept": ra.get("documents_out"),
                     "B in": rb.get("documents_in"), "B kept": rb.get("documents_out"),
                     "kept B-A": delta(ra.get("documents_out"), rb.get("documents_out")),
                     "A chars": ra.get("chars_out"), "B chars": rb.get("chars_out"),
                     "chars B-A": delta(ra.get("chars_out"), rb.get("chars_out"))})
    sec["funnel"] = (page.plot(plots.grouped_bars(stages, {"A": [r["A kept"] for r in rows],
                                                           "B": [r["B kept"] for r in rows]},
                                                  "documents kept per stage", value_name="documents"))
                     + table(rows, ["stage", "A in", "A kept", "B in", "B kept", "kept B-A", "A chars", "B chars",
                                    "chars B-A"], row_attrs=lambda r: f"data-stage=\"{html.escape(r['stage'])}\""))
    reason_rows = []
    for s in stages:
        ra = (fa.get(s) or {}).get("dropped_by_reason") or {}
        rb = (fb.get(s) or {}).get("dropped_by_reason") or {}
        for reason in dict.fromkeys([*ra, *rb]):
            va, vb = ra.get(reason, 0), rb.get(reason, 0)
            reason_rows.append({"stage": s, "reason": reason, "A": va, "B": vb, "B-A": vb - va})
    reason_rows.sort(key=lambda r: (-abs(r["B-A"]), r["stage"], r["reason"]))
    sec["reasons"] = table(reason_rows, ["stage", "reason", "A", "B", "B-A"], empty="no document dropped in either run",
                           row_attrs=lambda r: f"data-reason=\"{html.escape(r['reason'])}\"")
    la = {r["lang"]: r for r in a.get("languages") or []}
    lb = {r["lang"]: r for r in b.get("languages") or []}
    langs = sorted(set(la) | set(lb), key=lambda l: -((lb.get(l) or la.get(l) or {}).get("token_share") or 0))
    lang_rows = [{"lang": l, "A documents": (la.get(l) or {}).get("documents"),
                  "B documents": (lb.get(l) or {}).get("documents"),
                  "A token share": (la.get(l) or {}).get("token_share"),
                  "B token share": (lb.get(l) or {}).get("token_share"),
                  "share B-A": round(delta((la.get(l) or {}).get("token_share"), (lb.get(l) or {}).get("token_share")), 6)
                  if delta((la.get(l) or {}).get("token_share"), (lb.get(l) or {}).get("token_share")) is not None
                  else None} for l in langs]
    sec["languages"] = ((page.plot(plots.grouped_bars(langs, {"A": [r["A token share"] for r in lang_rows],
                                                             "B": [r["B token share"] for r in lang_rows]},
                                                      "share of tokens per language", value_name="of tokens"))
                         if langs else "")
                        + table(lang_rows, ["lang", "A documents", "B documents", "A token share", "B token share",
                                            "share B-A"], empty="not available"))
    tok_rows = []
    for split in ("train", "valid"):
        va = ((a.get("tokenize") or {}).get("splits", {}).get(split) or {}).get("tokens")
        vb = ((b.get("tokenize") or {}).get("splits", {}).get(split) or {}).get("tokens")
        if va is not None or vb is not None:
            tok_rows.append({"split": split, "A tokens": va, "B tokens": vb, "B-A": delta(va, vb)})
    sec["tokens"] = table(tok_rows, ["split", "A tokens", "B tokens", "B-A"], empty="no tokenize output")
    sec["changes"] = _changes_section(changes)
    titles = {"funnel": "Funnel", "reasons": "Drops by reason", "languages": "Languages", "tokens": "Tokens",
              "changes": "Documents whose fate changed"}
    header = (f"<h1>curate: two runs compared</h1><p class=\"meta\">A <code>{html.escape(a['run'])}</code> · "
              f"B <code>{html.escape(b['run'])}</code></p>")
    return _page("curate: runs compared", header, [(n, titles[n], sec[n]) for n in COMPARE_SECTIONS], page)


def _changes_section(changes: dict[str, Any] | None) -> str:
    if not changes or not changes.get("available"):
        return "<p><em>the documents of one run are not available (rejected/ and the kept output)</em></p>"
    moved = [t for t in changes["transitions"] if t["a"] != t["b"]]
    parts = [f"<p>{esc(changes.get('changed'))} of {esc(changes.get('documents'))} documents changed fate (matched "
             f"by id; a fate is <i>kept</i> or the stage and reason that dropped the document; sample seed "
             f"{esc(changes.get('seed'))}).</p>",
             table(moved, ["a", "b", "documents"], labels={"a": "fate in A", "b": "fate in B"},
                   empty="no document changed fate")]
    rows = [{"url": link(s.get("url")), "lang": s.get("lang"), "A": s["a"]["fate"], "B": s["b"]["fate"],
             "_lang": s.get("lang") or "null", "_url": s.get("url") or ""} for s in changes.get("samples") or []]
    parts.append("<h3>sampled documents " + lang_filter("changed-samples", [r["_lang"] for r in rows]) + "</h3>")
    parts.append("<div id=\"changed-samples\">" + table(
        rows, ["url", "lang", "A", "B"], raw=["url"], labels={"A": "fate in A", "B": "fate in B"},
        row_attrs=lambda r: f"class=\"sample\" data-url=\"{html.escape(r['_url'])}\" data-lang=\"{html.escape(r['_lang'])}\"",
        empty="none") + "</div>")
    return "".join(parts)


# --- the page shell -----------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:1em 2em .5em;background:#fff;border-bottom:1px solid #ddd}
nav{position:sticky;top:0;z-index:10;background:#fff;border-bottom:1px solid #ddd;padding:.4em 2em;font-size:13px}
nav a{margin-right:1em;color:#1f5fa8;text-decoration:none}
main{padding:0 2em 3em;max-width:1400px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:1.2em 0;padding:.5em 1.2em 1em}
p{font-size:14px}h1{font-size:22px;margin:.2em 0}h2{font-size:19px;border-bottom:1px solid #eee;padding-bottom:.2em}
h3{font-size:16px;margin-top:1.4em}h4{font-size:14px;margin:1em 0 .3em}h5{font-size:13px;margin:.8em 0 .3em}
.meta{color:#555;font-size:13px}.notes{color:#a33;font-size:13px}
table{border-collapse:collapse;margin:.5em 0;font-size:12px}
td,th{border:1px solid #ddd;padding:3px 7px;text-align:right;vertical-align:top}
td.t{text-align:left;max-width:640px;overflow-wrap:break-word}td.t a{overflow-wrap:anywhere}
table.wide{width:100%}table.wide td.t:last-child{min-width:360px}
th{background:#f2f4f7;cursor:pointer;user-select:none;white-space:nowrap}
th[data-sort=asc]::after{content:" \\25B2"}th[data-sort=desc]::after{content:" \\25BC"}
table.small{font-size:11px}tr.current td{background:#fff4d6;font-weight:600}
details{margin:.5em 0;border:1px solid #e6e6e6;border-radius:4px;padding:.3em .8em;background:#fcfcfd}
details>summary{cursor:pointer;font-size:13px}
pre.excerpt{white-space:pre-wrap;margin:.2em 0;font-size:11px;max-height:12em;overflow:auto;background:#f7f7f7;padding:4px}
.why{font-size:11px;color:#666;font-style:italic}
.counts{display:flex;gap:2em;flex-wrap:wrap}
.plot{width:100%;min-height:330px}
.group{border-left:3px solid #4c78a8;margin:1em 0;padding-left:.8em}
del{background:#fdd;text-decoration:line-through}ins{background:#dfd;text-decoration:none}
.diff{font-size:11px;margin:.2em 0;overflow-wrap:anywhere}
label.filter{font-weight:normal;font-size:12px;margin-left:1em}
"""

SCRIPT = """
(function(){
  var figures = JSON.parse(document.getElementById('figures').textContent);
  function draw(div){
    if (div.dataset.rendered) return;
    var f = figures[+div.dataset.fig];
    Plotly.newPlot(div, f.data, f.layout, {responsive: true, displaylogo: false});
    div.dataset.rendered = '1';
  }
  var seen = new IntersectionObserver(function(entries){
    entries.forEach(function(e){ if (e.isIntersecting) { draw(e.target); seen.unobserve(e.target); } });
  }, {rootMargin: '600px'});
  document.querySelectorAll('div[data-fig]').forEach(function(d){ seen.observe(d); });
  document.addEventListener('toggle', function(e){
    if (e.target.open) e.target.querySelectorAll('div[data-fig]').forEach(function(d){
      if (d.offsetParent !== null) draw(d); });
  }, true);
  window.curateDrawAll = function(){ document.querySelectorAll('div[data-fig]').forEach(draw); };
  function key(row, i){
    var c = row.cells[i]; if (!c) return '';
    var v = c.dataset.v !== undefined ? c.dataset.v : c.textContent.trim();
    return (v !== '' && isFinite(v)) ? parseFloat(v) : v.toLowerCase();
  }
  document.addEventListener('click', function(e){
    var th = e.target.closest('table.sortable th'); if (!th) return;
    var table = th.closest('table'), i = Array.prototype.indexOf.call(th.parentNode.children, th);
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    var asc = th.dataset.sort !== 'asc';
    table.querySelectorAll('th').forEach(function(h){ delete h.dataset.sort; });
    th.dataset.sort = asc ? 'asc' : 'desc';
    rows.sort(function(a, b){
      var x = key(a, i), y = key(b, i);
      var r = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
      return asc ? r : -r;
    });
    rows.forEach(function(r){ body.appendChild(r); });
  });
  document.querySelectorAll('select.langfilter').forEach(function(sel){
    sel.addEventListener('change', function(){
      var box = document.getElementById(sel.dataset.target); if (!box) return;
      box.querySelectorAll('tr.sample').forEach(function(tr){
        tr.style.display = (!sel.value || tr.dataset.lang === sel.value) ? '' : 'none';
      });
    });
  });
  document.body.dataset.ready = '1';
})();
"""


@lru_cache(maxsize=1)
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _script_json(value: Any) -> str:
    from plotly.utils import PlotlyJSONEncoder

    text = json.dumps(value, cls=PlotlyJSONEncoder, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _page(title: str, header: str, sections: list[tuple[str, str, str]], page: Page) -> str:
    nav = "".join(f"<a href=\"#{name}\">{html.escape(label)}</a>" for name, label, _ in sections)
    body = "".join(f"<section id=\"{name}\"><h2>{html.escape(label)}</h2>{content}</section>"
                   for name, label, content in sections)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style>"
            f"<script>{plotly_js()}</script></head><body>"
            f"<header>{header}</header><nav>{nav}</nav><main>{body}</main>"
            f"<script type=\"application/json\" id=\"figures\">{_script_json(page.figures)}</script>"
            f"<script>{SCRIPT}</script></body></html>\n")


# --- files -------------------------------------------------------------------------------------------

def write_report(report: dict[str, Any], out_dir: str) -> tuple[str, str]:
    from pipeline import storage
    from pipeline.io import join

    json_path, html_path = join(out_dir, "report.json"), join(out_dir, "index.html")
    storage.write_bytes(json_path, (json.dumps(report, indent=2, default=str) + "\n").encode("utf-8"))
    storage.write_bytes(html_path, render_html(report).encode("utf-8"))
    return json_path, html_path


def write_compare(a: dict[str, Any], b: dict[str, Any], changes: dict[str, Any] | None, out_dir: str
                  ) -> tuple[str, str]:
    from pipeline import storage
    from pipeline.io import join

    json_path, html_path = join(out_dir, "compare.json"), join(out_dir, "compare.html")
    data = {"a": a["run"], "b": b["run"], "changes": changes}
    storage.write_bytes(json_path, (json.dumps(data, indent=2, default=str) + "\n").encode("utf-8"))
    storage.write_bytes(html_path, render_compare_html(a, b, changes).encode("utf-8"))
    return json_path, html_path
