"""One tokenizer interface over Llama 3 `tokenizer.model` files, Hugging Face `tokenizer.json`
files and byte-level BPEs we train ourselves.

    tok = load_tokenizer("models/Meta-Llama-3-8B/original/tokenizer.model")
    ids = tok.encode_batch(["Hello", "Grüß Gott"])      # list of uint32 arrays, no BOS/EOS
    tok.decode(ids[0]) == "Hello"

Encoding goes through tiktoken's Rust BPE whenever the vocabulary is a byte-level BPE given as
ranks (several times faster than `tokenizers`): Llama 3 files are ranks already, and a
tokenizer.json whose merges are exactly "every split of every token, in rank order" (what Llama
3's tokenizer.json and our train_bpe write) converts to ranks losslessly. Any other
tokenizer.json is encoded by `tokenizers` itself. Special-token strings inside documents are
encoded as plain text, never as control tokens, so a web page cannot inject an EOS.

Inputs are guarded as in Llama 3's reference tokenizer: split every 400,000 characters and inside
runs of whitespace or non-whitespace longer than 25,000 characters (the BPE is quadratic in the
length of one pre-token), and lone surrogates are replaced by U+FFFD, so encoding never fails.
Nothing is downloaded from a model hub: a hub id instead of a path fails, saying which file to
supply. The file may be local or on object storage (s3a://bucket/llama3/tokenizer.model): a URI is
fetched once per machine into a local cache (pipeline.storage.local_copy) and loaded from there.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from pipeline import storage
from pipeline.config import ConfigError
from pipeline.io import is_remote

# Llama 3's pre-tokenizer (meta-llama/llama3 tokenizer.py); GPT-2's for ByteLevel(use_regex=True) files.
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
NUM_SPECIAL_TOKENS = 256
MAX_ENCODE_CHARS = 400_000          # Llama 3: TIKTOKEN_MAX_ENCODE_CHARS
MAX_RUN_CHARS = 25_000              # Llama 3: MAX_NO_WHITESPACES_CHARS
BOS_NAMES = ("<|begin_of_text|>", "<s>", "<|startoftext|>", "<bos>")
EOS_NAMES = ("<|end_of_text|>", "<|endoftext|>", "</s>", "<eos>")

_SURROGATE = re.compile("[\ud800-\udfff]")
# A run longer than the limit, matched only from its first character (the lookbehinds), so the
# scan stays linear even over many runs just under the limit.
_LONG_RUN = re.compile(rf"(?<!\S)\S{{{MAX_RUN_CHARS + 1},}}|(?<!\s)\s{{{MAX_RUN_CHARS + 1},}}")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def llama3_special_tokens(num_base_tokens: int) -> dict[str, int]:
    """Llama 3's 256 special tokens, numbered from the end of the base vocabulary (128,000 -> 128,255)."""
    names = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
             "<|reserved_special_token_1|>", "<|reserved_special_token_2|>", "<|reserved_special_token_3|>",
             "<|start_header_id|>", "<|end_header_id|>", "<|reserved_special_token_4|>", "<|eot_id|>"]
    names += [f"<|reserved_special_token_{i}|>" for i in range(5, NUM_SPECIAL_TOKENS - 5)]
    return {name: num_base_tokens + i for i, name in enumerate(names)}


def tokenizer_identity(config) -> dict:
    """The tokenize stage's tokenizer as its run key sees it: its content hash."""
    options = storage.storage_options(config.spark.conf)
    return {"tokenizer_sha256": load_tokenizer(config.tokenize.tokenizer, options=options).sha256}


def guard_pieces(text: str) -> list[str]:
    """`text` with lone surrogates replaced, cut as Llama 3's reference cuts it before encoding."""
    if not text.isascii() and _SURROGATE.search(text):
        # surrogatepass + utf-16 joins well-formed pairs into their character and replaces lone ones
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if len(text) <= MAX_RUN_CHARS:
        return [text]
    pieces = []
    for start in range(0, len(text), MAX_ENCODE_CHARS):
        chunk = text[start:start + MAX_ENCODE_CHARS]
        cuts = [cut for run in _LONG_RUN.finditer(chunk)
                for cut in range(run.start() + MAX_RUN_CHARS, run.end(), MAX_RUN_CHARS)]
        bounds = [0, *cuts, len(chunk)]
        pieces.extend(chunk[a:b] for a, b in zip(bounds, bounds[1:]))
    return pieces


