"""bench/scale.py's duplicate accounting: a planted group counts as caught whichever member dedup
keeps (the quality keep policy may keep a copy and remove its original)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))          # scale.py imports its sibling scale_corpus
spec = importlib.util.spec_from_file_location("scale", ROOT / "bench" / "scale.py")
scale = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scale)
sys.path.remove(str(ROOT / "bench"))


def _ids(folder: Path, ids: list[str]) -> None:
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"record_id": pa.array(ids, pa.string())}), folder / "part-0.parquet")


def test_groups_collapse_whichever_member_is_kept(tmp_path):
    truth = pa.table({
        "record_id": ["o1", "c1", "o2", "c2", "e2", "o3", "c3", "o4", "c4", "bg1", "bg2"],
        "role": ["original", "near", "original", "near", "exact", "original", "near", "original", "near",
                 "original", "original"],
        "source_record_id": [None, "o1", None, "o2", "o2", None, "o3", None, "o4", None, None]})
    pq.write_table(truth, tmp_path / "truth.parquet")
    out = tmp_path / "out"
    # o4's copy never reached dedup; everything else passed the filter
    _ids(out / "filter", ["o1", "c1", "o2", "c2", "e2", "o3", "c3", "o4", "bg1", "bg2"])
    # group 1: the copy removed; group 2: the original and one copy removed (a copy kept);
    # group 3: missed; bg2: a chance duplicate of something else
    _ids(out / "rejected" / "dedup", ["c1", "o2", "e2", "bg2"])
    found = scale.duplicate_check(out, tmp_path / "truth.parquet")
    assert found["planted_duplicates"] == 5 and found["planted_after_filter"] == 4
    assert found["planted_groups_after_filter"] == 3 and found["planted_groups_collapsed"] == 2
    assert found["dedup_removed"] == 4 and found["dedup_caught"] == 3 and found["dedup_removed_unplanted"] == 1
    assert found["copies_removed"] == 2 and found["originals_removed_for_a_copy"] == 1
    assert found["caught_by_role"] == {"near": 1, "exact": 1}
