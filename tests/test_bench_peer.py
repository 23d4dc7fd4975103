"""bench/peer.py without datatrove: its WARC files read as the gold pages, and it skips cleanly."""
from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from pipeline.extract.warc import iter_warc

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("peer", ROOT / "bench" / "peer.py")
peer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peer)


def test_gold_pages_become_html_responses_in_every_file(tmp_path):
    gold = tmp_path / "data" / peer.GOLD
    (gold / "html").mkdir(parents=True)
    truth = {}
    for key, url in (("a1", "https://news.example/a"), ("b2", "https://blog.example/b?x=1")):
        (gold / "html" / f"{key}.html.gz").write_bytes(gzip.compress(f"<html><p>{key} page</p></html>".encode()))
        truth[key] = {"url": url, "articleBody": f"{key} page"}
    (gold / "ground-truth.json").write_text(json.dumps(truth))
    pages = peer.gold_pages(tmp_path / "data")
    assert [url for url, _ in pages] == ["https://news.example/a", "https://blog.example/b?x=1"]
    assert peer.write_warcs(pages, copies=3, files=4, out=tmp_path / "warc") == 6
    records = []
    for path in sorted((tmp_path / "warc").iterdir()):
        with open(path, "rb") as fh:
            records.extend(iter_warc(fh, str(path), 1 << 20))
    assert len(list((tmp_path / "warc").iterdir())) == 4
    assert sorted(r.url for r in records) == sorted(
        f"{url}{'&' if '?' in url else '?'}copy={k}" for url, _ in pages for k in range(3))
    assert all(r.reason is None and r.html.startswith(b"<html>") for r in records)


def test_without_datatrove_it_says_how_to_get_it_and_skips():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "peer.py")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == {"skipped": "datatrove not importable"}
    assert "datatrove==0.10.1" in proc.stderr
