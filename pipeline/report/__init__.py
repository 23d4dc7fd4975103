"""The run report: what every stage kept and dropped, as report.json and a self-contained page.

stage_spark.py       the report as the run's last stage (and for jobs/report.py)
build_spark.py       report.json's content: stats files plus Spark aggregates of the outputs
statistics_spark.py  the aggregations: language, source and domain tables, histograms
render.py            index.html with inline SVG, the terminal summary, two runs compared
"""
