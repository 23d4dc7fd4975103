import json

import pytest
import torch

from trainer.checkpoint import save_checkpoint
from trainer.config import TrainerConfig, to_dict
from trainer.export import export, main
from trainer.model import ModelConfig, Transformer


@pytest.mark.slow
@pytest.mark.parametrize("tied", [False, True])
def test_exported_llama_gives_our_logits(tmp_path, tied):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = TrainerConfig(model=ModelConfig(vocab_size=128, dim=48, n_layers=2, n_heads=6, n_kv_heads=2,
                                             ffn_dim=80, max_seq_len=64, tie_embeddings=tied))
    model = Transformer(config.model).eval()
    with torch.no_grad():                 # norms away from 1 so a misplaced norm weight would show
        for p in model.parameters():
            if p.dim() == 1:
                p.uniform_(0.5, 1.5)
    optimizer = torch.optim.AdamW(model.parameters())
    save_checkpoint(tmp_path, model=model, optimizer=optimizer, step=7, sampler={}, config=to_dict(config),
                    data={"eos_id": 0, "bos_id": None, "tokenizer": {"name": "t", "sha256": "x"}})
    out = export(tmp_path / "checkpoint.pt", tmp_path / "hf")

    hf = transformers.AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    assert type(hf).__name__ == "LlamaForCausalLM"
    tokens = torch.randint(0, 128, (2, 40))
    with torch.no_grad():
        ours, theirs = model(tokens), hf(tokens).logits
    torch.testing.assert_close(theirs, ours, atol=1e-4, rtol=1e-4)
    assert ours.abs().max() > 0.1
    meta = json.loads((out / "config.json").read_text())
    assert meta["num_key_value_heads"] == 2 and meta["tie_word_embeddings"] is tied and meta["eos_token_id"] == 0


def test_missing_checkpoint(tmp_path, capsys):
    assert main(["--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "hf")]) == 2
    assert "no such checkpoint" in capsys.readouterr().err


DEMO_TOKENIZER = __import__("pathlib").Path(__file__).resolve().parents[2] / "conf" / "tokenizer" / "demo"


def _tiny_checkpoint(tmp_path, vocab_size=4352, bos_id=4096, eos_id=4097):
    config = TrainerConfig(model=ModelConfig(vocab_size=vocab_size, dim=16, n_layers=1, n_heads=2, n_kv_heads=1,
                                             ffn_dim=32, max_seq_len=32))
    model = Transformer(config.model)
    save_checkpoint(tmp_path, model=model, optimizer=torch.optim.AdamW(model.parameters()), step=1, sampler={},
                    config=to_dict(config), data={"eos_id": eos_id, "bos_id": bos_id,
                                                  "tokenizer": {"name": "demo/tokenizer.model", "sha256": "x"}})
    return tmp_path / "checkpoint.pt"


@pytest.mark.slow
def test_the_export_carries_a_tokenizer_autotokenizer_loads(tmp_path, capsys):
    transformers = pytest.importorskip("transformers")
    checkpoint = _tiny_checkpoint(tmp_path)
    assert main(["--checkpoint", str(checkpoint), "--out", str(tmp_path / "hf"), "--tokenizer", str(DEMO_TOKENIZER)]) == 0
    assert "tokenizer_config.json" in capsys.readouterr().out
    out = tmp_path / "hf"
    assert {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"} <= {p.name for p in out.iterdir()}
    tok = transformers.AutoTokenizer.from_pretrained(out)
    assert tok.bos_token == "<|begin_of_text|>" and tok.eos_token == "<|end_of_text|>"
    assert tok.convert_tokens_to_ids(tok.eos_token) == 4097
    from pipeline.tokens.tokenizer import load_tokenizer   # ours (tiktoken over tokenizer.model) agrees
    ours = load_tokenizer(str(DEMO_TOKENIZER / "tokenizer.model"))
    text = "The quick brown fox jumps over the lazy dog. Zürich, 2024!"
    assert tok.encode(text, add_special_tokens=False) == [int(i) for i in ours.encode(text)]
    assert tok.decode(tok.encode(text, add_special_tokens=False)) == text
    # the model beside it takes what the tokenizer gives
    model = transformers.AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    with torch.no_grad():
        logits = model(**tok(text, return_tensors="pt")).logits
    assert logits.shape == (1, len(tok(text)["input_ids"]), 4352)


def test_a_tokenizer_model_alone_is_refused(tmp_path, capsys):
    checkpoint = _tiny_checkpoint(tmp_path)
    assert main(["--checkpoint", str(checkpoint), "--out", str(tmp_path / "hf"),
                 "--tokenizer", str(DEMO_TOKENIZER / "tokenizer.model")]) == 2
    assert "no tokenizer.json" in capsys.readouterr().err
    assert not (tmp_path / "hf").exists()