class Tokenizer:
    """encode_batch / decode over one of two engines (tiktoken ranks or a `tokenizers` object)."""

    def __init__(self, *, name: str, path: str, sha256: str, vocab_size: int, bos_id: int | None, eos_id: int,
                 ranks: dict[bytes, int] | None = None, pattern: str | None = None,
                 special_tokens: dict[str, int] | None = None, hf=None, num_threads: int = 1):
        self.name, self.path, self.sha256 = name, path, sha256
        self.vocab_size, self.bos_id, self.eos_id = vocab_size, bos_id, eos_id
        self.special_tokens = dict(special_tokens or {})
        self.num_threads = num_threads
        self._pool = ThreadPoolExecutor(num_threads) if num_threads > 1 else None
        if ranks is not None:
            import tiktoken

            self.backend = "tiktoken"
            self._encoding = tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=ranks,
                                               special_tokens=self.special_tokens)
            self._core = self._encoding._core_bpe   # straight to Rust: no per-call Python checks
        else:
            self.backend = "tokenizers"
            self._hf = hf
            self._hf.encode_special_tokens = True   # special-token strings in text stay text

    def __repr__(self) -> str:
        return f"Tokenizer({self.name!r}, vocab={self.vocab_size}, backend={self.backend})"

    def encode(self, text: str) -> np.ndarray:
        return self.encode_batch([text])[0]

    def encode_batch(self, texts: Iterable[str]) -> list[np.ndarray]:
        """Token ids (uint32) of each text, without BOS or EOS."""
        texts = list(texts)
        pieces = [guard_pieces(text) for text in texts]
        flat = [piece for group in pieces for piece in group]
        encoded = self._encode_pieces(flat)
        if len(flat) == len(texts):
            return encoded
        out, at = [], 0
        for group in pieces:
            out.append(np.concatenate(encoded[at:at + len(group)]) if len(group) > 1 else encoded[at])
            at += len(group)
        return out

    def decode(self, ids) -> str:
        ids = [int(i) for i in np.asarray(ids).ravel()]
        if self.backend == "tiktoken":
            return self._encoding.decode_bytes(ids).decode("utf-8", errors="replace")
        return self._hf.decode(ids, skip_special_tokens=False)

    def _encode_pieces(self, pieces: list[str]) -> list[np.ndarray]:
        if self.backend == "tokenizers":
            return [np.asarray(e.ids, dtype=np.uint32)
                    for e in self._hf.encode_batch_fast(pieces, add_special_tokens=False)]
        encode = self._encode_one
        if self._pool is not None and len(pieces) > 1:
            return list(self._pool.map(encode, pieces))
        return [encode(piece) for piece in pieces]

    def _encode_one(self, piece: str) -> np.ndarray:
        # allowed_special empty: special-token strings are encoded as ordinary text
        return np.frombuffer(self._core.encode_to_tiktoken_buffer(piece, set()), dtype=np.uint32)


# ---- loading -----------------------------------------------------------------------------------

def load_tokenizer(path: str, *, name: str | None = None, num_threads: int = 1,
                   options: dict | None = None) -> Tokenizer:
    """A Llama 3 `tokenizer.model` (tiktoken ranks), a `tokenizer.json`, or a directory holding one:
    a local path, or a URI read from its local copy (storage settings `options`, else the process's)."""
    if is_remote(str(path)):
        uri = _resolve_remote(str(path), options)
        try:
            file = Path(storage.local_copy(uri, options))
        except OSError as err:
            raise ConfigError(f"tokenizer {uri}: cannot fetch ({' '.join(str(err).split())[:200]})") from None
        name = name or "/".join(uri.rstrip("/").split("/")[-2:])
    else:
        file = _resolve(path[len("file://"):] if str(path).startswith("file://") else path)
    data = file.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    name = name or (f"{file.parent.name}/{file.name}" if file.parent.name else file.name)
    if file.suffix == ".json" or data.lstrip()[:1] == b"{":
        return _load_hf(file, data, name=name, sha=sha, num_threads=num_threads)
    ranks = read_tiktoken_ranks(file, data)
    specials = llama3_special_tokens(len(ranks))
    return Tokenizer(name=name, path=str(file), sha256=sha, vocab_size=len(ranks) + len(specials),
                     bos_id=specials["<|begin_of_text|>"], eos_id=specials["<|end_of_text|>"], ranks=ranks,
                     pattern=LLAMA3_PATTERN, special_tokens=specials, num_threads=num_threads)


