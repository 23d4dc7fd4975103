"""False drops of the filter chain: the share of known-good text each rule drops, next to the share
of known-bad text it drops, per rule and per language.

    .venv/bin/python bench/filter_quality.py [--config conf/default.yaml] [--set KEY=VALUE ...]
        [--data ../shared/data] [--good FILE.jsonl|.parquet ...] [--udhr-langs en,de,...|all]
        [--udhr-split all|heldout|calib] [--write-udhr-reference FILE]
        [--seed 0] [--bad-per-style 40] [--no-articles] [--no-warc]

The chain is the one the filter stage runs (`filters.stage.build_chain(config.filter)`), run in
this process on the documents as one batch (`FilterChain.score_documents`, what the sandbox
child runs), and decided with each filter's `keep` and the config's thresholds, as
`filters.stage.select_batches` does. No Spark. `token_outlier_*` is LEFT OUT of the measured chain:
it drops a fixed percentile of whatever corpus it sees, so its share says nothing about the rule.

Known-good sets:
- `articles`: the 181 gold article bodies of the Scrapinghub article-extraction benchmark
  (DATA/html/scrapinghub-article-extraction-benchmark/ground-truth.json), language from the
  pipeline's language identifier (fastText lid.176, as the extract stage labels them; without the
  model: en, or zh/ja for text mostly without spaces).
- `udhr`: the Universal Declaration of Human Rights (DATA/lang/udhr), per language, split at
  paragraph boundaries into pages of about 2,000 characters. `--udhr-langs` picks the files by
  the primary subtag of their `bcp47` code in index.json, one file per language, the standard
  variety first (default: 34 languages the pipeline labels; `all` for every file).
  `--udhr-split heldout` measures only each language's odd pages (set `udhr_heldout`), the half
  that `--write-udhr-reference FILE` leaves out of the calibration reference it writes (windows
  over the even pages; `split_udhr`), so calibrated thresholds are graded on text they were not
  fitted on.
- `--good FILE`: JSONL or Parquet with `text` (and `lang`, else `en`), any number of them; each is
  one set named after its file.
Known-bad set (`generated`): pages in the styles the rules exist for, written by this script from
`--seed` (reproducible): navigation and link lists, keyword stuffing, spam with shouting and
symbols, machine-generated repetition (templated sentences, repeated lines), adult spam, number
and code dumps, placeholder (lorem ipsum) pages, and too-short pages. Each style is reported.
Plus `warc_real`: records of DATA/warc labelled low-quality by hand (REAL_BAD: lottery and
gambling spam, adult link lists, navigation lists, templates, a placeholder; `--no-warc` leaves
them out), extracted as the extract stage does.

Per rule: `good_first`/`bad_first` = share dropped with this rule as the drop reason (the first
failing rule in chain order: what the pipeline records); `good_fails`/`bad_fails` = share failing
the rule whatever other rules say (what the rule alone would drop). Last line: one JSON object
with `good_dropped`, `bad_dropped` (over all good / all bad documents), `per_set`, `per_rule`,
`per_lang` (good sets) and `per_style` (bad set).

Read the bad columns with care: the text modifiers (c4_lines, llama3 lines) run first and remove
most lines of most bad pages, so `gopher_quality_min_words` is the first reason for nearly all of
them, and every `*_fails` share is measured on the text the modifiers left.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filters.base import TextModifier  # noqa: E402
from filters.stage import build_chain  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.text import spaceless_ratio  # noqa: E402

DEFAULT_UDHR = ("en", "de", "fr", "es", "it", "pt", "nl", "ru", "pl", "cs", "sv", "da", "fi", "tr",
                "id", "vi", "ar", "zh", "ja", "ko", "hi", "el", "hu", "ro", "bn", "ur", "ne", "hy", "am",
                "my", "th", "fa", "he", "uk")
PAGE_CHARS = 2000
_KANA = re.compile(r"[\u3040-\u30ff]")


# ---------------------------------------------------------------- known-good text

def guess_langs(texts: list[str]) -> list[str]:
    """The pipeline's language identifier (default langid config), else a script guess."""
    try:
        from pipeline.config import LangIdConfig
        from pipeline.extract.langid import LanguageIdentifier
        return list(LanguageIdentifier(LangIdConfig()).identify(texts)[0])
    except Exception as err:  # noqa: BLE001 - the model is optional here
        print(f"language identifier unavailable ({err}); guessing en/zh/ja", file=sys.stderr)
        return [("ja" if _KANA.search(t) else "zh") if spaceless_ratio(t) > 0.3 else "en" for t in texts]


