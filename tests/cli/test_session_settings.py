"""pipeline.spark.build_session's settings, read from a stand-in builder (no JVM): quiet unless
--verbose, Parquet timestamps in micros, and the UI kept off every interface under spark-submit."""
import pytest

from pipeline import spark as spark_module
from pipeline.config import SparkConfig


class Stop(Exception):
    pass


class Builder:
    def __init__(self):
        self.settings = {}

    def appName(self, name):
        return self

    def master(self, master):
        self.settings["master"] = master
        return self

    def config(self, key, value):
        self.settings[key] = value
        return self

    def getOrCreate(self):
        raise Stop


@pytest.fixture
def builder(monkeypatch):
    recorder = Builder()
    monkeypatch.setattr(spark_module.SparkSession, "builder", recorder)
    monkeypatch.delenv("CURATE_VERBOSE", raising=False)
    return recorder


def _build(config=None, **kwargs):
    with pytest.raises(Stop):
        spark_module.build_session(config or SparkConfig(master="local[2]"), **kwargs)


def test_quiet_by_default_verbose_on_request(builder, monkeypatch):
    _build()
    assert builder.settings["spark.ui.showConsoleProgress"] == "false"
    assert builder.settings["spark.sql.parquet.outputTimestampType"] == "TIMESTAMP_MICROS"
    _build(verbose=True)
    assert builder.settings["spark.ui.showConsoleProgress"] == "true"
    monkeypatch.setenv("CURATE_VERBOSE", "1")                # what --verbose sets (pipeline/cli.py)
    builder.settings.clear()
    _build()
    assert builder.settings["spark.ui.showConsoleProgress"] == "true"


def test_spark_submit_with_a_local_master_keeps_the_ui_off_the_network(builder, monkeypatch, capsys):
    monkeypatch.setattr(spark_module, "launched_by_spark_submit", lambda: True)
    monkeypatch.setattr(spark_module, "_submitted_conf", lambda: {"spark.master": "local[4]"})
    monkeypatch.delenv("SPARK_LOCAL_IP", raising=False)
    _build(SparkConfig(master="local[2]", bind_address="127.0.0.1"))
    assert "master" not in builder.settings                   # spark-submit's master wins
    assert builder.settings["spark.driver.bindAddress"] == "127.0.0.1"
    assert builder.settings["spark.ui.enabled"] == "false"    # no SPARK_LOCAL_IP: the UI would bind 0.0.0.0
    assert "SPARK_LOCAL_IP=127.0.0.1" in capsys.readouterr().err

    builder.settings.clear()
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")         # the UI binds there: keep it
    _build(SparkConfig(master="local[2]", bind_address="127.0.0.1"))
    assert "spark.ui.enabled" not in builder.settings

    builder.settings.clear()
    monkeypatch.setattr(spark_module, "_submitted_conf", lambda: {"spark.master": "spark://head:7077"})
    monkeypatch.delenv("SPARK_LOCAL_IP", raising=False)
    _build(SparkConfig(master="local[2]", bind_address="127.0.0.1"))
    assert "spark.driver.bindAddress" not in builder.settings and "spark.ui.enabled" not in builder.settings
