"""Filters: heuristic quality, NSFW and PII rules; every filter scores first, then decides.

base.py         the interface: score() into columns, keep() from the columns; the base class
                checks options and builds the segmentation table, a filter holds only its rule
registry.py     filters by versioned name (gopher_quality_v1); an unknown name lists the known ones
stage.py        the executors: the configured chain over Arrow batches (score, then select)
stage_spark.py  the driver: corpus histogram, persisted scores, percentile cuts, commit
blocklist_spark.py  the driver: nsfw_domains_v1's blocklists as a join (no list in a worker)
c4.py gopher_quality.py gopher_repetition.py fineweb.py token_outlier.py nsfw.py pii.py
                one rule family each (C4, Gopher, FineWeb, Llama 3 token outliers, NSFW, PII)
blocklists.py wordlists.py   the domain lists and word lists those rules read
calibration.py  per-language thresholds fitted on reference text (jobs/calibrate_filters.py)

To add a filter: a subclass of DocumentFilter (or TextModifier) in its own file, with OPTIONS,
score() and its thresholds, registered under a versioned name (docs/architecture.md).
"""