def load_articles(data: Path) -> list[tuple[str, str]]:
    path = data / "html/scrapinghub-article-extraction-benchmark/ground-truth.json"
    if not path.is_file():
        return []
    texts = [v.get("articleBody") or "" for v in json.loads(path.read_text(encoding="utf-8")).values()]
    return list(zip(texts, guess_langs(texts)))


def pages_of(text: str, size: int = PAGE_CHARS) -> list[str]:
    """Paragraphs (non-blank lines) gathered into pages of about `size` characters."""
    pages, current = [], []
    for para in (p.strip() for p in text.splitlines()):
        if not para:
            continue
        current.append(para)
        if sum(map(len, current)) >= size:
            pages.append("\n".join(current))
            current = []
    if current and (sum(map(len, current)) >= size / 4 or not pages):
        pages.append("\n".join(current))
    elif current:
        pages[-1] += "\n" + "\n".join(current)
    return pages


def load_udhr(data: Path, langs: str) -> list[tuple[str, str]]:
    root = data / "lang/udhr"
    if not (root / "index.json").is_file():
        return []
    wanted = None if langs == "all" else set(langs.split(","))
    seen: set[str] = set()
    docs = []
    entries = json.loads((root / "index.json").read_text(encoding="utf-8"))
    # the standard variety first: code == iso6393 ('fra', not '068' French (Welche)), then the
    # newest orthography ('deu_1996' before 'deu_1901')
    entries.sort(key=lambda e: (e.get("code") != e.get("iso6393"),
                                not str(e.get("code", "")).startswith(str(e.get("iso6393"))),
                                [-ord(c) for c in str(e.get("code", ""))]))
    for entry in entries:
        lang = (entry.get("bcp47") or entry.get("code")).split("-")[0]   # de-1996 -> de
        if (wanted is not None and lang not in wanted) or lang in seen:
            continue                     # one file per language
        path = root / entry["file"]
        if not path.is_file():
            continue
        seen.add(lang)
        text = path.read_text(encoding="utf-8", errors="replace")
        docs.extend((page, lang) for page in pages_of(text))
    return docs


