"""Object storage end to end for what the pipeline's own Python reads and writes: token shards and
manifests written to s3://, classifier models and the tokenizer read from s3:// by executor-side
code, the checks before Spark. Against a real S3-compatible server on loopback (moto), through
pipeline/storage.py; the results must equal a local run's, byte for byte."""
import hashlib
import json

import numpy as np
import pyarrow as pa
import pytest

from classifiers.model_files import check_models, load_model, models_identity, with_storage_settings
from classifiers.scoring import score_batches, score_columns
from pipeline import preflight, storage
from pipeline.config import ConfigError, load_config
from pipeline.io import InputError
from pipeline.tokens.shards import read_manifest
from pipeline.tokens.stage import check_tokenize, shard_meta_schema, tokenize_batches, write_shard_batches
from pipeline.tokens.tokenizer import load_tokenizer

from .conftest import BUCKET, ROOT

TOKENIZER = ROOT / "conf" / "tokenizer" / "demo"
SAMPLE = ROOT / "samples" / "sample.warc.gz"
TEXTS = ["The garden by the river.", "Grüß Gott, 世界!", "", "numbers 12345 and symbols #!?", "a " * 300]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from jobs import train_classifier
    from tests.jobs.demo_models import SAMPLES

    root = tmp_path_factory.mktemp("models")
    for name in ("quality", "domain"):
        assert train_classifier.main(["--conf", str(ROOT / "conf" / "default.yaml"), "--input",
                                      str(SAMPLES / "classifier" / f"{name}.jsonl.gz"), "--output",
                                      str(root / name)]) == 0
    return root


@pytest.fixture
def defaults():
    """Executor-side code sets the process's storage defaults: restore them afterwards."""
    saved = dict(storage._defaults)
    yield
    storage.configure(saved)


def test_local_copy_is_fetched_once_and_follows_a_rewrite(s3, cache):
    uri = s3.upload(TOKENIZER, "copies/demo")
    first = storage.local_copy(uri, s3.options)
    assert sorted(p.name for p in (cache.glob("*/demo/*"))) == ["report.json", "tokenizer.json", "tokenizer.model"]
    assert open(f"{first}/tokenizer.model", "rb").read() == (TOKENIZER / "tokenizer.model").read_bytes()
    assert storage.local_copy(uri, s3.options) == first              # the same copy, not a second download
    assert storage.local_copy(f"{uri}/tokenizer.json", s3.options).endswith("/tokenizer.json")
    s3.upload(TOKENIZER / "report.json", "copies/demo/tokenizer.json")   # rewritten in place
    assert storage.local_copy(uri, s3.options) != first
    with pytest.raises(FileNotFoundError):
        storage.local_copy(f"s3a://{BUCKET}/copies/absent", s3.options)
    assert not list(cache.glob(".*"))                               # no partial copy left behind


def test_tokenizer_from_object_storage_encodes_as_the_local_file(s3, cache):
    uri = s3.upload(TOKENIZER, "tokenizers/demo")
    for remote, local in ((uri, TOKENIZER), (f"{uri}/tokenizer.json", TOKENIZER / "tokenizer.json")):
        tok, ref = load_tokenizer(remote, options=s3.options), load_tokenizer(str(local))
        assert (tok.sha256, tok.name, tok.vocab_size, tok.eos_id) == (ref.sha256, ref.name, ref.vocab_size, ref.eos_id)
    with pytest.raises(ConfigError, match="tokenizer file not found"):
        load_tokenizer(f"s3a://{BUCKET}/tokenizers/none.model", options=s3.options)
    # the executor-side function, as mapInArrow calls it
    batch = pa.RecordBatch.from_pydict({"id": [str(i) for i in range(len(TEXTS))], "text": TEXTS})
    common = dict(add_bos=False, batch_size=2, dtype="uint16")
    remote = pa.Table.from_batches(list(tokenize_batches([batch], path=uri, options=s3.options, **common)))
    local = pa.Table.from_batches(list(tokenize_batches([batch], path=str(TOKENIZER), **common)))
    assert remote.equals(local)


