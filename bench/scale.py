"""Scaling benchmark of the whole pipeline: does its cost grow at most linearly with the corpus?

    .venv/bin/python bench/scale.py [--sizes 5000,20000,80000] [--master 'local[2]'] [--work DIR] [--keep]

For each size (documents) it writes a corpus (bench/scale_corpus.py, untimed), then runs
`python -m jobs.run --conf <size>/conf.yaml --force` as a child process (its own JVM each time,
so no size profits from the previous one's warm caches), one size after the other.

Corpus: gzipped WARC files of HTTP 200 `text/html; charset=utf-8` responses, about 1,500 per file.
Each page is a real <head> (styles, scripts, meta) of one of the 181 pages of
../shared/data/html/scrapinghub-article-extraction-benchmark with a generated <body>: nav bar, an
<article> of 4-20 paragraphs recombined from the sentences of those pages' gold article texts (of
the page language; at least 180 words, ~740 on average, so the filters keep most documents and
every later stage sees real load), a "most read" sidebar and a footer. 10% of the documents are
planted near copies of another (a word edit per 150 words: word 5-gram Jaccard ~0.94), 2% exact
copies under another URL; URLs are distinct, hosts spread over docs/8 domains, fetch dates distinct
so the keep policy is deterministic. Seeded: the same sizes give the same files.
See bench/scale_corpus.py for the details.

Config: conf/default.yaml (every filter, dedup steps url/exact/minhash/lines, the two demo
classifiers in out/models, trained first when missing, as `make models` does; the demo
tokenizer) with `input` = the corpus's WARC files, `output` = <size>/out and `spark.master` =
--master; --set key=value adds overrides (e.g. --set extract.extractor=resiliparse).

Measured, per size:
  wall_s       the child process's wall time: JVM start, every stage, the report, shutdown.
  stage seconds and records_in / kept, from <output>/stats/<stage>.json (extract, filter, dedup,
               classify, tokenize); `other` = wall - their sum (JVM and session start, the report
               stage, which writes no stats, and exit).
  docs/s/core  records_in / seconds / cores per stage; for the whole pipeline, documents / wall /
               cores (cores from --master: local[2] -> 2).
  duplicates   planted groups (an original and its near or exact copies) against dedup's
               removals, joined on the WARC record id through the corpus's truth.parquet:
               planted_after_filter (copies that passed the filter together with their
               original), planted_groups_after_filter (groups with two or more members past
               the filter: what dedup can collapse), planted_groups_collapsed (of those, the
               groups left with exactly one member), dedup_removed (all dedup rejections),
               dedup_caught (removed members of such groups), dedup_removed_unplanted (removed
               rows that are not: chance duplicates or mistakes), copies_removed and
               originals_removed_for_a_copy (the keep policy prefers the better-scored member
               of a group, which may be a copy). The filter may drop a copy or its original.

Last line: one JSON object: sizes, wall_s, stage_seconds {stage: [per size]},
stage_docs_per_s_per_core, docs_per_s_per_core (whole pipeline), time_growth = wall time at the
largest size / at the smallest, size_growth = largest / smallest size (target: time_growth <=
1.125 x size_growth, i.e. <= 18 for the default 16x; fixed costs make it smaller), cores, and the
per-size counts, duplicate checks and corpus figures beside them.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))          # the repository's packages, ahead of bench/ (no bench script is named like a package)
if str(BENCH) not in sys.path:         # python -P (PYTHONSAFEPATH) leaves the script's folder off
    sys.path.insert(1, str(BENCH))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.dataset as ds  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from pipeline.stages import STAGES as TABLE  # noqa: E402
from scale_corpus import add_corpus_arguments, generate, load_material  # noqa: E402

STAGES = tuple(stage.name for stage in TABLE if stage.resumable)   # the stages with a stats file
MODELS = {"quality": "samples/classifier/quality.jsonl.gz", "domain": "samples/classifier/domain.jsonl.gz"}
DEFAULT_CONF = ROOT / "conf" / "default.yaml"
GROWTH_SLACK = 1.125          # time may grow 12.5% faster than the corpus (18 for 16x)


def log(message: str) -> None:
    print(message, flush=True)


def parse_sizes(text: str) -> list[int]:
    sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive integers, got {text!r}")
    return sizes


def cores_of(master: str) -> int:
    """Cores a local master runs tasks on: local -> 1, local[N] -> N, local[*] -> all."""
    match = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\s*\d+)?\])?", master.strip())
    if not match:
        raise SystemExit(f"error: pass --cores for master {master!r}")
    if match.group(1) is None:
        return 1
    return os.cpu_count() or 1 if match.group(1) == "*" else int(match.group(1))


def ensure_models() -> None:
    """The demo classifiers conf/default.yaml points at; trained as `make models` does when missing
    (a few seconds, no Spark)."""
    for name, samples in MODELS.items():
        target = ROOT / "out" / "models" / name
        if (target / "model.json").is_file():
            continue
        log(f"training the demo {name} classifier into {target}")
        subprocess.run([sys.executable, "-m", "jobs.train_classifier", "--conf", str(DEFAULT_CONF),
                        "--input", samples, "--output", str(target)], cwd=ROOT, check=True)


def write_config(corpus: Path, output: Path, master: str, overrides: list[str], path: Path) -> Path:
    """conf/default.yaml with this size's input, output and master; repo-relative files made absolute
    so the run does not depend on its working directory."""
    from pipeline.config import dump_yaml, load_config

    with contextlib.chdir(ROOT):   # load_config makes the default config's relative paths absolute
        config = load_config(DEFAULT_CONF, overrides, stage_files=False)
    config.input = [str(corpus / "*.warc.gz")]
    config.output = str(output)
    config.spark.master = master
    path.write_text(dump_yaml(config), encoding="utf-8")
    return path


def run_pipeline(conf: Path, logfile: Path) -> tuple[int, float]:
    """jobs.run in a child process (its own JVM); (exit status, wall seconds)."""
    started = time.perf_counter()
    with open(logfile, "wb") as out:
        rc = subprocess.run([sys.executable, "-m", "jobs.run", "--conf", str(conf), "--force"], cwd=ROOT,
                            stdout=out, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}).returncode
    return rc, time.perf_counter() - started


def read_stats(output: Path) -> dict[str, dict]:
    """stats/<stage>.json of every stage that finished."""
    found = {}
    for stage in STAGES:
        path = output / "stats" / f"{stage}.json"
        if path.is_file():
            found[stage] = json.loads(path.read_text(encoding="utf-8"))
    return found


def duplicate_check(output: Path, truth: Path) -> dict:
    """Planted groups (an original and its copies) against dedup's removals, joined on record_id
    (vectorised, pyarrow). Dedup keeps one member of a group, not necessarily the original: with a
    quality score the keep policy prefers the better-scored member, which may be a copy."""
    planted = pq.read_table(truth, columns=["record_id", "role", "source_record_id"])
    record = planted["record_id"]
    passed = pc.is_in(record, value_set=_column(output / "filter", "record_id"))
    removed_ids = _column(output / "rejected" / "dedup", "record_id")
    removed = pc.is_in(record, value_set=removed_ids)
    group = pc.if_else(pc.equal(planted["role"], "original"), record, planted["source_record_id"])
    members = (pa.table({"group": group, "removed": pc.cast(removed, pa.int64())}).filter(passed)
                 .group_by("group").aggregate([("removed", "count"), ("removed", "sum")]))
    in_group = pc.greater_equal(members["removed_count"], 2)         # two or more members reached dedup
    groups = members.filter(in_group)
    caught = int(pc.sum(groups["removed_sum"]).as_py() or 0)
    copies = planted.filter(pc.not_equal(planted["role"], "original"))
    copy_passed = pc.and_(pc.is_in(copies["record_id"], value_set=_column(output / "filter", "record_id")),
                          pc.is_in(copies["source_record_id"], value_set=_column(output / "filter", "record_id")))
    copy_removed = pc.is_in(copies["record_id"], value_set=removed_ids)
    return {
        "planted_duplicates": copies.num_rows,
        "planted_after_filter": _count(copy_passed),
        "planted_groups_after_filter": groups.num_rows,
        "planted_groups_collapsed": _count(pc.equal(pc.subtract(groups["removed_count"], groups["removed_sum"]), 1)),
        "dedup_removed": len(removed_ids),
        "dedup_caught": caught,
        "dedup_removed_unplanted": len(removed_ids) - caught,
        "copies_removed": _count(copy_removed),
        "originals_removed_for_a_copy": caught - _count(pc.and_(copy_removed, copy_passed)),
        "caught_by_role": {role: _count(pc.and_(copy_removed, pc.equal(copies["role"], role))) for role in ("near", "exact")},
    }


def _column(directory: Path, name: str) -> pa.Array:
    if not directory.is_dir():
        return pa.array([], pa.string())
    return ds.dataset(directory, format="parquet").to_table(columns=[name])[name].combine_chunks()


def _count(mask) -> int:
    return int(pc.sum(pc.cast(mask, pa.int64())).as_py() or 0)


def bench_size(size: int, args, material, work: Path, cores: int) -> dict:
    """Generate, configure, run and read back one size; the size's folder goes unless --keep."""
    folder = work / f"size-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    corpus, output = folder / "corpus", folder / "out"
    summary = generate(args.data, corpus, size, args.seed, args.near_share, args.exact_share,
                       args.docs_per_file, args.min_files, args.jobs, material=material)
    log(f"[{size}] corpus: {summary['files']} WARC files, {summary['warc_bytes'] / 1e6:.0f} MB "
        f"({summary['html_bytes'] / 1e6:.0f} MB HTML), {summary['planted_near']} near + {summary['planted_exact']} "
        f"exact copies planted, article words median {summary['article_words']['median']}, "
        f"{summary['article_words']['under_150']} under 150; languages {summary['langs']}; "
        f"near-copy Jaccard {summary['near_jaccard'].get('min')}..{summary['near_jaccard'].get('max')}; "
        f"written in {summary['seconds']:.1f}s")
    result = {"size": size, "corpus": summary}
    if not args.generate_only:
        conf = write_config(corpus, output, args.master, args.set, folder / "conf.yaml")
        rc, wall = run_pipeline(conf, folder / "run.log")
        stats = read_stats(output)
        result.update(rc=rc, wall_s=round(wall, 2), stats=stats,
                      duplicates=duplicate_check(output, corpus / "truth.parquet") if "dedup" in stats else None)
        log(progress_line(result, cores))
        if rc:
            tail = (folder / "run.log").read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
            log(f"[{size}] jobs.run exited with {rc}; last lines of {folder / 'run.log'}:\n  " + "\n  ".join(tail))
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def progress_line(result: dict, cores: int) -> str:
    stats, size = result["stats"], result["size"]
    stages = ", ".join(f"{s} {stats[s]['seconds']:.1f}s" for s in STAGES if s in stats)
    dup = result.get("duplicates") or {}
    kept = stats.get("filter", {}).get("kept")
    return (f"[{size}] wall {result['wall_s']:.1f}s ({size / result['wall_s'] / cores:.1f} docs/s/core; {stages}); "
            f"filter kept {kept} of {stats.get('filter', {}).get('records_in')}; dedup removed "
            f"{dup.get('dedup_removed')} ({dup.get('dedup_caught')} in planted groups, "
            f"{dup.get('dedup_removed_unplanted')} elsewhere); {dup.get('planted_groups_collapsed')} of "
            f"{dup.get('planted_groups_after_filter')} planted groups past the filter left with one member"
            + (f"; exit status {result['rc']}" if result["rc"] else ""))