def split_udhr(docs: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """UDHR pages split per language into a calibration half and a held-out half.

    `heldout`: the odd pages (1, 3, ...) of each language as `load_udhr` cut them, whole pages, so
    the bench grades on the same kind of page as before. `calib`: calibration documents from the
    even pages (0, 2, ...) only: every run of consecutive paragraphs of about PAGE_CHARS characters
    over those pages' paragraphs (`windows_of`), so a language yields the 20+ documents
    `curate calibrate-filters --min-docs` asks for. The windows overlap (one paragraph apart): more
    documents, not more independent text.
    """
    pages: dict[str, list[str]] = defaultdict(list)
    for text, lang in docs:
        pages[lang].append(text)
    out: dict[str, list[tuple[str, str]]] = {"calib": [], "heldout": []}
    for lang, texts in pages.items():
        out["heldout"].extend((t, lang) for t in texts[1::2])
        paragraphs = [p for t in texts[0::2] for p in t.splitlines()]
        out["calib"].extend((w, lang) for w in windows_of(paragraphs))
    return out


def windows_of(paragraphs: list[str], size: int = PAGE_CHARS) -> list[str]:
    """Every run of consecutive paragraphs, one paragraph apart, reaching `size` characters."""
    out = []
    for start in range(len(paragraphs)):
        run, chars = [], 0
        for para in paragraphs[start:]:
            run.append(para)
            chars += len(para)
            if chars >= size:
                break
        if chars < size:
            break            # the tail is shorter than a page: already inside the last window
        out.append("\n".join(run))
    return out or (["\n".join(paragraphs)] if paragraphs else [])


def load_reference(path: str) -> list[tuple[str, str]]:
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq
        rows = pq.read_table(path).to_pylist()
    else:
        with open(path, encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    return [(r.get("text") or "", r.get("lang") or "en") for r in rows]


# ---------------------------------------------------------------- known-bad text

_WORDS = ("shop best cheap online free price sale deal buy discount offer new top quality fast "
          "shipping store review product brand official outlet coupon code order now").split()
_NAV = ("Home About Contact Blog News Products Services Careers Login Register Cart Checkout Help FAQ "
        "Sitemap Privacy Terms Support Partners Press Events Gallery Downloads Forum Archive").split()
_TOPICS = ("shoes jackets watches phones laptops handbags sunglasses jeans sneakers perfume headphones "
           "loans insurance casino pills supplements tickets hotels flights").split()
_CITIES = "London Paris Berlin Madrid Rome Dallas Houston Chicago Boston Miami Denver Seattle".split()
_ADULT = ("porn xxx sex nude naked pussy cock fuck fucking horny milf anal blowjob slut cum tits "
          "boobs hardcore webcam escort").split()


def _nav_page(r: random.Random) -> str:
    lines = [" | ".join(r.sample(_NAV, 6))]
    for _ in range(r.randint(15, 40)):
        lines.append(f"» {r.choice(_TOPICS).title()} {r.choice(_CITIES)} ({r.randint(1, 300)})")
    lines.append(f"© {r.randint(2005, 2024)} {r.choice(_WORDS).title()}{r.choice(_TOPICS).title()}. All rights reserved.")
    return "\n".join(lines)


def _stuffing_page(r: random.Random) -> str:
    topic, city = r.choice(_TOPICS), r.choice(_CITIES)
    keys = [f"{a} {topic}" for a in ("cheap", "best", "buy", "discount", "online")] + \
           [f"{topic} {city}", f"{topic} sale", f"{topic} outlet"]
    return " ".join(r.choice(keys) for _ in range(r.randint(60, 200))) + "."


def _spam_page(r: random.Random) -> str:
    parts = []
    for _ in range(r.randint(8, 25)):
        word = r.choice(_TOPICS).upper()
        parts.append(r.choice([f"!!! {word} {r.randint(50, 90)}% OFF !!! >>> CLICK HERE <<<",
                               f"$$$ BUY {word} NOW $$$ ### {r.choice(_WORDS).upper()} ###",
                               f"*** FREE {word} *** call +1-{r.randint(200, 999)}-{r.randint(1000, 9999)} ...",
                               f"#{r.choice(_TOPICS)} #{r.choice(_WORDS)} #{r.choice(_CITIES).lower()} #deal"]))
    return "\n".join(parts)


def _template_page(r: random.Random) -> str:
    topic = r.choice(_TOPICS)
    sentence = (f"Looking for the best {topic} in {{city}}? Our {topic} in {{city}} are the best {topic} "
                f"you can buy in {{city}} at the lowest price.")
    lines = [sentence.format(city=r.choice(_CITIES)) for _ in range(r.randint(10, 40))]
    return "\n".join(lines)


def _repeat_page(r: random.Random) -> str:
    block = [" ".join(r.choice(_WORDS) for _ in range(r.randint(6, 12))).capitalize() + "." for _ in range(3)]
    return "\n".join(block * r.randint(6, 15))


def _adult_page(r: random.Random) -> str:
    lines = []
    for _ in range(r.randint(10, 30)):
        words = [r.choice(_ADULT) for _ in range(r.randint(2, 4))] + [r.choice(("videos", "free", "hot", "live", "cams"))]
        r.shuffle(words)
        lines.append(" ".join(words).capitalize() + " " + r.choice(("now.", "here!", "tonight.", "free!")))
    return "\n".join(lines)


def _dump_page(r: random.Random) -> str:
    if r.random() < 0.5:
        return "\n".join(" ".join(f"{r.uniform(-1000, 1000):.2f}" for _ in range(r.randint(6, 12)))
                         for _ in range(r.randint(20, 60)))
    names = ["x", "y", "data", "item", "idx", "buf"]
    return "\n".join(f"var {r.choice(names)}{i} = {{ id: {r.randint(0, 999)}, v: [{r.randint(0, 9)}, {r.randint(0, 9)}] }};"
                     for i in range(r.randint(20, 60)))


def _lorem_page(r: random.Random) -> str:
    base = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
            "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco.")
    return "\n".join([f"{r.choice(_TOPICS).title()} page"] + [base] * r.randint(3, 10))


def _short_page(r: random.Random) -> str:
    return r.choice(["Page not found.", "403 Forbidden", "Loading...", "Please enable cookies to continue.",
                     f"Redirecting to {r.choice(_NAV).lower()}...", "Access denied. Sign in to view this page."])


def _seo_prose_page(r: random.Random) -> str:
    """Keyword-stuffed prose that passes the line rules: sentences, stop words, punctuation."""
    topic, city = r.choice(_TOPICS), r.choice(_CITIES)
    frames = [f"The best cheap {topic} in {city} are the cheap {topic} that you can buy online.",
              f"Buy cheap {topic} online and get the best {topic} deals in {city} today.",
              f"Our cheap {topic} are the best {topic} and we have the cheapest {topic} in {city}.",
              f"If you want cheap {topic} then our {topic} store is the best place for cheap {topic}.",
              f"Cheap {topic} {city}, best {topic} {city}, discount {topic} {city} and {topic} sale."]
    return "\n".join(" ".join(r.choice(frames) for _ in range(r.randint(2, 4))) for _ in range(r.randint(6, 14)))


def _adult_prose_page(r: random.Random) -> str:
    """Adult spam written in sentences, so only the word list can tell it."""
    lines = []
    for _ in range(r.randint(6, 14)):
        a, b, c = (r.choice(_ADULT) for _ in range(3))
        lines.append(r.choice([
            f"Watch the best free {a} videos and the hottest {b} clips with {c} girls that have been waiting for you.",
            f"Join now to see {a} and {b} live on webcam, where the {c} action never stops and it is all free.",
            f"This is the number one site for {a} and {b} with thousands of {c} movies to stream tonight."]))
    return "\n".join(lines)


STYLES = {"navigation": _nav_page, "keyword_stuffing": _stuffing_page, "spam": _spam_page,
          "templated": _template_page, "repetition": _repeat_page, "adult": _adult_page,
          "dump": _dump_page, "placeholder": _lorem_page, "too_short": _short_page,
          "seo_prose": _seo_prose_page, "adult_prose": _adult_prose_page}


def generate_bad(seed: int, per_style: int) -> list[tuple[str, str, str]]:
    """(text, lang, style): `per_style` pages of each style, English."""
    r = random.Random(seed)
    return [(make(r), "en", style) for style, make in STYLES.items() for _ in range(per_style)]


# Real low-quality records of DATA/warc, labelled by hand (read the extracted text): URL -> why.
# Pages of those files not listed here (company pages, IANA documentation, Wikipedia) are not used.
REAL_BAD = {
    "commoncrawl/CC-MAIN-2020-34-sample.warc.gz": {
        "http://003338.cn/": "mojibake SEO spam stitched from news snippets",
        "http://035.psb556.com/": "navigation link list",
        "http://041696.com/": "lottery spam post list",
        "http://044545.com/": "gambling spam (QQ contact, deposit offers)",
        "http://0513mt.com/": "adult story link list",
        "http://05925.net/": "adult site disclaimer only",
        "http://06.live-radsport.ch/fahrerstatistik": "database error and an empty template",
        "http://06.live-radsport.ch/tippspiel": "navigation link list",
        "http://0615235.com/": "product codes and click counts",
        "http://0755krk.com/": "lottery spam post list",
        "http://0760.jxtdw.com/": "job table cells one per line",
        "http://077678u.info/": "lottery spam navigation",
        "http://096355.com/": "adult category navigation",
    },
    "clueweb09/clueweb09-ja-quirk.warc.gz": {"http://www.uraharajuku.st/": "shop ranking template"},
    "pywb-sample-archive/example-wget-1-14.warc.gz": {"http://example.com/": "placeholder page"},
}


def load_real_bad(data: Path) -> list[tuple[str, str, str]]:
    """(text, lang, 'warc') for the hand-labelled records of REAL_BAD (one per distinct text)."""
    from pipeline.extract.stage import extract_file

    config = load_config(None, [], stage_files=False)
    texts: dict[str, None] = {}
    for name, prefixes in REAL_BAD.items():
        path = data / "warc" / name
        if not path.is_file():
            continue
        for row in extract_file(str(path), config):
            url, text = row.get("url") or "", row.get("text") or ""
            if text.strip() and any(url.startswith(p) for p in prefixes):
                texts.setdefault(text)
    found = list(texts)
    return [(text, lang, "warc_real") for text, lang in zip(found, guess_langs(found))]


# ---------------------------------------------------------------- measurement

def decide(chain, texts: list[str], langs: list[str]):
    """(first drop reason per document or None, {rule: mask of documents failing it})."""
    docs = [(t, lang, None, None) for t, lang in zip(texts, langs)]
    names = chain.score_names()
    scored = chain.score_documents(docs) if docs else []
    values = np.array([row for _, row in scored], dtype=np.float64).reshape(len(docs), len(names))
    reasons = np.full(len(docs), None, dtype=object)
    fails: dict[str, np.ndarray] = {}
    for f in chain.filters:
        cols = {n.split("__", 1)[1]: values[:, j] for j, n in enumerate(names) if n.startswith(f"{f.prefix}__")}
        table = chain.thresholds[f.name]
        _, why = f.keep(cols, langs, table)
        first = (reasons == None) & (why != None)  # noqa: E711 - elementwise
        reasons[first] = why[first]
        for field in dataclasses.fields(f.Thresholds):   # the rule alone, as base.keep compares
            limit = table.column(field.name, langs)
            if np.isnan(limit).all():
                continue
            metric = values_of(cols, field.name)
            with np.errstate(invalid="ignore"):
                failed = (metric < limit) if field.name.startswith("min_") else (metric > limit)
            fails[f"{f.prefix}_{field.name}"] = failed & ~np.isnan(limit) & ~np.isnan(metric)
    return reasons, fails


def values_of(cols, field: str) -> np.ndarray:
    return np.asarray(cols[field.split("_", 1)[1]], dtype=np.float64)


def measure(config, good: dict[str, list[tuple[str, str]]], bad: list[tuple[str, str, str]]) -> dict:
    filt = dataclasses.replace(config.filter, filters=[n for n in config.filter.filters
                                                       if not n.startswith("token_outlier")])
    chain = build_chain(filt)
    good_rows = [(set_name, text, lang) for set_name, docs in good.items() for text, lang in docs]
    g_reasons, g_fails = decide(chain, [t for _, t, _ in good_rows], [lang for _, _, lang in good_rows])
    b_reasons, b_fails = decide(chain, [t for t, _, _ in bad], [lang for _, lang, _ in bad])
    n_good, n_bad = max(len(good_rows), 1), max(len(bad), 1)

    def share(mask_or_count, total):
        return round(float(np.sum(mask_or_count)) / max(total, 1), 4)

    per_rule = {}
    for rule in sorted(set(g_fails) | set(b_fails) | {r for r in g_reasons if r} | {r for r in b_reasons if r}):
        row = {"good_first": share(g_reasons == rule, n_good), "bad_first": share(b_reasons == rule, n_bad),
               "good_fails": share(g_fails.get(rule, np.zeros(0)), n_good),
               "bad_fails": share(b_fails.get(rule, np.zeros(0)), n_bad)}
        if any(row.values()):
            per_rule[rule] = row
    per_set, per_lang = {}, defaultdict(lambda: [0, 0, defaultdict(int)])
    for name in good:
        idx = np.array([i for i, row in enumerate(good_rows) if row[0] == name], dtype=np.int64)
        dropped = g_reasons[idx] != None  # noqa: E711
        per_set[name] = {"docs": len(idx), "dropped": int(dropped.sum()), "share": share(dropped, len(idx)),
                         "reasons": dict(sorted(_count(g_reasons[idx]).items(), key=lambda kv: -kv[1]))}
    for (_, _, lang), reason in zip(good_rows, g_reasons):
        per_lang[lang][0] += 1
        if reason is not None:
            per_lang[lang][1] += 1
            per_lang[lang][2][reason] += 1
    per_style = {}
    styles = [s for _, _, s in bad]
    for style in dict.fromkeys(styles):
        idx = np.array([i for i, s in enumerate(styles) if s == style], dtype=np.int64)
        per_style[style] = {"docs": len(idx), "share": share(b_reasons[idx] != None, len(idx)),  # noqa: E711
                            "reasons": _count(b_reasons[idx])}
    return {
        "filters": filt.filters,
        "good_docs": len(good_rows), "bad_docs": len(bad),
        "good_dropped": share(g_reasons != None, n_good),   # noqa: E711
        "bad_dropped": share(b_reasons != None, n_bad),     # noqa: E711
        "per_set": per_set,
        "per_rule": per_rule,
        "per_lang": {lang: {"docs": n, "share": round(d / n, 4), "reasons": dict(r)}
                     for lang, (n, d, r) in sorted(per_lang.items())},
        "per_style": per_style,
    }


def _count(reasons) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in reasons:
        if r is not None:
            out[r] += 1
    return dict(out)


def print_report(result: dict) -> None:
    print(f"filters: {', '.join(result['filters'])} (token_outlier left out)")
    print(f"good: {result['good_docs']} docs, dropped {result['good_dropped']:.1%}   "
          f"bad: {result['bad_docs']} docs, dropped {result['bad_dropped']:.1%}")
    for name, row in result["per_set"].items():
        print(f"  good set {name}: {row['dropped']}/{row['docs']} dropped ({row['share']:.1%}) {row['reasons']}")
    print(f"{'rule':48s} {'good first':>10s} {'bad first':>10s} {'good alone':>10s} {'bad alone':>10s}")
    for rule, row in result["per_rule"].items():
        print(f"{rule:48s} {row['good_first']:10.1%} {row['bad_first']:10.1%} "
              f"{row['good_fails']:10.1%} {row['bad_fails']:10.1%}")
    print("good text dropped per language:")
    for lang, row in result["per_lang"].items():
        if row["share"]:
            print(f"  {lang:10s} {row['share']:6.1%} of {row['docs']:4d}  {row['reasons']}")
    print("bad text dropped per style:")
    for style, row in result["per_style"].items():
        print(f"  {style:18s} {row['share']:6.1%} of {row['docs']:4d}  {row['reasons']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(ROOT / "conf/default.yaml"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--data", default=str(ROOT.parent / "shared/data"))
    parser.add_argument("--good", action="append", default=[], metavar="FILE")
    parser.add_argument("--udhr-langs", default=",".join(DEFAULT_UDHR))
    parser.add_argument("--udhr-split", choices=("all", "heldout", "calib"), default="all",
                        help="UDHR pages to measure: all, the held-out odd pages, or the calibration windows "
                             "of the even pages (split_udhr)")
    parser.add_argument("--write-udhr-reference", metavar="FILE",
                        help="write the UDHR calibration split (text, lang JSONL) for curate calibrate-filters; "
                             "measure nothing")
    parser.add_argument("--no-articles", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bad-per-style", type=int, default=40)
    parser.add_argument("--no-warc", action="store_true", help="leave out the hand-labelled real WARC records")
    args = parser.parse_args(argv)
    config = load_config(args.config, args.set, stage_files=False)
    data = Path(args.data)
    good: dict[str, list[tuple[str, str]]] = {}
    if not args.no_articles:
        good["articles"] = load_articles(data)
    if args.write_udhr_reference:
        reference = split_udhr(load_udhr(data, args.udhr_langs or ",".join(DEFAULT_UDHR)))["calib"]
        with open(args.write_udhr_reference, "w", encoding="utf-8") as out:
            for text, lang in reference:
                out.write(json.dumps({"text": text, "lang": lang}, ensure_ascii=False) + "\n")
        print(f"{len(reference)} UDHR calibration document(s) -> {args.write_udhr_reference}", file=sys.stderr)
        return 0
    if args.udhr_langs:
        udhr = load_udhr(data, args.udhr_langs)
        good["udhr" if args.udhr_split == "all" else f"udhr_{args.udhr_split}"] = \
            udhr if args.udhr_split == "all" else split_udhr(udhr)[args.udhr_split]
    for path in args.good:
        good[Path(path).stem] = load_reference(path)
    good = {k: v for k, v in good.items() if v}
    if not good:
        print("no known-good text found", file=sys.stderr)
        return 2
    bad = generate_bad(args.seed, args.bad_per_style) + ([] if args.no_warc else load_real_bad(data))
    result = measure(config, good, bad)
    print_report(result)
    print(json.dumps(result, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
