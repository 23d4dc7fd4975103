"""The decontam stage on local[2]: planted benchmark text is dropped or cut, clean documents are
untouched, too-common n-grams are ignored, counts add up, and partitioning changes nothing."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.config import load_config
from pipeline.report.excerpts import excerpt
from pipeline.stage_spark import execute

pytestmark = pytest.mark.spark
QUESTION = "Which planet in our solar system has the largest number of confirmed moons orbiting it today"
PASSAGE = ("The harbour commission voted on Tuesday to postpone the bridge project until the engineers "
           "have completed a full survey of the riverbed and the old foundations")
BOILERPLATE = "all rights reserved no part of this publication may be reproduced without permission"
FILLER = ("A long paragraph about gardening follows, with notes on soil, watering schedules, compost and the "
          "best time of year to plant tomatoes in a temperate climate. ") * 4


def _corpus(folder, partitions):
    docs = [
        ("verbatim", FILLER + QUESTION + "? " + FILLER),
        ("variant", FILLER + QUESTION.upper().replace(" ", "   \n ", 3) + "!!! " + FILLER),
        ("partial", "News in brief. " + " ".join(PASSAGE.split()[3:14]) + ". The end."),
        ("near_miss", FILLER + "Which planet within our solar system holds the largest count of confirmed moons "
                               "orbiting it now"),
    ] + [(f"clean{i}", f"Clean document {i}. " + FILLER) for i in range(6)] \
      + [(f"legal{i}", f"Book {i}. " + FILLER + BOILERPLATE.capitalize() + ".") for i in range(12)]
    folder.mkdir()
    for part in range(partitions):
        chunk = docs[part::partitions]
        pq.write_table(pa.table({"id": [d[0] for d in chunk], "text": [d[1] for d in chunk],
                                 "lang": ["en"] * len(chunk), "url": [f"http://x.test/{d[0]}" for d in chunk]}),
                       folder / f"part-{part}.parquet")
    return str(folder)


def _evals(folder):
    folder.mkdir()
    (folder / "trivia.jsonl").write_text(json.dumps({"question": QUESTION + "?", "choices": ["Saturn", "Jupiter"]})
                                         + "\n" + json.dumps({"question": "Name it.", "answer": "Mars"}) + "\n")
    (folder / "reading.jsonl").write_text(json.dumps({"passage": PASSAGE, "question": "What was postponed?"}) + "\n"
                                          + json.dumps({"passage": BOILERPLATE + " and some more words here"}) + "\n")
    return str(folder)


def _run(spark, tmp_path, name, partitions, *overrides):
    out = tmp_path / name
    config = load_config(None, [f"output={out}", "stages=[decontam]", f"decontam.eval_sets={_evals(out.with_name(name + '_evals'))}",
                                "decontam.ngram=8", f"spark.shuffle_partitions={partitions}", *overrides],
                         stage_files=False)
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    stats = execute(spark, config, "decontam", [_corpus(out.with_name(name + "_in"), partitions)])
    kept = {r["id"]: r for r in spark.read.parquet(str(out / "decontam")).collect()}
    rejected = {r["id"]: r["drop_reason"] for r in spark.read.parquet(str(out / "rejected" / "decontam")).collect()}
    return stats, kept, rejected


def test_drop_rejects_planted_documents_only(spark, tmp_path):
    stats, kept, rejected = _run(spark, tmp_path, "drop", 2)
    assert rejected == {"verbatim": "decontam_trivia", "variant": "decontam_trivia", "partial": "decontam_reading"}
    assert set(kept) == {"near_miss"} | {f"clean{i}" for i in range(6)} | {f"legal{i}" for i in range(12)}
    assert stats["records_in"] == 22 == stats["kept"] + stats["rejected"]
    assert all(row["decontam__matches"] == 0 for row in kept.values())     # the boilerplate n-grams: too common
    assert stats["frequent_ngrams_ignored"] > 0
    trivia, reading = stats["benchmarks"]["trivia"], stats["benchmarks"]["reading"]
    assert trivia["documents_matched"] == 2 and trivia["examples"] == 2 and trivia["too_short"] == 1
    assert trivia["contamination_rate"] == 0.5 and reading["contamination_rate"] == 0.5
    assert reading["documents_matched"] == 1
    assert {s["id"] for s in stats["samples"]} == {"verbatim", "variant", "partial"}
    verbatim = next(s for s in stats["samples"] if s["id"] == "verbatim")
    assert QUESTION in verbatim["excerpt"] and verbatim["benchmark"] == "trivia"


def test_a_rejected_document_names_its_matched_passage_for_the_report(spark, tmp_path):
    _run(spark, tmp_path, "detail", 2)
    rows = {r["id"]: r for r in spark.read.parquet(str(tmp_path / "detail" / "rejected" / "decontam")).collect()}
    # the first 8-gram of the question, as the document wrote it
    assert rows["verbatim"]["drop_detail"] == " ".join(QUESTION.split()[:8])
    assert rows["variant"]["drop_detail"].split() == QUESTION.upper().split()[:8]
    assert "drop_detail" not in spark.read.parquet(str(tmp_path / "detail" / "decontam")).columns
    shown = excerpt("decontam_trivia", rows["verbatim"]["text"], "en", detail=rows["verbatim"]["drop_detail"])
    assert shown["kind"] == "text found in the evaluation set trivia"
    assert shown["text"] == rows["verbatim"]["drop_detail"] and QUESTION in shown["items"][0]


@pytest.mark.slow
def test_the_outcome_does_not_depend_on_partitioning(spark, tmp_path):
    one = _run(spark, tmp_path, "p1", 1)
    four = _run(spark, tmp_path, "p4", 4)
    assert one[2] == four[2]
    assert {k: (r["text"], r["decontam__matches"]) for k, r in one[1].items()} == \
           {k: (r["text"], r["decontam__matches"]) for k, r in four[1].items()}
    assert one[0]["benchmarks"] == four[0]["benchmarks"]


def test_cut_removes_the_match_and_keeps_the_rest(spark, tmp_path):
    stats, kept, rejected = _run(spark, tmp_path, "cut", 2, "decontam.action=cut", "decontam.cut_margin=20",
                                 "decontam.min_piece_chars=50")
    assert rejected == {"partial": "decontam_reading"}          # what is left of it is shorter than 50 characters
    [partial] = spark.read.parquet(str(tmp_path / "cut" / "rejected" / "decontam")).collect()
    assert partial["drop_detail"] in PASSAGE and len(partial["drop_detail"].split()) == 8
    for name in ("verbatim", "variant"):
        assert kept[name]["decontam__cut_chars"] > len(QUESTION)
        assert "solar system" not in kept[name]["text"].lower() and "gardening" in kept[name]["text"]
    assert kept["clean0"]["decontam__cut_chars"] == 0 and kept["clean0"]["text"].startswith("Clean document 0.")
    assert stats["cut_documents"] == 2 and stats["records_in"] == 22 == stats["kept"] + stats["rejected"]
