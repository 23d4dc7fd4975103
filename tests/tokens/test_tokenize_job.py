"""The tokenize job on local[2]: two runs of one corpus, 1 vs 4 shuffle partitions and 1 vs 4
input files, must give byte-identical shards; every shard document decodes back to an input
document, so copies per document show the mix weights, the split and the accounting."""
import random
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.stage_spark import execute
from pipeline.config import load_config
from pipeline.tokens.shards import ShardReader, verify_shards
from pipeline.tokens.tokenizer import load_tokenizer

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parents[2]
GROUPS = {("en", "web"): 160, ("en", "wiki"): 160, ("de", "web"): 60, ("fr", "web"): 80}
MIX = {"en/web": 2.5, "*/wiki": 0.5, "de/*": 0.0}     # fr/web: unlisted, natural
SHARD_TOKENS = 3000
WORDS = "garden river stone light paper window music winter harbor forest signal engine".split()


def corpus():
    rng = random.Random(5)
    rows = [{"id": f"{lang}-{source}-{i}", "lang": lang, "source": source,
             "text": f"{lang} {source} {i}: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 40)))}
            for (lang, source), n in GROUPS.items() for i in range(n)]
    rows += [{"id": "empty", "lang": "en", "source": "web", "text": ""},
             {"id": "null", "lang": "en", "source": "web", "text": None},
             {"id": "blank", "lang": "fr", "source": "web", "text": " \n\t "}]
    rng.shuffle(rows)
    return rows


def write_input(directory, rows, files):
    directory.mkdir(parents=True)
    for k in range(files):
        pq.write_table(pa.Table.from_pylist(rows[k::files]), directory / f"part-{k}.parquet")
    return str(directory)


@pytest.fixture(scope="module")
def runs(spark, tmp_path_factory):
    rows = corpus()
    results = {}
    previous = spark.conf.get("spark.sql.shuffle.partitions")
    try:
        for partitions in (1, 4):
            root = tmp_path_factory.mktemp(f"tokenize{partitions}")
            spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
            config = load_config(None, [f"output={root / 'out'}", f"tokenize.shard_tokens={SHARD_TOKENS}",
                                        "tokenize.valid_fraction=0.1", "tokenize.seed=11",
                                        "tokenize.mix={" + ", ".join(f'"{k}": {v}' for k, v in MIX.items()) + "}"])
            stats = execute(spark, config, "tokenize", [write_input(root / "in", rows, partitions)])
            results[partitions] = (root / "out", stats)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", previous)
    return rows, results


def decoded_ids(directory, texts_to_id):
    """The input id of every document in a split, in shard order (each must decode to an input text)."""
    tok = load_tokenizer(str(ROOT / "conf" / "tokenizer" / "demo"))
    reader = ShardReader(directory)
    ids = []
    for i in range(reader.num_documents):
        doc = reader.document(i)
        assert doc[-1] == reader.eos_id and reader.eos_id not in doc[:-1].tolist()
        ids.append(texts_to_id[tok.decode(doc[:-1])])
    return ids


def test_byte_identical_across_partitionings(runs):
    _, results = runs
    one, four = results[1][0] / "shards", results[4][0] / "shards"
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(four) for p in four.rglob("*") if p.is_file())
    assert len([f for f in files if f.suffix == ".ds"]) >= 3
    for name in files:
        assert (one / name).read_bytes() == (four / name).read_bytes(), name


def test_accounting_and_rejections(runs, spark):
    rows, results = runs
    out, stats = results[4]
    assert stats["records_in"] == len(rows) == stats["kept"] + stats["rejected"]
    rejected = {r["id"]: r["drop_reason"] for r in spark.read.parquet(str(out / "rejected" / "tokenize")).collect()}
    assert {k for k, v in rejected.items() if v == "empty_text"} == {"empty", "null", "blank"}
    assert {f"de-web-{i}" for i in range(60)} <= {k for k, v in rejected.items() if v == "mix_sampled_out"}
    assert stats["rejected_by_reason"] == dict(Counter(rejected.values()))
    texts = {r["text"]: r["id"] for r in rows if r["text"] and r["text"].strip()}
    seen = set(decoded_ids(out / "shards" / "train", texts)) | set(decoded_ids(out / "shards" / "valid", texts))
    assert seen | set(rejected) == {r["id"] for r in rows} and not seen & set(rejected)   # in = kept + rejected
    assert len(seen) == stats["kept"]


def test_mix_weights_split_and_shards(runs):
    rows, results = runs
    out, stats = results[4]
    texts = {r["text"]: r["id"] for r in rows if r["text"] and r["text"].strip()}
    train = decoded_ids(out / "shards" / "train", texts)
    valid = decoded_ids(out / "shards" / "valid", texts)
    copies = Counter(train)
    assert not set(train) & set(valid)                       # the split is by document
    assert len(valid) == len(set(valid))                     # validation never repeats a document
    assert 0.04 < len(valid) / len(set(train) | set(valid)) < 0.2

    def group(prefix):
        ids = [f"{prefix}-{i}" for i in range(GROUPS[tuple(prefix.split("-"))])]
        return [copies[i] for i in ids if i not in valid]

    en_web, en_wiki, fr_web = group("en-web"), group("en-wiki"), group("fr-web")
    assert set(en_web) == {2, 3} and 0.35 < en_web.count(3) / len(en_web) < 0.65     # 2.5 copies
    assert set(en_wiki) == {0, 1} and 0.35 < en_wiki.count(1) / len(en_wiki) < 0.65  # half kept
    assert set(fr_web) == {1}
    assert not any(i.startswith("de-") for i in train + valid)

    assert train[:40] != sorted(train[:40])                  # shuffled, not in id order
    assert len({i.split("-")[1] for i in train[:20]}) == 2
    for split, ids in (("train", train), ("valid", valid)):
        manifest = verify_shards(out / "shards" / split)
        assert manifest["num_documents"] == len(ids) == stats["splits"][split]["documents"]
        assert sum(t["documents"] for t in manifest["totals"].values()) == len(ids)
        assert manifest["mix"]["weights"] == MIX and manifest["split"] == split
        assert manifest["seed"] == 11 and manifest["dtype"] == "uint16" and manifest["eos_id"] == 4097
    train_manifest = verify_shards(out / "shards" / "train")
    assert train_manifest["totals"]["en/web"]["documents"] == sum(en_web)
    assert train_manifest["mix"]["applied"] == {"en/web": 2.5, "en/wiki": 0.5, "fr/web": 1.0}
    sizes = [s["tokens"] for s in train_manifest["shards"]]
    assert len(sizes) >= 3 and all(SHARD_TOKENS - 120 < t < SHARD_TOKENS + 120 for t in sizes[:-1])
    assert set(stats["chars_per_token_by_lang"]) == {"en", "fr"}