def _resolve_remote(uri: str, options: dict | None) -> str:
    """The tokenizer file a URI names: the file itself, or tokenizer.model / tokenizer.json under it."""
    if uri.split("://", 1)[0].lower() in ("http", "https", "hf"):
        raise ConfigError(f"tokenizer '{uri}': nothing is downloaded from the web or a model hub: supply "
                          "tokenizer.model or tokenizer.json as a local path or an object-store URI")
    try:
        filesystem, inner = storage.filesystem(uri, options)
        info = filesystem.get_file_info(inner.rstrip("/"))
        if info.is_file:
            return uri
        for candidate in ("tokenizer.model", "tokenizer.json"):
            if storage.exists(f"{uri.rstrip('/')}/{candidate}", options):
                return f"{uri.rstrip('/')}/{candidate}"
    except (OSError, ValueError) as err:
        raise ConfigError(f"tokenizer {uri}: cannot read ({' '.join(str(err).split())[:200]})") from None
    if info.type.name == "NotFound":
        raise ConfigError(f"tokenizer file not found: {uri}")
    raise ConfigError(f"tokenizer directory {uri} holds neither tokenizer.model nor tokenizer.json")


def _resolve(path: str) -> Path:
    file = Path(path)
    if file.is_dir():
        for candidate in ("tokenizer.model", "tokenizer.json"):
            if (file / candidate).is_file():
                return file / candidate
        raise ConfigError(f"tokenizer directory {path} holds neither tokenizer.model nor tokenizer.json")
    if file.is_file():
        return file
    if "://" in str(path) or _HUB_ID.match(str(path)):
        raise ConfigError(f"tokenizer '{path}' is not a local file and nothing is downloaded: supply a local "
                          "tokenizer.model (Llama 3: original/tokenizer.model of the model repository) or "
                          "tokenizer.json, e.g. --set tokenize.tokenizer=models/llama3/tokenizer.model")
    raise ConfigError(f"tokenizer file not found: {path}")