def shard_rows(seed=3):
    """(split, shard, start, tokens) rows of two splits, sorted as the job sends them."""
    rng = np.random.default_rng(seed)
    rows = {"split": [], "shard": [], "start": [], "tokens": []}
    for split, shards in (("train", 3), ("valid", 1)):
        start = 0
        for shard in range(shards):
            for _ in range(int(rng.integers(5, 30))):
                doc = np.append(rng.integers(0, 4000, int(rng.integers(1, 200))), 4097).astype("<u2")
                rows["split"].append(split)
                rows["shard"].append(shard)
                rows["start"].append(start)
                rows["tokens"].append(doc.tobytes())
                start += doc.size
    return pa.RecordBatch.from_pydict(rows, schema=pa.schema([("split", pa.string()), ("shard", pa.int64()),
                                                              ("start", pa.int64()), ("tokens", pa.binary())]))


def test_shards_and_manifests_on_object_storage_equal_a_local_run(s3, tmp_path):
    from pipeline.tokens.stage_spark import _manifests

    batch = shard_rows()
    remote_root, local_root = f"s3a://{BUCKET}/run/shards", tmp_path / "shards"
    remote = list(write_shard_batches([batch], directories={s: f"{remote_root}/{s}" for s in ("train", "valid")},
                                      dtype="uint16", options=s3.options))
    local = list(write_shard_batches([batch], directories={s: str(local_root / s) for s in ("train", "valid")},
                                     dtype="uint16"))
    assert remote[0].schema == shard_meta_schema()
    assert remote[0].to_pylist() == local[0].to_pylist() and len(local[0]) == 4
    for row in local[0].to_pylist():
        for suffix, key in ((".ds", "sha256"), (".ds.index", "index_sha256")):
            data = s3.read(f"{remote_root}/{row['split']}/{row['name']}{suffix}")
            assert data == (local_root / row["split"] / f"{row['name']}{suffix}").read_bytes()
            assert hashlib.sha256(data).hexdigest() == row[key]
    # the driver's manifest assembly
    tok = load_tokenizer(str(TOKENIZER))
    settings = load_config(None, ["tokenize.shard_tokens=3000"]).tokenize
    groups = [{"pid": 0, "split": s, "lang": "en", "source": "web", "sequences": n, "documents": n, "tokens": t,
               "chars": 0, "text_tokens": 0}
              for s in ("train", "valid")
              for n, t in [(sum(r["documents"] for r in local[0].to_pylist() if r["split"] == s),
                            sum(r["tokens"] for r in local[0].to_pylist() if r["split"] == s))]]
    rows = local[0].to_pylist()
    _manifests(groups, rows, tok, settings, {}, remote_root, s3.options)
    _manifests(groups, rows, tok, settings, {}, str(local_root))
    for split in ("train", "valid"):
        manifest = json.loads(s3.read(f"{remote_root}/{split}/manifest.json"))
        assert manifest == read_manifest(local_root / split)
        assert [s["sha256"] for s in manifest["shards"]] == [r["sha256"] for r in rows if r["split"] == split]


def test_a_failed_upload_leaves_no_shard_behind(s3):
    batch = shard_rows()
    bad = pa.RecordBatch.from_pydict({**batch.to_pydict(), "start": [0] * len(batch)}, schema=batch.schema)
    with pytest.raises(ValueError, match="rows lost or duplicated"):
        list(write_shard_batches([bad], directories={"train": f"s3a://{BUCKET}/failed/train"}, dtype="uint16",
                                 options=s3.options))
    assert storage.list_files(f"s3a://{BUCKET}/failed", s3.options) == []


