from pathlib import Path

import pytest

from jobs import extract as extract_job
from pipeline.config import ConfigError, dump_yaml, load_config

CONF = Path(__file__).resolve().parents[2] / "conf" / "default.yaml"


def write(tmp_path, text):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return path


def test_defaults_load_without_a_file():
    config = load_config(None)
    assert config.extract.extractor == "fast"
    assert config.spark.master == "local[*]"
    assert config.stages == ["extract"]


def test_file_values_and_overrides_apply(tmp_path):
    path = write(tmp_path, "output: /tmp/x\nextract:\n  timeout_s: 3\n")
    config = load_config(path, ["extract.extractor=resiliparse", "langid.min_chars=5", "input=a.warc.gz"])
    assert config.output == "/tmp/x"
    assert config.extract.timeout_s == 3.0
    assert config.extract.extractor == "resiliparse"
    assert config.langid.min_chars == 5
    assert config.input == ["a.warc.gz"]


@pytest.mark.parametrize("text, overrides, message", [
    ("extract:\n  timeot_s: 3\n", [], "unknown key 'extract.timeot_s'"),
    ("bogus: 1\n", [], "unknown key 'bogus'"),
    ("extract:\n  timeout_s: soon\n", [], "key 'extract.timeout_s' must be a number"),
    ("extract:\n  max_html_bytes: 1.5\n", [], "key 'extract.max_html_bytes' must be an integer"),
    ("extract:\n  trafilatura:\n    fast: 'yes'\n", [], "key 'extract.trafilatura.fast' must be true or false"),
    ("spark: local\n", [], "key 'spark' must be a mapping"),
    ("stages: [extract, polish]\n", [], "unknown stage 'polish'"),
    ("extract:\n  extractor: magic\n", [], "unknown extractor 'magic'"),
    ("langid:\n  model: /nowhere/lid.bin\n", [], "file not found: /nowhere/lid.bin"),
    ("", ["extract.nope=1"], "unknown key 'extract.nope'"),
    ("", ["no_equals_sign"], "expected key=value"),
    ("extract: [1, 2\n", [], "invalid YAML"),
    ("", ["dedup.steps=[minhash, url]"], "steps run in the order url -> exact -> minhash -> lines -> semantic"),
    ("", ["dedup.steps=[fuzzy]"], "unknown step 'fuzzy'"),
    ("", ["dedup.minhash.bands=4"], "'dedup.minhash.bands' and 'dedup.minhash.rows': give both or neither"),
    ("", ["dedup.minhash.bands=20", "dedup.minhash.rows=8"], "20 bands x 8 rows exceed num_perm 128"),
    ("", ["dedup.minhash.threshold=1.5"], "'dedup.minhash.threshold' must be in (0, 1)"),
    ("", ["dedup.minhash.scheme=sha1"], "unknown scheme 'sha1'"),
    ("", ["dedup.lines.max_occurrences=0"], "'dedup.lines.max_occurrences' must be > 0"),
    ("", ["dedup.steps=[semantic]", "dedup.semantic.backend=sentence_transformers"], "dedup.semantic.model"),
])
def test_bad_config_names_the_key(tmp_path, text, overrides, message):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), overrides)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="config file not found: .*absent.yaml"):
        load_config(tmp_path / "absent.yaml")


def test_resolved_config_round_trips(tmp_path):
    config = load_config(None, ["extract.timeout_s=2.5"])
    path = write(tmp_path, dump_yaml(config))
    assert load_config(path) == config


@pytest.mark.parametrize("argv, message", [
    (["--conf", "/nowhere.yaml"], "config file not found: /nowhere.yaml"),
    (["--input", "/no/such/file.warc.gz"], "input not found: /no/such/file.warc.gz"),
    (["--input", "/no/such/dir/*.warc.gz"], "input glob matches no file: /no/such/dir/*.warc.gz"),
    (["--set", "extract.timeout_s=fast"], "key 'extract.timeout_s' must be a number"),
])
def test_job_exits_2_with_one_line(tmp_path, capsys, argv, message):
    code = extract_job.main(argv + ["--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1


def test_unknown_input_format_exits_2(tmp_path, capsys):
    odd = tmp_path / "notes.txt"
    odd.write_text("hello")
    assert extract_job.main(["--input", str(odd), "--output", str(tmp_path / "out")]) == 2
    assert "cannot tell the format of" in capsys.readouterr().err


@pytest.mark.parametrize("override, message", [
    ("filter.filters=[gopher_quality_v1, shiny_v9]", "unknown filter 'shiny_v9'"),
    ("filter.thresholds={gopher_quality_v2: {default: {min_wrds: 3}}}",
     "unknown key 'filter.thresholds.gopher_quality_v2.default.min_wrds'"),
    ("filter.options={gopher_qualty_v1: {}}", "key 'filter.options.gopher_qualty_v1': unknown filter"),
    ("filter.segmentation={zh: jieba}", "unknown segmentation 'jieba'"),
    ("filter.options={nsfw_domains_v1: {blocklists: [/nonexistent/list.txt]}}", "blocklist not found"),
])
def test_filter_job_exits_2_on_bad_filter_config(tmp_path, capsys, override, message):
    from jobs import filter as filter_job

    assert filter_job.main(["--set", override, "--output", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_a_subset_of_filters_runs_with_the_default_thresholds_present():
    from filters.stage import validate_filters

    config = load_config(CONF, ["filter.filters=[gopher_quality_v1]"], stage_files=False)
    validate_filters(config)
    assert "fineweb_v1" in config.filter.thresholds


def test_file_paths_become_absolute_where_the_config_is_read(tmp_path, monkeypatch):
    # Executors run in their own directories: a relative model path must not reach them.
    monkeypatch.chdir(tmp_path)
    config = load_config(None, ["classify.models={quality: models/q}", "tokenize.tokenizer=tok/t.json",
                                "filter.options={nsfw_domains_v1: {blocklists: [lists/a.txt]},"
                                " nsfw_words_v1: {wordlists: {en: words/en.txt}}}", "langid.model=auto",
                                "dedup.semantic.model=s3a://bucket/model"], stage_files=False)
    assert config.classify.models == {"quality": str(tmp_path / "models" / "q")}
    assert config.tokenize.tokenizer == str(tmp_path / "tok" / "t.json")
    assert config.filter.options["nsfw_domains_v1"]["blocklists"] == [str(tmp_path / "lists" / "a.txt")]
    assert config.filter.options["nsfw_words_v1"]["wordlists"] == {"en": str(tmp_path / "words" / "en.txt")}
    assert config.langid.model == "auto" and config.dedup.semantic.model == "s3a://bucket/model"
