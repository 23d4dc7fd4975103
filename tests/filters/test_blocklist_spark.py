"""nsfw_domains_v1's Spark join against its in-worker dict, on the same lists and documents:
subdomains, `www.`, IDNs, ports, URL and hosts-file entries, UT1 categories, the domain column,
IPs; broadcast and shuffle joins; then the whole filter stage (same kept/rejected per document)."""
import datetime as dt
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from filters.base import Batch
from filters.nsfw import NsfwDomainsFilter
from filters.stage import build_chain
from pipeline.config import load_config
from pipeline.schema import DOCUMENT_FIELDS

pytestmark = pytest.mark.spark

LIST = ("# adult hosts\n\nexample-adult.com\nWWW.Upper-Case.NET\n*.wild.org\n"
        "https://url-entry.net/some/page?x=1\nurl-no-scheme.org/adult/\n0.0.0.0 hosts-file.io\n"
        "127.0.0.1\tTabbed-Hosts.io\nbücher.de\nxn--mnchen-3ya.de\njunk entry here\n"
        "sub.shared-host.com  # a comment\n  padded.org  \n.dotted.org.\nwww.www-entry.com\n"
        "both-lists.com\n93.184.216.34\nexample.com:8080\nshared.blogspot.com\r\ncrlf.org\r\n")
UT1 = {"adult": "adult-site.com\nboth-lists.com\n", "gambling": "casino-site.com\nboth-lists.com\nbet.adult-site.com\n"}

# (url, domain): each document of the cases
CASES = [
    ("https://example-adult.com/page", None), ("https://a.b.example-adult.com/", None),
    ("https://WWW.Example-Adult.COM:8080/x", None), ("https://notexample-adult.com/", None),
    ("https://example-adult.com.evil.org/", None), ("https://upper-case.net/", None),
    ("https://www.upper-case.net/", None), ("https://deep.wild.org/", None), ("https://wild.org/", None),
    ("http://url-entry.net/other", None), ("http://x.url-no-scheme.org/", None), ("https://hosts-file.io/", None),
    ("https://tabbed-hosts.io:443/", None), ("https://www.bücher.de/", None), ("https://xn--bcher-kva.de/", None),
    ("https://münchen.de/", None), ("https://MÜNCHEN.de./", None), ("https://x.sub.shared-host.com/", None),
    ("https://shared-host.com/", None), ("https://padded.org/", None), ("https://a.dotted.org/", None),
    ("https://www-entry.com/", None), ("https://www.www-entry.com/", None), ("http://93.184.216.34/", None),
    ("http://93.184.216.34:80/x", None), ("http://1.93.184.216.34/", None), ("https://example.com/", None),
    ("https://shared.blogspot.com/p", None), ("https://blogspot.com/", None), ("https://crlf.org/", None),
    ("https://adult-site.com/", None), ("https://bet.adult-site.com/", None), ("https://casino-site.com/", None),
    ("https://www.both-lists.com/", None), ("https://[2001:db8::1]/", None),
    (None, "example-adult.com"), (None, "WWW.EXAMPLE-ADULT.COM"), (None, None), ("not a url", None),
    ("not a url", "deep.wild.org"), ("https://clean.org/", "clean.org"), ("https://clean.org/", "example-adult.com"),
    ("", ""), ("http://:80/", None),
]


@pytest.fixture(scope="module")
def lists(tmp_path_factory):
    root = tmp_path_factory.mktemp("lists")
    (root / "block.txt").write_text(LIST, encoding="utf-8")
    for category, hosts in UT1.items():
        (root / "ut1" / category).mkdir(parents=True)
        (root / "ut1" / category / "domains").write_text(hosts)
    return root


OPTION_SETS = {
    "plain": lambda root: {"blocklists": [str(root / "block.txt")]},
    "plain+ut1": lambda root: {"blocklists": [str(root / "block.txt"), str(root / "ut1")],
                               "categories": ["gambling", "adult"], "list_category": "gambling"},
}


def config_for(output, options, broadcast_rows, filters="[nsfw_domains_v1]"):
    config = load_config(None, [f"output={output}", f"filter.filters={filters}",
                                f"filter.blocklist_broadcast_rows={broadcast_rows}"])
    config.filter.options = {"nsfw_domains_v1": options}
    return config