def read_tiktoken_ranks(path: Path, data: bytes | None = None) -> dict[bytes, int]:
    """{token bytes: rank} from a tiktoken BPE file (`<base64 token> <rank>` per line)."""
    data = path.read_bytes() if data is None else data
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a tiktoken BPE file (base64 token and rank per line); a SentencePiece "
                          "tokenizer.model (Llama 1/2) is not supported") from None
    ranks: dict[bytes, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            token, rank = base64.b64decode(parts[0], validate=True), int(parts[1])
            if len(parts) != 2:
                raise ValueError
        except (ValueError, IndexError):
            raise ConfigError(f"{path}: line {lineno}: expected '<base64 token> <rank>', got {line[:60]!r}") from None
        if token in ranks:
            raise ConfigError(f"{path}: line {lineno}: token {token!r} appears twice")
        ranks[token] = rank
    _check_ranks(ranks, path)
    return ranks


def _check_ranks(ranks: dict[bytes, int], where) -> None:
    if sorted(ranks.values()) != list(range(len(ranks))):
        raise ConfigError(f"{where}: ranks must be 0..{len(ranks) - 1} without gaps or repeats")
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:  # tiktoken cannot encode a byte it has no token for
        raise ConfigError(f"{where}: not a byte-level BPE: {len(missing)} single bytes have no token "
                          f"(first: {missing[0]:#04x})")


def _load_hf(file: Path, data: bytes, *, name: str, sha: str, num_threads: int) -> Tokenizer:
    from tokenizers import Tokenizer as HFTokenizer

    try:
        spec = json.loads(data)
        hf = HFTokenizer.from_str(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, Exception) as err:  # tokenizers raises a bare Exception
        raise ConfigError(f"{file}: not a valid Hugging Face tokenizer.json ({str(err)[:200]})") from None
    added = {t["content"]: t["id"] for t in spec.get("added_tokens") or []}
    bos = next((added[n] for n in BOS_NAMES if n in added), None)
    eos = next((added[n] for n in EOS_NAMES if n in added), None)
    if eos is None:
        raise ConfigError(f"{file}: no end-of-text token among its added tokens (looked for {', '.join(EOS_NAMES)})")
    common = dict(name=name, path=str(file), sha256=sha, vocab_size=hf.get_vocab_size(with_added_tokens=True),
                  bos_id=bos, eos_id=eos, num_threads=num_threads)
    converted = hf_to_ranks(spec)
    if converted is None:
        return Tokenizer(hf=hf, **common)
    ranks, pattern = converted
    return Tokenizer(ranks=ranks, pattern=pattern, special_tokens=added, **common)


# ---- byte-level BPE <-> ranks ------------------------------------------------------------------

def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character map that byte-level tokenizer.json vocabularies use."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


def hf_to_ranks(spec: dict) -> tuple[dict[bytes, int], str] | None:
    """(ranks, split pattern) when a tokenizer.json encodes exactly as tiktoken would, else None.

    tiktoken merges any adjacent pair whose concatenation is a token, lowest rank first, and takes
    a pre-token that is itself a token whole; `tokenizers` applies only listed merges, by list
    position. They agree when the model ignores merges for whole tokens and the merges are every
    split of every token into two tokens, listed in the rank order of the merged token.
    """
    model = spec.get("model") or {}
    if model.get("type") != "BPE" or spec.get("normalizer") or model.get("dropout") \
            or model.get("continuing_subword_prefix") or model.get("end_of_word_suffix") \
            or model.get("byte_fallback") or not model.get("ignore_merges"):
        return None
    if (spec.get("decoder") or {}).get("type") != "ByteLevel":
        return None
    pattern = _byte_level_pattern(spec.get("pre_tokenizer") or {})
    if pattern is None or any(not t.get("special") for t in spec.get("added_tokens") or []):
        return None
    decode = {c: b for b, c in bytes_to_unicode().items()}
    try:
        ranks = {bytes(decode[c] for c in token): rank for token, rank in model["vocab"].items()}
        _check_ranks(ranks, "tokenizer.json")
    except (KeyError, ConfigError):
        return None
    if len(ranks) != len(model["vocab"]):
        return None
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model.get("merges") or []]
    try:
        merged = [(bytes(decode[c] for c in a), bytes(decode[c] for c in b)) for a, b in merges]
    except KeyError:
        return None
    # the same merges (order inside one merged token does not matter), in rank order of the result
    expected = complete_merges(ranks)
    if len(merged) != len(expected) or set(merged) != set(expected):
        return None
    order = [ranks[a + b] for a, b in merged]
    return (ranks, pattern) if all(x <= y for x, y in zip(order, order[1:])) else None


def _byte_level_pattern(pre: dict) -> str | None:
    if pre.get("type") == "ByteLevel" and pre.get("use_regex", True) and not pre.get("add_prefix_space"):
        return GPT2_PATTERN
    steps = pre.get("pretokenizers") if pre.get("type") == "Sequence" else None
    if not steps or len(steps) != 2:
        return None
    split, level = steps
    if split.get("type") == "Split" and "Regex" in (split.get("pattern") or {}) \
            and split.get("behavior") == "Isolated" and not split.get("invert") \
            and level.get("type") == "ByteLevel" and not level.get("use_regex") and not level.get("add_prefix_space"):
        return split["pattern"]["Regex"]
    return None


def complete_merges(ranks: dict[bytes, int]) -> list[tuple[bytes, bytes]]:
    """Every split of every token into two tokens, in rank order of the token (then of the left part):
    the merge list with which `tokenizers` encodes exactly as tiktoken does with `ranks`."""
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        splits = [(token[:i], token[i:]) for i in range(1, len(token))
                  if token[:i] in ranks and token[i:] in ranks]
        merges.extend(sorted(splits, key=lambda pair: (ranks[pair[0]], ranks[pair[1]])))
    return merges


# ---- training ----------------------------------------------------------------------------------