def figures(results: list[dict], cores: int, master: str) -> dict:
    """The JSON summary: per-size lists, None where a size's run lacks the figure."""
    sizes = [r["size"] for r in results]
    stat = lambda r, stage, key: (r.get("stats") or {}).get(stage, {}).get(key)  # noqa: E731
    wall = [r.get("wall_s") for r in results]
    seconds = {s: [stat(r, s, "seconds") for r in results] for s in STAGES}
    records = {s: [stat(r, s, "records_in") for r in results] for s in STAGES}
    out = {
        "sizes": sizes, "cores": cores, "master": master, "wall_s": wall,
        "stage_seconds": seconds,
        "other_s": [round(w - sum(seconds[s][k] or 0 for s in STAGES), 2) if w is not None else None
                    for k, w in enumerate(wall)],
        "docs_per_s_per_core": [round(n / w / cores, 2) if w else None for n, w in zip(sizes, wall)],
        "stage_docs_per_s_per_core": {s: [round(n / t / cores, 2) if n is not None and t else None
                                          for n, t in zip(records[s], seconds[s])] for s in STAGES},
        "records_in": records,
        "kept": {s: [stat(r, s, "kept") for r in results] for s in STAGES},
        "size_growth": round(sizes[-1] / sizes[0], 3),
        "time_growth": round(wall[-1] / wall[0], 3) if len(sizes) > 1 and wall[0] and wall[-1] else None,
        "rc": [r.get("rc") for r in results],
        "generate_s": [r["corpus"]["seconds"] for r in results],
        "warc_bytes": [r["corpus"]["warc_bytes"] for r in results],
        "article_words_median": [r["corpus"]["article_words"]["median"] for r in results],
        "near_jaccard_min": [r["corpus"]["near_jaccard"].get("min") for r in results],
    }
    for key in ("planted_duplicates", "planted_after_filter", "planted_groups_after_filter",
                "planted_groups_collapsed", "dedup_removed", "dedup_caught", "dedup_removed_unplanted",
                "copies_removed", "originals_removed_for_a_copy"):
        out[key] = [(r.get("duplicates") or {}).get(key, r["corpus"]["planted_duplicates"]
                                                   if key == "planted_duplicates" else None) for r in results]
    out["dedup_removed_by_reason"] = [stat(r, "dedup", "rejected_by_reason") for r in results]
    out["filter_rejected_by_reason"] = [stat(r, "filter", "rejected_by_reason") for r in results]
    growth = out["time_growth"]
    out["within_target"] = None if growth is None else growth <= GROWTH_SLACK * out["size_growth"]
    return out


