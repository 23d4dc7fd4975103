"""Extraction: WARC/WET/ARC, JSONL and Parquet files -> documents with text, URL and language.

stage_spark.py  the driver: list inputs, plan file groups into tasks, extract, commit
stage.py        the executors: one file at a time -> document rows (or counted rejections)
warc.py         resilient WARC/ARC/WET reading; every record comes out, readable or rejected
textfiles.py    JSONL and Parquet inputs that already carry text
records.py      InputRecord, what every reader yields
charset.py      page bytes -> str, robust to missing and lying charset declarations
extractors.py   HTML -> main text (fast, trafilatura or resiliparse) under a per-page time limit
fast_html.py    the fast extractor: resiliparse + boilerplate selectors, None where unsure
langid.py       fastText language ID, offline, once per process; script-aware on short text
scripts.py      Unicode scripts, their languages and the information per character
urls.py         URL normalisation and registered domains (offline Public Suffix List)
"""