def in_worker(options):
    flt = NsfwDomainsFilter(options)
    scores = flt.score(Batch(["t"] * len(CASES), ["en"] * len(CASES), [u for u, _ in CASES], [d for _, d in CASES]))
    return list(zip(scores["blocked"].tolist(), scores["category"].tolist()))


@pytest.mark.parametrize("mode, filler, limit", [("lists broadcast", 0, 1_000), ("suffixes broadcast", 2_000, 1_000),
                                                  ("shuffle", 0, 0)])
@pytest.mark.parametrize("option_set", sorted(OPTION_SETS))
def test_join_scores_equal_the_in_worker_dict(spark, lists, tmp_path, capsys, option_set, mode, filler, limit):
    from filters.blocklist_spark import BLOCKED, CATEGORY, blocklist_scores

    options = OPTION_SETS[option_set](lists)
    if filler:   # more list lines than document host suffixes: the suffixes are the side broadcast
        (tmp_path / "filler.txt").write_text("".join(f"filler{i}.test\n" for i in range(filler)))
        options["blocklists"] = [*options["blocklists"], str(tmp_path / "filler.txt")]
    config = config_for(tmp_path, options, limit)
    rows = [(f"d{i}", url, domain, 0.0, 0.0, 0.0) for i, (url, domain) in enumerate(CASES)]
    schema = f"id string, url string, domain string, {BLOCKED} double, {CATEGORY} double, filter__timeout double"
    scored = spark.createDataFrame(rows, schema)
    with blocklist_scores(spark, config, scored.select("url", "domain"), scored) as joined:
        assert joined.columns == scored.columns
        got = {r["id"]: (r[BLOCKED], r[CATEGORY]) for r in joined.collect()}
    assert f"({mode} join)" in capsys.readouterr().out
    want = in_worker(options)
    assert sum(blocked for blocked, _ in want) >= 20     # the cases do block
    mismatches = [(CASES[i], got[f"d{i}"], want[i]) for i in range(len(CASES)) if got[f"d{i}"] != want[i]]
    assert not mismatches


def test_list_lines_read_as_list_host_reads_them():
    from filters.blocklist_spark import list_entries
    from filters.blocklists import list_host

    lines = [line.encode() for line in LIST.replace("\r\n", "\n").split("\n")]
    lines += [None, b"www.", b"a", b"-a.com", b"a_b.com", "é.fr".encode(), b"a..b", b" x.org", b"caf\xe9.com", b"\xff"]
    got = [b.column("entry").to_pylist() for b in list_entries([pa.record_batch([pa.array(lines, pa.binary())],
                                                                                names=["value"])])]
    want = [list_host(None if line is None else line.decode("utf-8", errors="replace")) for line in lines]
    assert got == [[host for host in want if host]]


def test_a_list_with_bytes_that_are_not_utf8(spark, tmp_path):
    from filters.blocklist_spark import list_hosts
    from filters.blocklists import load_blocklist_codes

    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9.com\nok.com\nWWW.Caf\xe9-x.org\n\xff\xfe\nxn--caf-dma.com\n")
    rows = list_hosts(spark, [(path.as_uri(), 1)]).collect()
    assert sorted(r["entry"] for r in rows) == sorted(load_blocklist_codes((str(path),)))


def test_a_timed_out_document_keeps_nan_scores(spark, lists, tmp_path):
    from filters.blocklist_spark import BLOCKED, CATEGORY, blocklist_scores

    config = config_for(tmp_path, OPTION_SETS["plain"](lists), 1_000)
    schema = f"url string, domain string, {BLOCKED} double, {CATEGORY} double, filter__timeout double"
    scored = spark.createDataFrame([("https://example-adult.com/", None, math.nan, math.nan, 1.0),
                                    ("https://example-adult.com/", None, 0.0, 0.0, 0.0)], schema)
    with blocklist_scores(spark, config, scored, scored) as joined:
        values = sorted((r["filter__timeout"], r[BLOCKED], r[CATEGORY]) for r in joined.collect())
    assert values[0] == (0.0, 1.0, 1.0) and math.isnan(values[1][1]) and math.isnan(values[1][2])