def print_table(summary: dict) -> None:
    """Seconds and documents/s/core per stage and size, then the whole pipeline."""
    sizes = summary["sizes"]
    fmt = lambda v, spec: "-" if v is None else format(v, spec)  # noqa: E731
    head = "".join(f"{n:>10,}" for n in sizes)
    log(f"\n{'seconds':<12}{head}   | {'docs/s/core':<11}{head}")
    for stage in STAGES:
        secs = "".join(f"{fmt(v, '.1f'):>10}" for v in summary["stage_seconds"][stage])
        rate = "".join(f"{fmt(v, '.1f'):>10}" for v in summary["stage_docs_per_s_per_core"][stage])
        log(f"{stage:<12}{secs}   | {'':<11}{rate}")
    log(f"{'other':<12}" + "".join(f"{fmt(v, '.1f'):>10}" for v in summary["other_s"]))
    log(f"{'wall':<12}" + "".join(f"{fmt(v, '.1f'):>10}" for v in summary["wall_s"])
        + f"   | {'pipeline':<11}" + "".join(f"{fmt(v, '.1f'):>10}" for v in summary["docs_per_s_per_core"]))
    log(f"time growth {summary['time_growth']} for {summary['size_growth']}x documents "
        f"(target <= {GROWTH_SLACK * summary['size_growth']:.1f})\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("5000,20000,80000"),
                        help="comma-separated corpus sizes in documents (default 5000,20000,80000)")
    parser.add_argument("--master", default="local[2]", help="Spark master of every run (default local[2])")
    parser.add_argument("--cores", type=int, help="cores for the per-core figures (default: from --master)")
    parser.add_argument("--work", type=Path,
                        help="working folder (default: a new temporary folder under /tmp, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep every size's corpus, config, log and output")
    parser.add_argument("--generate-only", action="store_true",
                        help="write the corpora and report their figures; run no pipeline")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override for every run, as jobs.run's --set (repeatable)")
    add_corpus_arguments(parser)
    args = parser.parse_args(argv)
    cores = args.cores or cores_of(args.master)

    if not args.generate_only:
        ensure_models()
    material = load_material(args.data)
    own_work = args.work is None
    work = Path(tempfile.mkdtemp(prefix="bench-scale-", dir="/tmp")) if own_work else args.work
    work.mkdir(parents=True, exist_ok=True)
    log(f"sizes {args.sizes} on {args.master} ({cores} cores); work folder {work}")
    try:
        results = [bench_size(size, args, material, work, cores) for size in args.sizes]
    finally:
        if own_work and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    summary = figures(results, cores, args.master)
    if not args.generate_only:
        print_table(summary)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
