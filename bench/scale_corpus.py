"""The scaling benchmark's corpus: realistic HTML pages in gzipped WARC files, built from real
article text, with a known share of planted duplicates.

    python bench/scale_corpus.py --docs 5000 --out /tmp/corpus [--data ../shared/data] [--seed 1]

Material (../shared/data, read once, never copied): the 181 pages of
html/scrapinghub-article-extraction-benchmark/ (html/<sha>.html.gz) and their gold article texts
(ground-truth.json {sha: {url, articleBody}}).
- Sentences: each gold articleBody is split on newlines into paragraphs and those into sentences;
  a sentence is kept when it has at least 5 words (12 characters in scripts without spaces), at
  most 80, ends in . ! ? " ' or 。！？ and carries none of the C4 page killers (curly brackets,
  lorem ipsum) or line killers (javascript, cookie/policy text). Sentences are pooled per language:
  the page's <html lang> where it has one, else fastText language ID of its gold text. Languages
  with fewer than 300 sentences are left out (their few sentences would repeat in every document):
  with the shared data that leaves en (~98% of documents) and ru (~2%; most Russian documents fail
  Gopher's 80% alphabetic-words rule on their standalone dashes, and the filter drops them).
- Heads: each page's real <head> (styles, scripts, meta tags; at most 64 KB), its charset
  declarations and <title> removed, so parsing costs what it costs on the web.

A generated document is one HTTP 200 `text/html; charset=utf-8` response record:
<head> of a real page of the same language + a generated <body>: header with the site name and a
nav bar, an <article> with an <h1> title, a byline and 4-20 paragraphs of 2-4 sentences drawn from
the language's pool (more paragraphs until it holds at least 180 words of prose), an <aside> of
"most read" links, and a footer. Paragraphs are recombined from sentences, not reused whole:
with whole paragraphs every line would recur in hundreds of documents at 80,000 documents and the
dedup stage's line step (a line in more than 6 documents is cut) would empty the corpus.

Planted duplicates (defaults): 10% near copies, each a copy of an original document (in a language
written with spaces) with one word edit (replace, insert or delete) per 150 words of its article,
aimed at an exact word 5-gram Jaccard of ~0.94 (0.93-0.99) with its original (checked on a sample, see
`near_jaccard` in the summary); 2% exact copies, byte-identical pages. Every copy gets its own URL
on its own host and a fetch date 1 hour to 30 days older than its original, so the keep policy
(most recent first) keeps the original. An original may have several copies.

URLs are distinct (the document number is in the path), hosts spread over max(100, docs / 8)
generated domains; originals' WARC-Dates are distinct seconds spread over 2023-2024. Everything is
seeded: the same --seed and --docs give byte-identical files. The plan (roles, copy sources,
languages, domains, dates) is drawn once with numpy; each page then comes from its own
random.Random(seed, document), so a file can be written without the others and cost is linear.

Output in --out: part-NNNNN.warc.gz (--docs-per-file documents each, at least --min-files files so
every core has work), truth.parquet (record_id, url, role original|near|exact, source_record_id,
lang, article_words) and corpus.json (the summary this script prints).
"""
from __future__ import annotations

import argparse
import gzip
import html
import io
import json
import math
import multiprocessing
import random
import re
import sys
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # the repository's packages, ahead of bench/ (no bench script is named like a package)

DEFAULT_DATA = ROOT.parent / "shared" / "data"
BENCHMARK = Path("html") / "scrapinghub-article-extraction-benchmark"

ORIGINAL, NEAR, EXACT = 0, 1, 2
ROLE_NAMES = ("original", "near", "exact")
MIN_POOL_SENTENCES = 300       # a language's pool must be this large to write documents in it
MAX_HEAD_CHARS = 64_000        # larger heads (inline bundles of 100s of KB) would dominate the corpus
MIN_ARTICLE_WORDS = 180        # Gopher's minimum is 50 words; C4's 5 sentences: far above both
WORDS_PER_EDIT = 150           # one word edit per 150 words: word 5-gram Jaccard ~0.94
DATE_START = np.datetime64("2023-01-01T00:00:00", "s")
DATE_SPAN_S = 731 * 86400     # 2023 and 2024
COPY_LAG_S = 30 * 86400        # a copy is fetched up to 30 days before its original
GZIP_LEVEL = 1                 # per-record gzip members; level 1: half the time of 6, files ~10% larger
JACCARD_SAMPLE = 200           # near copies whose article Jaccard is computed for the summary

