"""Object-store read bench: WARC files read from a loopback S3 server, buffered vs unbuffered, in one run.

    python bench/storage_io.py [DATA_DIR] [--rounds 3] [--latency-ms 0]

DATA_DIR defaults to ../shared/data/warc. Every WARC/WET/ARC file in it is uploaded to moto's S3 on
127.0.0.1 and read with the pipeline's WARC reader (pipeline/extract/warc.py) two ways:
  buffered    pipeline.storage.open_input: an 8 MB buffer over the file, retries (what executors use)
  unbuffered  pyarrow's open_input_file as the executors used it before: each of warcio's 16 KiB
              reads is a ranged GET
A counting proxy in front of the server sees every HTTP request. --latency-ms adds a delay to each
request, as a remote object store's time to first byte would (loopback has none, which flatters
the unbuffered path). Also times the task planner on 90,000 synthetic files.

(Named storage_io, not io: a bench/ module named like a standard-library one would shadow it.)
Last line: one JSON object: requests_per_file and mb_per_s for both ways, ratio = buffered MB/s /
unbuffered MB/s, requests_ratio = unbuffered / buffered requests, planning_s_90k.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # the repository's packages, ahead of bench/

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "warc"
BUCKET = "bench-io"


def warc_files(directory: Path) -> list[Path]:
    from pipeline.io import input_format

    return sorted(p for p in directory.rglob("*") if p.is_file() and input_format(p.name) == "warc")


def read_all(opener, uris: list[str]) -> int:
    """Every record of every file through the pipeline's WARC reader; the payload bytes seen."""
    from pipeline.extract.warc import iter_warc

    payload = 0
    for uri in uris:
        with opener(uri) as fh:
            for record in iter_warc(fh, uri, 5_000_000):
                payload += len(record.html or b"") + len((record.text or "").encode())
    return payload


class Unbuffered:
    """pyarrow's input file as the executors had it, except that a seek past the end stays at the end
    (pyarrow raises there, which made the old path fail on the damaged files of the set)."""

    def __init__(self, native):
        self.native, self.size = native, native.size()

    def read(self, n: int = -1) -> bytes:
        return self.native.read(None if n is None or n < 0 else n)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.native.tell(), 2: self.size}[whence]
        return self.native.seek(min(max(0, base + offset), self.size))

    def tell(self) -> int:
        return self.native.tell()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.native.close()


def planning_seconds(files: int = 90_000) -> float:
    from pipeline.spark import plan_file_groups   # imports pyspark (no JVM): after --help

    rng = random.Random(0)
    paths = [f"s3a://commoncrawl/crawl-data/CC-MAIN-2024-22/segments/{i // 100}/warc/{i:06d}.warc.gz"
             for i in range(files)]
    sizes = [rng.choices([rng.randint(1, 5 << 20), rng.randint(900 << 20, 1200 << 20)], weights=[90, 10])[0]
             for _ in paths]
    started = time.perf_counter()
    plan_file_groups(paths, sizes, parallelism=256)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA), help="folder of WARC files")
    parser.add_argument("--rounds", type=int, default=3, help="reads of the whole set per way (default 3)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every request (default 0)")
    args = parser.parse_args(argv)

    import pyarrow.fs as pafs

    from pipeline import storage
    from tests.storage.s3server import ACCESS_KEY, REGION, SECRET_KEY, FaultProxy, S3Server

    files = warc_files(Path(args.data))
    if not files:
        print(f"error: no WARC files under {args.data}", file=sys.stderr)
        return 2
    total_bytes = sum(p.stat().st_size for p in files)
    print(f"{len(files)} WARC files, {total_bytes / 1e6:.1f} MB, {args.rounds} round(s) per way", flush=True)

    def delayed(request):
        if args.latency_ms:
            time.sleep(args.latency_ms / 1000)
        return "ok"

    with S3Server() as s3, FaultProxy(s3.endpoint, policy=delayed) as proxy:
        s3.create_bucket(BUCKET)
        uris = []
        for index, path in enumerate(files):
            key = f"warc/{index:03d}-{path.name}"
            s3.upload(BUCKET, key, path.read_bytes())
            uris.append(f"s3://{BUCKET}/{key}")
        options = proxy.options()
        unbuffered_fs = pafs.S3FileSystem(access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION,
                                          scheme="http", endpoint_override=proxy.endpoint)
        ways = {
            "buffered": lambda uri: storage.open_input(uri, options),
            "unbuffered": lambda uri: Unbuffered(unbuffered_fs.open_input_file(uri[len("s3://"):])),
        }
        results = {}
        payloads = {}
        for name, opener in ways.items():
            read_all(opener, uris[:1])                  # warm up: connections, imports
            proxy.reset_counts()
            started = time.perf_counter()
            for _ in range(args.rounds):
                payloads[name] = read_all(opener, uris)
            seconds = time.perf_counter() - started
            requests = len(proxy.requests) / (len(uris) * args.rounds)
            results[name] = (requests, total_bytes * args.rounds / 1e6 / seconds)
            print(f"{name:>10}: {requests:8.1f} requests per file, {results[name][1]:8.1f} MB/s "
                  f"({seconds:.2f} s)", flush=True)
        if payloads["buffered"] != payloads["unbuffered"]:
            print(f"error: the two ways read different payloads: {payloads}", file=sys.stderr)
            return 1

    planning = planning_seconds()
    print(f"planning 90,000 files: {planning:.3f} s", flush=True)
    print(json.dumps({
        "files": len(files), "mb": round(total_bytes / 1e6, 2), "latency_ms": args.latency_ms,
        "requests_per_file": {name: round(value[0], 1) for name, value in results.items()},
        "mb_per_s": {name: round(value[1], 2) for name, value in results.items()},
        "ratio": round(results["buffered"][1] / results["unbuffered"][1], 2),
        "requests_ratio": round(results["unbuffered"][0] / results["buffered"][0], 1),
        "planning_s_90k": round(planning, 3),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
