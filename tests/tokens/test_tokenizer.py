"""Tokenizers: files written here (a tiny BPE trained in the test, a synthetic Llama 3-sized rank
file, a plain `tokenizers` BPE) load, round-trip multilingual and adversarial text, and agree
between tiktoken ranks and tokenizer.json; bad files fail with ConfigError naming them."""
import base64
import hashlib
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import ConfigError
from pipeline.tokens.tokenizer import (MAX_ENCODE_CHARS, MAX_RUN_CHARS, guard_pieces, llama3_special_tokens,
                                load_tokenizer, train_bpe)

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "samples" / "pages").glob("*.txt"))

TEXTS = {
    "english": "The quick brown fox jumps over the lazy dog. It's 3.14159 o'clock; we'll see.",
    "german": "Grüß Gott! Die Straße ist schön, Äpfel & Öl kosten 12,50 €.",
    "russian": "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "arabic": "مرحبا بالعالم، هذا نص عربي مع أرقام ١٢٣ و 456.",
    "chinese": "我们的分词器应该能够处理中文文本，而不丢失任何信息。",
    "japanese": "東京は日本の首都です。カタカナとひらがなも混ざっています。",
    "hindi": "नमस्ते दुनिया, यह एक परीक्षण है।",
    "emoji": "family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 skin 👍🏽 and 🤖!!",
    "combining": "e\u0301 a\u0300\u0323 Z\u0351\u0308\u0306 q\u0307\u0323 ṩ n\u0303",
    "code": "def f(x):\n\treturn {'a': [1, 2, 3]}  # comment\r\n\n\n    \u00a0\u2003end",
    "whitespace": " \t \n\n\n   leading and trailing   \u3000 ",
    "specials_as_text": "<|begin_of_text|>hello<|end_of_text|><|eot_id|>",
    "control": "\x00\x01\x7f\ufeff\ufffd\U0010ffff",
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 1,000-token BPE trained on the sample pages: (tokenizer.model path, tokenizer.json path)."""
    out = tmp_path_factory.mktemp("bpe")
    train_bpe((p.read_text(encoding="utf-8") for p in PAGES), str(out), vocab_size=1000)
    return out / "tokenizer.model", out / "tokenizer.json"


@pytest.fixture(scope="module", params=["model", "json"])
def tokenizer(request, trained):
    return load_tokenizer(str(trained[0] if request.param == "model" else trained[1]))


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_round_trip(tokenizer, name):
    ids = tokenizer.encode(TEXTS[name])
    assert ids.dtype == np.uint32 and ids.size > 0
    assert tokenizer.decode(ids) == TEXTS[name]


def test_round_trip_sample_pages(tokenizer):
    texts = [p.read_text(encoding="utf-8") for p in PAGES]
    assert [tokenizer.decode(ids) for ids in tokenizer.encode_batch(texts)] == texts


def test_special_token_strings_stay_text(tokenizer):
    ids = tokenizer.encode(TEXTS["specials_as_text"]).tolist()
    assert tokenizer.eos_id not in ids and tokenizer.bos_id not in ids
    assert max(ids) < tokenizer.vocab_size - 256


def test_lone_surrogates_are_replaced(tokenizer):
    text = "ok \ud800 then \udfff and a pair \ud83d\ude00 end"
    assert tokenizer.decode(tokenizer.encode(text)) == "ok \ufffd then \ufffd and a pair 😀 end"


def test_one_megabyte_single_line(tokenizer):
    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzäößжщ"))
    text = "".join(rng.choice(letters, 1_000_000))   # no whitespace at all: one 1 MB pre-token unguarded
    assert tokenizer.decode(tokenizer.encode(text)) == text
    spaced = ("word " * 200_000)[:1_000_000]
    assert tokenizer.decode(tokenizer.encode(spaced)) == spaced


def test_empty_batch_members(tokenizer):
    out = tokenizer.encode_batch(["", "a", ""])
    assert [len(x) for x in out][0] == 0 and len(out[1]) == 1 and len(out[2]) == 0


def test_model_and_json_encode_identically(trained):
    from tokenizers import Tokenizer as HFTokenizer

    model, json_file = load_tokenizer(str(trained[0])), load_tokenizer(str(trained[1]))
    assert (model.backend, json_file.backend) == ("tiktoken", "tiktoken")
    raw = HFTokenizer.from_file(str(trained[1]))
    raw.encode_special_tokens = True
    texts = [p.read_text(encoding="utf-8") for p in PAGES] + list(TEXTS.values())
    for text, a, b in zip(texts, model.encode_batch(texts), json_file.encode_batch(texts)):
        assert a.tolist() == b.tolist() == raw.encode(text, add_special_tokens=False).ids
    assert (model.vocab_size, model.bos_id, model.eos_id) == (json_file.vocab_size, json_file.bos_id, json_file.eos_id)
    assert model.vocab_size == 1000 + 256 and (model.bos_id, model.eos_id) == (1000, 1001)


def test_identity_fields(trained):
    tok = load_tokenizer(str(trained[0].parent))            # a directory: its tokenizer.model
    assert tok.path == str(trained[0])
    assert tok.sha256 == hashlib.sha256(trained[0].read_bytes()).hexdigest()
    assert tok.name == f"{trained[0].parent.name}/tokenizer.model"


def llama3_sized_ranks(path):
    """128,000 distinct byte strings as ranks: the 256 bytes first, then two- and three-byte strings."""
    tokens = [bytes([b]) for b in range(256)]
    for a, b in itertools.product(range(32, 127), repeat=2):
        tokens.append(bytes([a, b]))
    tokens += [bytes([a, b, c]) for a, b, c in itertools.product(range(97, 123), repeat=3)]
    tokens += [b"tok%d" % i for i in range(128_000 - len(tokens))]
    path.write_text("".join(f"{base64.b64encode(t).decode()} {i}\n" for i, t in enumerate(tokens)))


def test_llama3_layout(tmp_path):
    llama3_sized_ranks(tmp_path / "tokenizer.model")
    tok = load_tokenizer(str(tmp_path / "tokenizer.model"))
    assert tok.vocab_size == 128_256
    assert (tok.bos_id, tok.eos_id) == (128_000, 128_001)
    specials = tok.special_tokens
    assert specials["<|start_header_id|>"] == 128_006 and specials["<|eot_id|>"] == 128_009
    assert specials["<|reserved_special_token_4|>"] == 128_008
    assert specials["<|reserved_special_token_250|>"] == 128_255 and len(specials) == 256
    assert llama3_special_tokens(500)["<|end_of_text|>"] == 501
    assert tok.decode(tok.encode("hello world")) == "hello world"


def test_plain_tokenizers_bpe_falls_back(tmp_path):
    """A tokenizer.json trained by `tokenizers` itself (merges by training order, GPT-2 style) is
    not rank-equivalent: it is encoded by `tokenizers`, still round-trips, still finds its EOS."""
    from tokenizers import Tokenizer as HFTokenizer, decoders, models, pre_tokenizers, trainers

    hf = HFTokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    hf.train_from_iterator([p.read_text(encoding="utf-8") for p in PAGES], trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    hf.save(str(tmp_path / "tokenizer.json"))
    tok = load_tokenizer(str(tmp_path / "tokenizer.json"))
    assert tok.backend == "tokenizers" and tok.eos_id == 0 and tok.bos_id is None
    for text in TEXTS.values():
        assert tok.decode(tok.encode(text)) == text
    assert 0 not in tok.encode("<|endoftext|>").tolist()


def reference_split(s, limit):
    """Llama 3's reference _split_whitespaces_or_nonwhitespaces (meta-llama/llama3 tokenizer.py)."""
    current_len, is_space, start = 0, s[0].isspace() if s else False, 0
    for i in range(len(s)):
        now = s[i].isspace()
        if is_space ^ now:
            current_len, is_space = 1, now
        else:
            current_len += 1
            if current_len > limit:
                yield s[start:i]
                start, current_len = i, 1
    yield s[start:]


@pytest.mark.parametrize("text", [
    "x" * 60_001,
    " " * 25_001 + "y" * 10 + "\n" * 50_000,
    ("ab " * 9_000) + "z" * 24_999 + " " + "w" * 25_000 + "q",
    "a" * 24_000 + " " + "b" * 24_000 + " " + "c" * 30_000,
    "short",
])
def test_guard_matches_llama3_reference(text):
    expected = [p for c in range(0, len(text), MAX_ENCODE_CHARS)
                for p in reference_split(text[c:c + MAX_ENCODE_CHARS], MAX_RUN_CHARS)]
    assert guard_pieces(text) == expected
    assert "".join(guard_pieces(text)) == text


def test_guard_cuts_every_400k_chars():
    pieces = guard_pieces("ab " * 300_000)
    assert [len(p) for p in pieces] == [MAX_ENCODE_CHARS, MAX_ENCODE_CHARS, 100_000]


@pytest.mark.parametrize("content, message", [
    (b"not base64!! 0\n", r"line 1: expected '<base64 token> <rank>'"),
    (b"YQ== 0\nYQ== 1\n", "appears twice"),
    (b"YQ== 0\nYg== 5\n", "without gaps"),
    (b"YQ== 0\n", "single bytes have no token"),
    (b"\x0a\x0b\x80\xffsentencepiece", "SentencePiece"),
])
def test_bad_rank_files(tmp_path, content, message):
    path = tmp_path / "tokenizer.model"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as err:
        load_tokenizer(str(path))
    assert str(path) in str(err.value) or "SentencePiece" in message


def test_bad_json_files(tmp_path, trained):
    broken = tmp_path / "broken.json"
    broken.write_text("{ nope")
    with pytest.raises(ConfigError, match="broken.json: not a valid Hugging Face tokenizer.json"):
        load_tokenizer(str(broken))
    spec = json.loads(trained[1].read_text())
    spec["added_tokens"] = [t for t in spec["added_tokens"] if t["content"] != "<|end_of_text|>"]
    no_eos = tmp_path / "tokenizer.json"
    no_eos.write_text(json.dumps(spec))
    with pytest.raises(ConfigError, match="no end-of-text token"):
        load_tokenizer(str(no_eos))


def test_missing_files_and_hub_ids(tmp_path):
    with pytest.raises(ConfigError, match=f"tokenizer file not found: {tmp_path / 'nope.model'}"):
        load_tokenizer(str(tmp_path / "nope.model"))
    with pytest.raises(ConfigError, match="nothing is downloaded: supply a local tokenizer.model"):
        load_tokenizer("meta-llama/Meta-Llama-3-8B")
    with pytest.raises(ConfigError, match="holds neither tokenizer.model nor tokenizer.json"):
        load_tokenizer(str(tmp_path))


def test_default_demo_tokenizer_is_committed():
    tok = load_tokenizer(str(ROOT / "conf" / "tokenizer" / "demo"))
    assert tok.vocab_size == 4096 + 256 and tok.backend == "tiktoken"
    json_tok = load_tokenizer(str(ROOT / "conf" / "tokenizer" / "demo" / "tokenizer.json"))
    text = PAGES[0].read_text(encoding="utf-8")
    assert tok.encode(text).tolist() == json_tok.encode(text).tolist()