def train_bpe(texts: Iterable[str], out_dir: str, *, vocab_size: int = 128_000, min_frequency: int = 2,
              name: str | None = None) -> Tokenizer:
    """Train a byte-level BPE (Llama 3's split regex) and save it as out_dir/tokenizer.model (ranks,
    Llama 3's 256 specials implied after them) and out_dir/tokenizer.json; returns the loaded .model.

    `vocab_size` counts the base tokens (256 bytes + merges); the specials come on top, as in
    Llama 3 (128,000 + 256). Training stops earlier when the text runs out of pairs to merge.
    """
    from tokenizers import Regex, models, pre_tokenizers, trainers
    from tokenizers import Tokenizer as HFTokenizer

    if vocab_size < 256:
        raise ConfigError(f"vocab_size must be >= 256 (one token per byte), got {vocab_size}")
    hf = HFTokenizer(models.BPE())
    hf.pre_tokenizer = _llama3_pre_tokenizer(pre_tokenizers, Regex)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    hf.train_from_iterator(_guarded(texts), trainer=trainer)
    decode = {c: b for b, c in bytes_to_unicode().items()}
    ranks = {bytes(decode[c] for c in token): rank for token, rank in hf.get_vocab().items()}
    _check_ranks(ranks, "trained vocabulary")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_tiktoken_ranks(ranks, out / "tokenizer.model")
    (out / "tokenizer.json").write_text(ranks_to_hf_json(ranks, llama3_special_tokens(len(ranks))), encoding="utf-8")
    return load_tokenizer(str(out / "tokenizer.model"), name=name)


def _guarded(texts: Iterable[str]) -> Iterator[str]:
    for text in texts:
        if text:
            yield from guard_pieces(text)


def _llama3_pre_tokenizer(pre_tokenizers, Regex):
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])


def write_tiktoken_ranks(ranks: dict[bytes, int], path: Path) -> None:
    lines = (f"{base64.b64encode(token).decode('ascii')} {rank}\n"
             for token, rank in sorted(ranks.items(), key=lambda item: item[1]))
    Path(path).write_text("".join(lines), encoding="ascii")


def ranks_to_hf_json(ranks: dict[bytes, int], specials: dict[str, int]) -> str:
    """A tokenizer.json that `tokenizers` encodes exactly as tiktoken does with `ranks` (see hf_to_ranks)."""
    from tokenizers import AddedToken, Regex, decoders, models, pre_tokenizers
    from tokenizers import Tokenizer as HFTokenizer

    chars = bytes_to_unicode()
    show = lambda token: "".join(chars[b] for b in token)  # noqa: E731
    vocab = {show(token): rank for token, rank in ranks.items()}
    merges = [(show(a), show(b)) for a, b in complete_merges(ranks)]
    hf = HFTokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=True))
    hf.pre_tokenizer = _llama3_pre_tokenizer(pre_tokenizers, Regex)
    hf.decoder = decoders.ByteLevel()
    ordered = sorted(specials.items(), key=lambda item: item[1])
    if [i for _, i in ordered] != list(range(len(ranks), len(ranks) + len(ordered))):
        raise ValueError("special tokens must follow the base vocabulary without gaps")
    hf.add_special_tokens([AddedToken(n, special=True, normalized=False) for n, _ in ordered])
    return hf.to_str(pretty=False)


# ---- one tokenizer per Python worker (the tokenize job's mapInArrow functions) -----------------------

_LOADED: dict[str, Tokenizer] = {}


def cached_tokenizer(path: str, options: dict | None = None) -> Tokenizer:
    """One tokenizer per Python worker process, loaded on first use (a URI from its local copy,
    fetched once per machine)."""
    if path not in _LOADED:
        _LOADED[path] = load_tokenizer(path, options=options)
    return _LOADED[path]


def encode_documents(texts: list[str], *, path: str, add_bos: bool,
                     options: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every text as [BOS] ids EOS, concatenated (uint32), and the n + 1 offsets (int64) between them."""
    tokenizer = cached_tokenizer(path, options)
    head = [tokenizer.bos_id] if add_bos else []
    ids = tokenizer.encode_batch(texts)
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum([len(x) + len(head) + 1 for x in ids], out=offsets[1:])
    values = np.empty(int(offsets[-1]), dtype=np.uint32)
    for i, doc in enumerate(ids):
        start, end = offsets[i], offsets[i + 1]
        values[start:start + len(head)] = head
        values[start + len(head):end - 1] = doc
        values[end - 1] = tokenizer.eos_id
    return values, offsets
