"""HTML -> main text at trafilatura's quality, several times faster: resiliparse plus boilerplate selectors.

Trafilatura's quality comes from knowing what boilerplate looks like; its cost from finding it with
Python-driven XPath over an lxml tree (a regular expression per element and class, several passes,
tree copies). resiliparse's main-content extraction walks the tree in C and is ~15x faster but
keeps too much: captions, bylines, datelines, titles, newsletter and cookie boxes. Handing it that
boilerplate as CSS selectors (`skip_elements`, matched in C by lexbor while it walks) closes the
gap for ~2 ms a page more (bench/extract_quality.py, one core: ~4 ms a page with the fallbacks,
trafilatura ~24 ms, resiliparse ~1.5 ms).

Class names are matched as substrings for words that name boilerplate wherever they appear
("photo-caption", "article__byline"), and as whole class tokens only for words that also occur in
page-wide wrapper classes ("has-sidebar", "ad-free-layout", "page-header-offset"). html, body, main
and article are never skipped: their classes describe the page, not a box on it.

Where the fast path is unsure it returns None and the caller runs trafilatura instead:
- the tree is deeper than MAX_DEPTH: resiliparse's main-content pass is quadratic in depth (a
  10,000-deep page: ~3 s a pass), while libxml2, under trafilatura, stops at 256 levels (~0.5 s);
- the selectors removed most of the text (a wrapper holding the article matched after all);
- little main text was found (a listing, an error page, an unusual layout: trafilatura's cascade of
  fallbacks decides those, and they are rare among pages with real text).

bench/extract_quality.py measures speed and token F1 against gold article bodies. The word lists
were written from what boilerplate is, then checked on half of the gold pages (its `dev` half);
two words that matched page wrappers ("widget", "read-more") and one tag (form) went.
"""
from __future__ import annotations

# Words naming a boilerplate box, matched anywhere in a class or id ("c-caption", "bylineWrap").
SUBSTRING_WORDS = (
    "caption", "credit", "byline", "author", "bio",                  # around the article, not in it
    "headline", "title", "dateline", "timestamp", "published",
    "newsletter", "signup", "subscribe", "cookie", "consent", "gdpr", "popup",
    "share", "social", "related", "recommend", "promo", "sponsor", "outbrain", "taboola",
    "breadcrumb", "print", "gallery", "slideshow", "photo", "copyright", "disclaimer", "toolbar",
)
# Of those, the ones also matched in ids: boxes laid over or beside the page that plugins name by id
# ("cookie-law-info-bar", "newsletter-popup"). Every substring selector costs ~0.02 ms a page.
ID_WORDS = ("cookie", "consent", "gdpr", "newsletter", "signup", "subscribe", "popup", "share", "social",
            "related", "recommend", "sponsor", "outbrain", "taboola", "breadcrumb")
# Words also found inside page-wide wrapper classes: matched only as a whole class token / id.
TOKEN_WORDS = (
    "ad", "ads", "advert", "advertisement", "sidebar", "rail", "header", "footer", "nav", "menu",
    "meta", "summary", "date", "image", "video", "tags", "modal",
)
# The article title is not its body; the rest are never main text.
SKIP_TAGS = ("h1", "figcaption", "aside", "nav", "footer", "header", "button")
NEVER_SKIPPED = ":not(html, body, main, article)"

# resiliparse options: main content on; comment sections, post metadata and alt texts off.
OPTIONS = dict(main_content=True, alt_texts=False, links=False, list_bullets=True,
               comments=False, post_meta=False)

# Unsure below these: less main text than MIN_CHARS, or, checked under GUARD_CHARS only (above
# it a wrapper match is implausible and the second pass would cost time), less than
# GUARD_SHARE of what the same extraction keeps without the selectors.
MIN_CHARS = 200
GUARD_CHARS = 1000
GUARD_SHARE = 0.5
# An element this many levels below <html>: lexbor looks for one in ~0.2 ms on a real page (none of
# the gold and WARC pages of the benchmark reaches 64 levels) and finds it at once in a nesting bomb.
MAX_DEPTH = 256
TOO_DEEP = "html" + " > *" * MAX_DEPTH


def _selectors() -> list[str]:
    attrs = [f"[class*={word} i]" for word in SUBSTRING_WORDS] + [f"[id*={word} i]" for word in ID_WORDS]
    attrs += [f"[class~={word} i]" for word in TOKEN_WORDS] + [f"[id={word} i]" for word in TOKEN_WORDS]
    return [selector + NEVER_SKIPPED for selector in attrs] + list(SKIP_TAGS)


SKIP_SELECTORS = _selectors()


def extract_main_text(html: str) -> str | None:
    """The main text of `html`, or None where the fast path is unsure (the caller falls back)."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(html)
    if tree.document.query_selector(TOO_DEEP) is not None:
        return None
    text = extract_plain_text(tree, skip_elements=SKIP_SELECTORS, **OPTIONS)
    if len(text) < GUARD_CHARS:
        whole = extract_plain_text(tree, **OPTIONS)
        if len(text) < GUARD_SHARE * len(whole):
            return None
    # One block a line, as trafilatura writes them: line-based filters (gopher's bullet and ellipsis
    # line ratios, c4_lines) would count resiliparse's blank separator lines as lines.
    text = "\n".join(line for line in text.split("\n") if line.strip())
    if len(text) < MIN_CHARS:
        return None
    return text
