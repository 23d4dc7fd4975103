"""The fast extractor: boilerplate goes, the article stays, and unsure pages get trafilatura's text."""
import pytest

from pipeline.config import KNOWN_EXTRACTORS, ConfigError, load_config
from pipeline.extract.extractors import BACKENDS, make_extractor
from pipeline.extract.fast_html import MIN_CHARS, extract_main_text
from pipeline.config import ExtractConfig

PARAGRAPHS = [
    "The city council approved the new budget on Tuesday after a debate that lasted more than six hours, "
    "with eight members voting in favour and three against the plan.",
    "Most of the additional money goes to public transport: two new tram lines, longer opening hours for "
    "the night buses and a discount for students and pensioners.",
    "Opposition members argued that the plan relies on optimistic tax forecasts and warned that the city "
    "may have to cut other services if the economy slows next year.",
    "The mayor said the first tram line should open in the spring of 2027, and that the council would "
    "publish quarterly reports on the spending.",
]
ARTICLE = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
TITLE = "Council approves budget"


def page(body: str, body_attrs: str = "") -> str:
    return (f'<!DOCTYPE html><html><head><title>{TITLE}</title><script>var tracker = "SCRIPT_TEXT";</script>'
            f"<style>.x {{ color: red }}</style></head><body {body_attrs}>{body}</body></html>")


NEWS_PAGE = page(f"""
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies</div>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<div class="container"><div class="article-wrap">
<h1>{TITLE}</h1>
<div class="article-byline">By Jane Doe, City Reporter</div>
<div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Tweet this</a></div>
<div class="media"><img src="t.jpg" alt="tram"><p class="image-caption">The new tram depot under construction. Photo: John Roe</p></div>
{ARTICLE}
<div class="newsletter-signup"><p>Get the morning briefing in your inbox every day.</p><button>Sign up</button></div>
<div class="related-stories"><h3>Related stories</h3><ul><li><a href="/a">Tram fares to rise</a></li>
<li><a href="/b">Night buses return</a></li></ul></div>
</div></div>
<footer><a href="/privacy">Privacy policy</a> <a href="/terms">Terms of use</a> Copyright 2026 City News</footer>
""")
# Kept by resiliparse's own main-content rule (test_plain_resiliparse_keeps_them): only the selectors drop them.
SELECTOR_BOILERPLATE = [TITLE, "By Jane Doe", "Photo: John Roe"]
BOILERPLATE = SELECTOR_BOILERPLATE + [
    "Accept all cookies", "Sport", "Share on Facebook", "morning briefing", "Related stories", "Tram fares",
    "Privacy policy", "Copyright 2026", "SCRIPT_TEXT", "color: red"]


def test_article_paragraphs_are_kept_one_a_line():
    assert extract_main_text(NEWS_PAGE) == "\n".join(PARAGRAPHS)


@pytest.mark.parametrize("boilerplate", BOILERPLATE)
def test_boilerplate_is_removed(boilerplate):
    assert boilerplate not in extract_main_text(NEWS_PAGE)


@pytest.mark.parametrize("boilerplate", SELECTOR_BOILERPLATE)
def test_plain_resiliparse_keeps_them(boilerplate):
    """The fixture is meaningful: resiliparse without the selectors keeps what the tests above drop."""
    text = make_extractor(ExtractConfig(extractor="resiliparse")).extract_inline(NEWS_PAGE, None).text
    assert boilerplate in text and PARAGRAPHS[0] in text


@pytest.mark.parametrize("body, body_attrs", [
    # page-wide classes holding boilerplate words: whole class tokens only, and never on html/body/main/article
    (f'<div class="layout-with-sidebar page-header-offset"><main class="content video-page">'
     f'<article class="post has-image ad-free">{ARTICLE}</article></main></div>', 'class="has-sidebar single-post"'),
    (f'<div class="adaptive-layout"><div class="navigation-wrapper-off">{ARTICLE}</div></div>', ""),
    (f'<main class="page-title-block related-content">{ARTICLE}</main>', 'class="photo-essay"'),
])
def test_the_selectors_never_drop_the_main_text(body, body_attrs):
    assert extract_main_text(page(body, body_attrs)) == "\n".join(PARAGRAPHS)


# A wrapper whose class names boilerplate ("share") holds the article: the selectors would leave
# only the paragraph outside it, under half the text, so the fast path is unsure.
OUTSIDE = ("The council meets every second Tuesday in the town hall; its sessions are open to the public "
           "and are streamed live on the city website, where the minutes are also published a week later. "
           "Residents may ask questions in writing up to two days before a session.")
WRAPPED = page(f'<div class="share-this-story-layout"><h1>{TITLE}</h1><div class="text">{ARTICLE}</div></div>'
               f'<div class="about"><p>{OUTSIDE}</p></div>')
# Nested deeper than libxml2 goes: trafilatura is faster there (resiliparse is quadratic in depth).
DEEP = page("<div>" * 300 + ARTICLE + "</div>" * 300)
# Too little main text to trust resiliparse's choice.
SHORT = page('<div class="links"><a href="/">Home</a> | <a href="/about">About us</a></div>'
             "<p>The shop is closed on Monday for the inventory.</p>")


@pytest.mark.parametrize("html", [WRAPPED, DEEP, SHORT], ids=["wrapper-matched", "deep", "short"])
def test_an_unsure_page_gets_trafilaturas_text(html):
    assert extract_main_text(html) is None
    fast = make_extractor(ExtractConfig(extractor="fast")).extract_inline(html, None)
    reference = make_extractor(ExtractConfig(extractor="trafilatura")).extract_inline(html, None)
    resiliparse = make_extractor(ExtractConfig(extractor="resiliparse")).extract_inline(html, None)
    assert fast == reference
    assert fast.text != resiliparse.text                   # not a fallback to the unfiltered resiliparse text


def test_wrapped_article_survives_through_the_fallback():
    text = make_extractor(ExtractConfig(extractor="fast")).extract_inline(WRAPPED, None).text
    assert all(p in text for p in PARAGRAPHS) and TITLE not in text


def test_short_means_under_min_chars():
    short_article = page(f"<article><p>{PARAGRAPHS[0][:MIN_CHARS - 10]}</p></article>")
    assert extract_main_text(short_article) is None
    assert extract_main_text(page(f"<article>{ARTICLE}</article>")) is not None


def test_every_known_extractor_has_a_backend(tmp_path):
    assert set(BACKENDS) == set(KNOWN_EXTRACTORS) and "fast" in KNOWN_EXTRACTORS
    with pytest.raises(ConfigError, match="known: .*fast"):
        load_config(None, ["extract.extractor=magic", "input=a.warc.gz", f"output={tmp_path}"])
