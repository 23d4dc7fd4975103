"""A relative path in a config file is relative to that file (its directory, else the one above:
a project's conf/), each file of a `base` chain its own; --set paths are the working directory's."""
from pathlib import Path

from pipeline.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_config_finds_its_files_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(ROOT / "conf" / "default.yaml", ["stages=[extract, filter, dedup, tokenize]"])
    assert config.input == [str(ROOT / "samples" / "sample.warc.gz")]
    assert config.tokenize.tokenizer == str(ROOT / "conf" / "tokenizer" / "demo")
    if (ROOT / "out").is_dir():                  # the demo run's output exists: the project's
        assert config.output == str(ROOT / "out" / "demo")


def test_set_paths_are_the_working_directorys(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tok.json").write_text("{}")
    config = load_config(ROOT / "conf" / "default.yaml", ["tokenize.tokenizer=tok.json", "input=[a.warc.gz]",
                                                          "output=run1"], stage_files=False)
    assert config.tokenize.tokenizer == str(tmp_path / "tok.json")
    assert config.input == ["a.warc.gz"] and config.output == "run1"     # relative: the working directory


def test_each_file_of_a_base_chain_resolves_against_its_own_directory(tmp_path, monkeypatch):
    shared, project = tmp_path / "shared", tmp_path / "project" / "profiles"
    (shared / "lists").mkdir(parents=True)
    (shared / "lists" / "bad.txt").write_text("x\n")
    (shared / "data").mkdir()
    (shared / "data" / "a.warc.gz").write_bytes(b"")
    (project / "models" / "q").mkdir(parents=True)
    (tmp_path / "project" / "tok.json").write_text("{}")        # one directory above the profile
    (shared / "base.yaml").write_text(
        "input: [data/a.warc.gz]\n"
        "filter:\n  options:\n    nsfw_domains_v1: {blocklists: [lists/bad.txt]}\n")
    (project / "run.yaml").write_text(
        f"base: {shared / 'base.yaml'}\n"
        "output: out/run1\n"
        "classify:\n  models: {quality: models/q}\n"
        "tokenize:\n  tokenizer: tok.json\n")
    monkeypatch.chdir(tmp_path)
    config = load_config(project / "run.yaml", stage_files=False)
    assert config.input == [str(shared / "data" / "a.warc.gz")]
    assert config.filter.options["nsfw_domains_v1"]["blocklists"] == [str(shared / "lists" / "bad.txt")]
    assert config.classify.models == {"quality": str(project / "models" / "q")}
    assert config.tokenize.tokenizer == str(tmp_path / "project" / "tok.json")
    assert config.output == "out/run1"           # not there yet: the working directory's, as before
