"""The ground floor every stage stands on; it knows the stages by name only (stages.py).

schema.py       the document contract: the Arrow schema every stage reads and writes
config.py       RunConfig: every key a user can set, with defaults and meaning checks
config_file.py  the YAML -> dataclasses loader every config shares (the trainer's too)
stages.py       the one stage table: order, driver function, config sections, checks, inputs
outputs.py      the run directory's layout: <out>/<stage>, rejected/, stats/, shards/, report/
resume.py       run keys, and which stages of a run are already complete
stage_spark.py  what every stage's driver does around its rule: inputs, kept/rejected, stats file
sandbox.py      hard per-document time limits: f(item) in a forked child, SIGKILLed at its deadline
preflight.py    fail fast: inputs readable, output writable, before the JVM starts
spark.py        the Spark adapter: session, input listing, mapInArrow, atomic writes, Arrow schema
storage.py      the one place that builds filesystems (local, s3 from Spark's fs.s3a settings):
                buffered reads with retries, writes, listing, local copies of remote models
io.py           paths and formats; small text files (through storage.py)
text.py         words, lines and segmentation shared by filters, dedup and classifiers
cli.py          the command line every job shares (--conf, --input, --output, --set)
package.py      the code zip for spark-submit --py-files
demo.py         where the demo's config, sample crawl and classifier text are (wheel or checkout)

Idea-sized packages: extract/ (web pages -> documents), tokens/ (documents -> token shards),
mix/ (the language and source mix), report/ (the run report). docs/architecture.md has the map.
"""