def test_classifiers_from_object_storage_score_as_the_local_ones(s3, cache, models, defaults):
    remote = {name: s3.upload(models / name, f"models/{name}") for name in ("quality", "domain")}
    local = {name: str(models / name) for name in ("quality", "domain")}
    columns = {name: score_columns(name, local[name]) for name in local}
    storage.configure(s3.options)        # the driver's settings (jobs/stage_job.preflight, build_session)
    assert {name: score_columns(name, remote[name]) for name in remote} == columns   # the sidecars, remotely
    storage.configure({})                # an executor's: only what with_storage_settings brings
    texts = ["def main():\n    return 1", "Buy cheap pills now!!!", "The committee met to discuss the budget.", ""]
    batch = pa.RecordBatch.from_pydict({"id": ["a", "b", "c", "d"], "text": texts})
    scored = pa.Table.from_batches(list(with_storage_settings(
        [batch], apply=score_batches, options=s3.options, models=remote, columns=columns)))
    expected = pa.Table.from_batches(list(score_batches([batch], models=local, columns=columns)))
    assert scored.equals(expected)
    assert load_model(remote["quality"], s3.options).labels == load_model(local["quality"]).labels
    config = load_config(None, [f"classify.models={json.dumps(remote)}", f"spark.conf={json.dumps(s3.conf)}"])
    assert models_identity(config) == {name: (models / name / "model.json").read_text() for name in remote}
    check_models(config)


def config_for(s3, *overrides):
    return load_config(None, [f"spark.conf={json.dumps(s3.conf)}", *overrides])


def test_checks_before_spark_reach_the_object_store(s3, cache, models):
    # output: a probe written and deleted
    assert preflight.check_output(config_for(s3, f"output=s3a://{BUCKET}/probe-run"))
    assert storage.list_files(f"s3a://{BUCKET}/probe-run", s3.options) == []
    with pytest.raises(ConfigError, match=r"^key 'output': cannot write under s3a://no-such-bucket/run: "):
        preflight.check_output(config_for(s3, "output=s3a://no-such-bucket/run"))
    # inputs: listed, formats known, first bytes read
    warc = s3.upload(SAMPLE, "crawl/sample.warc.gz")
    preflight.check_extract(config_for(s3, f"input=[{warc}]"))
    preflight.check_extract(config_for(s3, f"input=['s3a://{BUCKET}/crawl/*.warc.gz']"))
    with pytest.raises(InputError, match=f"input not found: s3a://{BUCKET}/crawl/none.warc.gz"):
        preflight.check_extract(config_for(s3, f"input=[s3a://{BUCKET}/crawl/none.warc.gz]"))
    with pytest.raises(InputError, match="input glob matches no file"):
        preflight.check_extract(config_for(s3, f"input=['s3a://{BUCKET}/crawl/*.jsonl']"))
    with pytest.raises(InputError, match="input not found: .* give --input"):
        preflight.check_documents([f"s3a://{BUCKET}/run/filter"], s3.options)
    # models and the tokenizer load from the store
    quality = s3.upload(models / "quality", "checked/quality")
    check_models(config_for(s3, f"classify.models={{quality: {quality}}}"))
    with pytest.raises(ConfigError, match=rf"^key 'classify.models.quality': s3a://{BUCKET}/checked/none/model.json"):
        check_models(config_for(s3, f"classify.models={{quality: s3a://{BUCKET}/checked/none}}"))
    tokenizer = s3.upload(TOKENIZER, "checked/tokenizer")
    check_tokenize(config_for(s3, f"tokenize.tokenizer={tokenizer}", f"output=s3a://{BUCKET}/run"))
    s3.upload(TOKENIZER / "report.json", "checked/bad/tokenizer.json")
    with pytest.raises(ConfigError, match=r"^key 'tokenize.tokenizer': .*not a valid Hugging Face tokenizer.json"):
        check_tokenize(config_for(s3, f"tokenize.tokenizer=s3a://{BUCKET}/checked/bad"))
