"""The run report: what every stage kept and dropped and why, as report.json and a self-contained page.

stage_spark.py       the report as the run's last stage (and for jobs/report.py); two runs compared
build_spark.py       report.json's content: stats files plus Spark aggregates of the outputs
statistics_spark.py  the aggregations: language, source and domain tables, histograms
samples_spark.py     the drop explorer (counts and seeded samples per reason), dedup groups, removed lines
thresholds.py        the run's limits per rule and language, read from config.yaml and the stats
thresholds_spark.py  every score against its limits: histograms per language, what-if, nearest documents
tuning.py            the batch functions (numpy) behind the what-if and nearest-document passes
excerpts.py          the part of a sampled text that matters; Jaccard and differences of near copies
compare_spark.py     two runs: every document's fate in each, what changed
plots.py             the charts as plotly figures
render.py            index.html and compare.html (plotly.js inline), the terminal summary
"""