_PARAGRAPH_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[^a-z\s])|(?<=[。！？])")
_ENDS = tuple(".!?\"'。！？")
_UNWANTED = re.compile(r"[{}]|lorem ipsum|javascript|cookie|privacy policy|terms of use|https?://", re.I)
_META_CHARSET = re.compile(r"<meta\b[^>]*(?:charset|http-equiv\s*=\s*[\"']?(?:content-type|refresh))[^>]*>", re.I)
_TITLE = re.compile(r"<title\b.*?</title\s*>", re.I | re.S)
_BASE = re.compile(r"<base\b[^>]*>", re.I)
_HEAD = re.compile(r"<head\b[^>]*>(.*?)</head\s*>", re.I | re.S)
_HTML_LANG = re.compile(r"<html\b[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.I)
_WORD = re.compile(r"^[^\W\d_]{3,}$")

SECTIONS = ("News", "World", "Politics", "Business", "Technology", "Science", "Health", "Sport",
            "Culture", "Travel", "Opinion", "Video", "Podcasts", "Weather", "Local", "Education")
FOOTER_LINKS = ("About us", "Contact", "Careers", "Advertise", "Newsletters", "Privacy policy",
                "Terms of use", "Accessibility", "Sitemap", "RSS")
FIRST_NAMES = ("Anna", "James", "Maria", "David", "Sofia", "Daniel", "Laura", "Michael", "Elena",
               "Thomas", "Sarah", "Peter", "Julia", "Robert", "Nina", "Martin", "Clara", "Omar")
LAST_NAMES = ("Miller", "Novak", "Garcia", "Okafor", "Schmidt", "Rossi", "Kowalski", "Tanaka",
              "Dubois", "Hansen", "Silva", "Petrov", "Brennan", "Haddad", "Lindqvist", "Moreau")
TLDS = ("com", "com", "com", "net", "org", "co.uk", "de", "info", "news", "io", "ru", "com.au",
        "ca", "fr", "it", "co", "online", "media")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


@dataclass(frozen=True)
class Material:
    """What the real pages give: sentence pools and heads per language, and the languages'
    weights (their share of source pages)."""
    langs: tuple[str, ...]
    weights: np.ndarray
    sentences: dict[str, list[str]]
    vocab: dict[str, list[str]]
    heads: dict[str, list[str]]
    site_words: list[str]
    spaceless: frozenset[str]


@dataclass(frozen=True)
class Plan:
    """Who is what, decided once for the whole corpus (vectorised): role, copy source, language,
    host and fetch date of every document."""
    docs: int
    seed: int
    role: np.ndarray          # int8: ORIGINAL | NEAR | EXACT
    source: np.ndarray        # int64: the copied original, -1 for originals
    lang: np.ndarray          # int: index into Material.langs
    domain: np.ndarray        # int: index into hosts
    fetched: np.ndarray       # datetime64[s]
    hosts: tuple[str, ...]
    site_names: tuple[str, ...]


@dataclass
class Page:
    """A page's parts before rendering; a near copy edits `paragraphs` of its original's page."""
    head: str
    title: str
    byline: str
    paragraphs: list[list[str]]   # words of each paragraph
    nav: list[str]
    most_read: list[str]
    footer_links: list[str]
    year: int


# --- material -------------------------------------------------------------------------------

def load_material(data: Path) -> Material:
    """Sentence pools, edit vocabularies and cleaned heads per language from the benchmark pages."""
    root = data / BENCHMARK
    truth_path = root / "ground-truth.json"
    if not truth_path.is_file():
        raise SystemExit(f"error: {truth_path} not found (pass --data, the folder holding html/)")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    shas = sorted(truth)
    pages = [_read_page(root / "html" / f"{sha}.html.gz") for sha in shas]
    bodies = [truth[sha].get("articleBody") or "" for sha in shas]
    langs = _page_languages([lang for lang, _ in pages], bodies)
    from pipeline.config import FilterConfig

    segmentation = FilterConfig().segmentation
    spaceless = frozenset(lang for lang, mode in segmentation.items() if mode == "chars")
    pools: dict[str, set[str]] = {}
    for lang, body in zip(langs, bodies):
        pools.setdefault(lang, set()).update(_sentences(body, lang in spaceless))
    usable = sorted(lang for lang, pool in pools.items() if len(pool) >= MIN_POOL_SENTENCES and lang != "und")
    if not usable:
        raise SystemExit(f"error: no language with {MIN_POOL_SENTENCES} usable sentences under {root}")
    sentences = {lang: sorted(pools[lang]) for lang in usable}
    counts = np.array([langs.count(lang) for lang in usable], dtype=float)
    all_heads = [head for _, head in pages if head and len(head) <= MAX_HEAD_CHARS]
    heads = {lang: [h for (_, h), page_lang in zip(pages, langs)
                    if page_lang == lang and h and len(h) <= MAX_HEAD_CHARS] or all_heads for lang in usable}
    vocab = {lang: sorted({w for s in sentences[lang] for w in s.split() if _WORD.match(w)}) for lang in usable}
    site_words = [w.lower() for w in vocab.get("en", next(iter(vocab.values()))) if w.isascii() and 4 <= len(w) <= 9]
    return Material(tuple(usable), counts / counts.sum(), sentences, vocab, heads, sorted(set(site_words)),
                    spaceless)


def _read_page(path: Path) -> tuple[str | None, str]:
    """(<html lang> or None, cleaned <head> inner markup) of one real page."""
    from pipeline.extract.charset import decode_html

    markup, _ = decode_html(gzip.decompress(path.read_bytes()))
    lang = _HTML_LANG.search(markup)
    head = _HEAD.search(markup)
    inner = head.group(1) if head else ""
    inner = _BASE.sub("", _TITLE.sub("", _META_CHARSET.sub("", inner)))
    return (lang.group(1).lower() if lang else None), inner.strip()


def _page_languages(declared: list[str | None], bodies: list[str]) -> list[str]:
    """The <html lang> where a page has one, else the pipeline's fastText language ID of its
    gold text ('und' when the model is missing)."""
    unknown = [i for i, lang in enumerate(declared) if not lang]
    found = ["und"] * len(unknown)
    if unknown:
        try:
            from pipeline.config import LangIdConfig
            from pipeline.extract.langid import LanguageIdentifier

            found, _ = LanguageIdentifier(LangIdConfig()).identify([bodies[i] for i in unknown])
        except Exception as err:  # the corpus stays usable, with fewer source pages per language
            print(f"note: language ID unavailable ({err}); pages without <html lang> are left out", file=sys.stderr)
    langs = list(declared)
    for i, lang in zip(unknown, found):
        langs[i] = lang
    return [lang or "und" for lang in langs]


def _sentences(body: str, spaceless: bool) -> list[str]:
    """Sentences of a gold text that survive the pipeline's line and page rules on their own."""
    out = []
    for paragraph in body.split("\n"):
        for sentence in _PARAGRAPH_SENTENCES.split(paragraph.strip()):
            sentence = " ".join(sentence.split())
            size = len(sentence) if spaceless else len(sentence.split())
            low, high = (12, 400) if spaceless else (5, 80)
            if low <= size <= high and sentence.endswith(_ENDS) and not _UNWANTED.search(sentence):
                out.append(sentence)
    return out


# --- plan -----------------------------------------------------------------------------------

def make_plan(material: Material, docs: int, seed: int, near_share: float, exact_share: float) -> Plan:
    """Roles, copy sources, languages, hosts and dates of all documents, drawn with numpy."""
    rng = np.random.default_rng(seed)
    lang = rng.choice(len(material.langs), size=docs, p=material.weights)
    n_near, n_exact = round(docs * near_share), round(docs * exact_share)
    if n_near + n_exact >= docs:
        raise SystemExit("error: near_share + exact_share must leave some originals")
    order = rng.permutation(docs)
    role = np.zeros(docs, dtype=np.int8)
    role[order[:n_near]] = NEAR
    role[order[n_near:n_near + n_exact]] = EXACT
    originals = np.sort(order[n_near + n_exact:])
    spaced = np.array([name not in material.spaceless for name in material.langs])
    editable = originals[spaced[lang[originals]]]
    if n_near and not len(editable):
        raise SystemExit("error: no original in a language written with spaces to make near copies of")
    source = np.full(docs, -1, dtype=np.int64)
    source[order[:n_near]] = rng.choice(editable, size=n_near) if n_near else []
    source[order[n_near:n_near + n_exact]] = rng.choice(originals, size=n_exact)
    copies = source >= 0
    lang[copies] = lang[source[copies]]
    # Originals: distinct seconds spread over two years; copies: 1 h to 30 days before their original.
    rank = rng.permutation(docs)
    step = (DATE_SPAN_S - COPY_LAG_S) // max(docs, 1)
    fetched = DATE_START + (COPY_LAG_S + rank * step).astype("timedelta64[s]")
    back = rng.integers(3600, COPY_LAG_S, size=docs).astype("timedelta64[s]")
    fetched[copies] = fetched[source[copies]] - back[copies]
    hosts, names = _hosts(material.site_words, max(100, docs // 8), rng)
    domain = rng.integers(len(hosts), size=docs)
    return Plan(docs, seed, role, source, lang, domain, fetched, hosts, names)


def _hosts(words: list[str], count: int, rng: np.random.Generator) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`count` distinct hosts like www.harborledger.co.uk, with a site name (Harbor Ledger)."""
    pick = rng.integers(len(words), size=(count, 2))
    tld = rng.integers(len(TLDS), size=count)
    hosts, names, seen = [], [], set()
    for k in range(count):
        a, b = words[pick[k, 0]], words[pick[k, 1]]
        stem = a + b if a + b not in seen else f"{a}{b}{k}"
        seen.add(stem)
        hosts.append(f"www.{stem}.{TLDS[tld[k]]}")
        names.append(f"The {a.capitalize()} {b.capitalize()}")
    return tuple(hosts), tuple(names)


# --- pages ----------------------------------------------------------------------------------

def compose_page(material: Material, lang: str, rnd: random.Random) -> Page:
    """An original page's parts: a real head of the language, a title, 4-20 paragraphs of 2-4
    sentences (more until MIN_ARTICLE_WORDS), nav, most-read links and footer links."""
    pool = material.sentences[lang]
    paragraphs: list[list[str]] = []
    words, target = 0, rnd.randint(4, 20)
    while len(paragraphs) < target or words < MIN_ARTICLE_WORDS:
        paragraph = " ".join(rnd.sample(pool, rnd.randint(2, 4))).split()
        paragraphs.append(paragraph)
        words += len(paragraph)
    when = f"{rnd.choice(MONTHS)} {rnd.randint(1, 28)}, {rnd.randint(2019, 2024)}"
    return Page(
        head=rnd.choice(material.heads[lang]),
        title=_headline(rnd.choice(pool), rnd),
        byline=f"By {rnd.choice(FIRST_NAMES)} {rnd.choice(LAST_NAMES)} | {when}",
        paragraphs=paragraphs,
        nav=rnd.sample(SECTIONS, rnd.randint(6, 10)),
        most_read=[_headline(s, rnd) for s in rnd.sample(pool, 5)],
        footer_links=rnd.sample(FOOTER_LINKS, rnd.randint(5, len(FOOTER_LINKS))),
        year=rnd.randint(2019, 2024))


def _headline(sentence: str, rnd: random.Random) -> str:
    """The first 5-10 words of a sentence, without its final punctuation: a link or a title."""
    return " ".join(sentence.split()[:rnd.randint(5, 10)]).rstrip(".!?\"'。！？,;:")


def edit_words(page: Page, vocab: list[str], rnd: random.Random) -> Page:
    """A near copy: one word replaced, inserted or deleted per WORDS_PER_EDIT words of the article,
    at random positions (a paragraph's last word excepted); each edit changes at most 5 word 5-grams."""
    paragraphs = [list(p) for p in page.paragraphs]
    sizes = [len(p) for p in paragraphs]
    for _ in range(max(1, sum(sizes) // WORDS_PER_EDIT)):
        paragraph = paragraphs[rnd.choices(range(len(paragraphs)), weights=sizes)[0]]
        # never the last word: it carries the terminal punctuation, without which C4's line rule
        # would cut the whole paragraph from the copy
        at, op = rnd.randrange(len(paragraph) - 1), rnd.random()
        if op < 0.6:
            paragraph[at] = rnd.choice(vocab)
        elif op < 0.8 or len(paragraph) < 8:
            paragraph.insert(at, rnd.choice(vocab))
        else:
            del paragraph[at]
    return Page(page.head, page.title, page.byline, paragraphs, page.nav, page.most_read, page.footer_links, page.year)


def render(page: Page, site: str, lang: str) -> bytes:
    """The page as UTF-8 HTML: real head, generated body with boilerplate around the article."""
    e = html.escape
    nav = "".join(f'<li><a href="/{s.lower()}/">{e(s)}</a></li>' for s in page.nav)
    article = "\n".join(f"<p>{e(' '.join(words))}</p>" for words in page.paragraphs)
    most_read = "".join(f'<li><a href="/story/{k}">{e(t)}</a></li>' for k, t in enumerate(page.most_read))
    footer = " ".join(f'<a href="/{t.lower().replace(" ", "-")}">{e(t)}</a>' for t in page.footer_links)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{e(page.title)} | {e(site)}</title>
{page.head}
</head>
<body class="article-page">
<header class="site-header"><div class="logo"><a href="/">{e(site)}</a></div>
<nav class="main-nav"><ul>{nav}</ul></nav>
<form class="search" action="/search"><input type="text" name="q" placeholder="Search"></form></header>
<main><div class="content">
<article class="story">
<h1>{e(page.title)}</h1>
<p class="byline">{e(page.byline)}</p>
{article}
<div class="share">Share: <a href="#">Facebook</a> <a href="#">X</a> <a href="#">Email</a></div>
</article>
<aside class="sidebar"><h2>Most read</h2><ol>{most_read}</ol>
<div class="newsletter"><h3>Newsletter</h3><p>Get our top stories in your inbox</p></div></aside>
</div></main>
<footer class="site-footer"><p>{footer}</p><p>&copy; {page.year} {e(site)}. All rights reserved.</p></footer>
</body></html>
""".encode("utf-8")


def page_of(material: Material, plan: Plan, doc: int) -> Page:
    """Document `doc`'s parts: its own draw, or its original's (edited for a near copy)."""
    origin = int(plan.source[doc]) if plan.role[doc] != ORIGINAL else doc
    lang = material.langs[plan.lang[origin]]
    page = compose_page(material, lang, random.Random(f"{plan.seed}:page:{origin}"))
    if plan.role[doc] == NEAR:
        page = edit_words(page, material.vocab[lang], random.Random(f"{plan.seed}:edit:{doc}"))
    return page


def site_of(plan: Plan, doc: int) -> str:
    """The site name: an exact copy is byte-identical, so it keeps its original's."""
    return plan.site_names[plan.domain[plan.source[doc] if plan.role[doc] == EXACT else doc]]


def url_of(plan: Plan, doc: int) -> str:
    section = SECTIONS[doc % len(SECTIONS)].lower()
    day = str(plan.fetched[doc])[:10].replace("-", "/")
    return f"https://{plan.hosts[plan.domain[doc]]}/{section}/{day}/story-{doc}.html"


def record_id_of(plan: Plan, doc: int) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'curate-scale:{plan.seed}:{doc}')}>"


# --- files ----------------------------------------------------------------------------------

def file_ranges(docs: int, docs_per_file: int, min_files: int) -> list[range]:
    """Contiguous document ranges, one per WARC file, of near-equal size."""
    files = max(1, min(docs, max(min_files, math.ceil(docs / docs_per_file))))
    bounds = np.linspace(0, docs, files + 1).round().astype(int)
    return [range(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def write_warc(material: Material, plan: Plan, docs: range, path: Path) -> tuple[int, list[int]]:
    """One gzipped WARC of response records; returns (payload bytes, article words per doc)."""
    payload_bytes, words = 0, []
    record = io.BytesIO()
    writer = WARCWriter(record, gzip=False)
    with open(path, "wb") as fh:
        for doc in docs:
            page = page_of(material, plan, doc)
            lang = material.langs[plan.lang[doc]]
            payload = render(page, site_of(plan, doc), lang)
            record.seek(0)
            record.truncate()
            writer.write_record(_response(writer, url_of(plan, doc), payload, plan.fetched[doc],
                                          record_id_of(plan, doc)))
            fh.write(_gzip_member(record.getvalue()))
            payload_bytes += len(payload)
            words.append(sum(len(p) for p in page.paragraphs))
    return payload_bytes, words


def _gzip_member(data: bytes) -> bytes:
    """One record as its own gzip member, as WARCWriter(gzip=True) writes it, but at GZIP_LEVEL
    instead of warcio's fixed level 9 (twice the time, for files ~10% smaller): generation is
    not what is measured, and reading costs about the same."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return compressor.compress(data) + compressor.flush()


def _response(writer: WARCWriter, url: str, payload: bytes, fetched: np.datetime64, record_id: str):
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                       ("Content-Length", str(len(payload)))], protocol="HTTP/1.1")
    headers = {"WARC-Date": f"{fetched}Z", "WARC-Record-ID": record_id}
    return writer.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=http,
                                     warc_headers_dict=headers)


_FORKED: tuple[Material, Plan] | None = None   # set before forking workers; read by _write_part


def _write_part(job: tuple[int, range, str]) -> tuple[int, int, list[int]]:
    index, docs, path = job
    material, plan = _FORKED
    payload_bytes, words = write_warc(material, plan, docs, Path(path))
    return index, payload_bytes, words


def write_truth(plan: Plan, material: Material, words: np.ndarray, path: Path) -> None:
    """Who is a copy of whom, by WARC-Record-ID (the pipeline keeps it as `record_id`)."""
    docs = range(plan.docs)
    ids = [record_id_of(plan, d) for d in docs]
    table = pa.table({
        "record_id": ids,
        "url": [url_of(plan, d) for d in docs],
        "role": pa.array(np.array(ROLE_NAMES)[plan.role]),
        "source_record_id": [ids[s] if s >= 0 else None for s in plan.source.tolist()],
        "lang": pa.array(np.array(material.langs)[plan.lang]),
        "article_words": pa.array(words, pa.int32()),
        "fetched_at": pa.array(plan.fetched.astype("datetime64[s]")),
    })
    pq.write_table(table, path)


def near_jaccard(material: Material, plan: Plan, sample: int = JACCARD_SAMPLE) -> dict:
    """Exact word 5-gram Jaccard (the dedup stage's shingles) of the first `sample` near copies'
    articles with their originals': what the planted near-duplicates aim at."""
    from dedup.minhash import batch_shingle_hashes, jaccard

    near = np.flatnonzero(plan.role == NEAR)[:sample]
    if not len(near):
        return {"checked": 0}
    texts = []
    for doc in near:
        for d in (int(plan.source[doc]), int(doc)):
            texts.append("\n".join(" ".join(p) for p in page_of(material, plan, d).paragraphs))
    hashes, offsets = batch_shingle_hashes(texts)
    values = np.array([jaccard(hashes[offsets[k]:offsets[k + 1]], hashes[offsets[k + 1]:offsets[k + 2]])
                       for k in range(0, len(texts), 2)])
    return {"checked": int(len(values)), "min": round(float(values.min()), 4),
            "median": round(float(np.median(values)), 4), "max": round(float(values.max()), 4),
            "below_0.9": int((values < 0.9).sum()), "below_0.8": int((values < 0.8).sum())}


def generate(data: Path, out: Path, docs: int, seed: int = 1, near_share: float = 0.10,
             exact_share: float = 0.02, docs_per_file: int = 1500, min_files: int = 4, jobs: int = 1,
             material: Material | None = None) -> dict:
    """Write the corpus into `out` (created; must not hold WARCs yet); returns the summary."""
    started = time.perf_counter()
    material = material or load_material(data)
    plan = make_plan(material, docs, seed, near_share, exact_share)
    out.mkdir(parents=True, exist_ok=True)
    ranges = file_ranges(docs, docs_per_file, min_files)
    parts = [(k, r, str(out / f"part-{k:05d}.warc.gz")) for k, r in enumerate(ranges)]
    global _FORKED
    _FORKED = (material, plan)
    try:
        if jobs > 1 and len(parts) > 1:
            with multiprocessing.get_context("fork").Pool(min(jobs, len(parts))) as pool:
                results = sorted(pool.imap_unordered(_write_part, parts))
        else:
            results = [_write_part(part) for part in parts]
    finally:
        _FORKED = None
    words = np.concatenate([np.asarray(w, dtype=np.int32) for _, _, w in results])
    write_truth(plan, material, words, out / "truth.parquet")
    summary = {
        "docs": docs, "files": len(parts), "seed": seed,
        "originals": int((plan.role == ORIGINAL).sum()),
        "planted_near": int((plan.role == NEAR).sum()), "planted_exact": int((plan.role == EXACT).sum()),
        "planted_duplicates": int((plan.role != ORIGINAL).sum()),
        "langs": {name: int((plan.lang == k).sum()) for k, name in enumerate(material.langs)},
        "hosts": len(set(plan.domain.tolist())),
        "article_words": {"min": int(words.min()), "median": int(np.median(words)),
                          "mean": round(float(words.mean()), 1), "max": int(words.max()),
                          "under_150": int((words < 150).sum())},
        "html_bytes": int(sum(b for _, b, _ in results)),
        "warc_bytes": int(sum(Path(p).stat().st_size for _, _, p in parts)),
        "write_s": round(time.perf_counter() - started, 2),
    }
    summary["near_jaccard"] = near_jaccard(material, plan)
    summary["seconds"] = round(time.perf_counter() - started, 2)
    (out / "corpus.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_corpus_arguments(parser)
    parser.add_argument("--docs", type=int, required=True, help="documents (WARC response records) to write")
    parser.add_argument("--out", type=Path, required=True, help="output folder for the WARC files, truth and summary")
    args = parser.parse_args(argv)
    summary = generate(args.data, args.out, args.docs, args.seed, args.near_share, args.exact_share,
                       args.docs_per_file, args.min_files, args.jobs)
    print(json.dumps(summary))


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """The corpus options, shared with bench/scale.py."""
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"shared data folder holding {BENCHMARK}/ (default: {DEFAULT_DATA})")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--near-share", type=float, default=0.10,
                        help="share of documents that are near copies of another (default 0.10)")
    parser.add_argument("--exact-share", type=float, default=0.02,
                        help="share of documents that are byte-identical copies under another URL (default 0.02)")
    parser.add_argument("--docs-per-file", type=int, default=1500, help="documents per WARC file (default 1500)")
    parser.add_argument("--min-files", type=int, default=4,
                        help="at least this many WARC files, so small corpora still spread over the cores (default 4)")
    parser.add_argument("--jobs", type=int, default=2, help="processes writing WARC files (default 2)")


if __name__ == "__main__":
    main()