def test_integer_score_columns_stay_integers_and_null_past_the_limit(spark, lists, tmp_path):
    """The workers type both columns int64 (counts); the join writes them as they were typed."""
    from filters.blocklist_spark import BLOCKED, CATEGORY, blocklist_scores

    config = config_for(tmp_path, OPTION_SETS["plain"](lists), 1_000)
    schema = f"url string, domain string, {BLOCKED} bigint, {CATEGORY} bigint, filter__timeout double"
    scored = spark.createDataFrame([("https://example-adult.com/", None, None, None, 1.0),
                                    ("https://example-adult.com/", None, 0, 0, 0.0)], schema)
    with blocklist_scores(spark, config, scored, scored) as joined:
        assert dict(joined.dtypes)[BLOCKED] == dict(joined.dtypes)[CATEGORY] == "bigint"
        values = sorted((r["filter__timeout"], r[BLOCKED], r[CATEGORY]) for r in joined.collect())
    assert values == [(0.0, 1, 1), (1.0, None, None)]


def test_workers_get_no_lists(lists, tmp_path):
    from filters.blocklist_spark import joins_blocklists, worker_options

    config = config_for(tmp_path, OPTION_SETS["plain"](lists), 1_000)
    assert joins_blocklists(config)
    chain = build_chain(config.filter, worker_options(config))
    assert chain.filters[0].paths == () and chain.score_names() == ["nsfw_domains__blocked", "nsfw_domains__category"]
    assert not joins_blocklists(config_for(tmp_path, {"blocklists": []}, 1_000))


def test_filter_stage_keeps_and_drops_as_the_in_worker_chain(spark, lists, tmp_path):
    from pipeline.stage_spark import execute

    now = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    text = "The river runs past the old mill, and the farmers bring their grain to the town market. " * 3
    rows = [{"id": f"d{i}", "url": url, "domain": domain, "source": "web", "fetched_at": now, "text": text,
             "lang": "en", "lang_score": 0.99} for i, (url, domain) in enumerate(CASES)]
    (tmp_path / "docs").mkdir()
    pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema(DOCUMENT_FIELDS)), tmp_path / "docs" / "part-0.parquet")
    options = OPTION_SETS["plain+ut1"](lists)
    config = config_for(tmp_path / "out", options, 0, filters="[c4_v2, nsfw_domains_v1]")

    stats = execute(spark, config, "filter", [str(tmp_path / "docs")])

    _, kept, reasons = build_chain(config.filter).decide_documents([(text, "en", u, d) for u, d in CASES])
    want = {f"d{i}": reasons[i] for i in range(len(CASES))}
    got = {r["id"]: r["drop_reason"] for r in spark.read.parquet(str(tmp_path / "out" / "rejected" / "filter")).collect()}
    got |= {r["id"]: None for r in spark.read.parquet(str(tmp_path / "out" / "filter")).select("id").collect()}
    assert got == want
    assert stats["rejected_by_reason"] == {"nsfw_domains_max_blocked": int((~kept).sum())}
    assert stats["kept"] == int(kept.sum()) and stats["records_in"] == len(CASES)


@pytest.mark.parametrize("option_set", sorted(OPTION_SETS))
def test_early_drop_blocks_what_the_in_worker_dict_blocks(spark, lists, tmp_path, option_set):
    """extract.early_drops: the lists read by Spark, hashed, checked per document in the extract stage."""
    from filters.blocklist_spark import early_drop

    options = OPTION_SETS[option_set](lists)
    listed = early_drop(spark, config_for(tmp_path, options, 1_000))
    assert listed.reason == "nsfw_domains_max_blocked" and len(listed) > 10
    assert [int(listed(url, domain)) for url, domain in CASES] == [blocked for blocked, _ in in_worker(options)]
    assert early_drop(spark, config_for(tmp_path, {"blocklists": []}, 1_000)) is None


def test_early_drops_need_every_language_to_drop_a_listed_host(lists, tmp_path):
    from filters.base import FilterConfigError
    from filters.stage import validate_filters

    config = config_for(tmp_path, OPTION_SETS["plain"](lists), 1_000)
    config.extract.early_drops = True
    validate_filters(config)                                     # max_blocked 0 everywhere: fine
    config.filter.thresholds["nsfw_domains_v1"] = {"default": {"max_blocked": 0}, "de": {"max_blocked": None}}
    with pytest.raises(FilterConfigError, match=r"key 'extract\.early_drops'.*nsfw_domains_v1\.de\.max_blocked is None"):
        validate_filters(config)
    config.extract.early_drops = False
    validate_filters(config)                                     # the filter alone may keep them
