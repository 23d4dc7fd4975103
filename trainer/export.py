"""Export a trainer checkpoint as a Hugging Face Llama checkpoint (config.json + model.safetensors
+ the tokenizer's files).

    python -m trainer.export --checkpoint out/train/checkpoint.pt --out out/hf [--dtype bfloat16] \
        [--tokenizer conf/tokenizer/demo]

Our parameter names are LlamaForCausalLM's without the `model.` prefix and RoPE uses the same
rotate-half layout, so tensors are copied as they are: no q/k permutation. The result loads with
`transformers.LlamaForCausalLM.from_pretrained(out)` and `transformers.AutoTokenizer.from_pretrained(out)`:
tokenizer.json (copied from --tokenizer: a tokenizer.json or a directory holding one, the shards'
tokenizer or its tokenizer.json twin), tokenizer_config.json and special_tokens_map.json (BOS/EOS
from the checkpoint's shards). Without --tokenizer only the model is written; config.json records
the shards' tokenizer (name and sha256) under `curate_tokenizer` either way.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from trainer.checkpoint import load_checkpoint
from trainer.model import ModelConfig

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def hf_config(config: ModelConfig, *, bos_id: int | None, eos_id: int | None, dtype: str) -> dict:
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "vocab_size": config.vocab_size, "hidden_size": config.dim, "intermediate_size": config.ffn_dim,
        "num_hidden_layers": config.n_layers, "num_attention_heads": config.n_heads,
        "num_key_value_heads": config.n_kv_heads, "head_dim": config.head_dim, "hidden_act": "silu",
        "max_position_embeddings": config.max_seq_len, "rms_norm_eps": config.norm_eps,
        # transformers >= 5 reads rope_parameters, 4.x reads rope_theta
        "rope_theta": config.rope_theta, "rope_parameters": {"rope_type": "default", "rope_theta": config.rope_theta},
        "tie_word_embeddings": config.tie_embeddings, "attention_bias": False, "mlp_bias": False,
        "attention_dropout": 0.0, "initializer_range": config.init_std, "use_cache": True,
        "bos_token_id": bos_id, "eos_token_id": eos_id, "dtype": dtype,
    }


def hf_state_dict(state: dict[str, torch.Tensor], config: ModelConfig, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    tensors = {}
    for name, tensor in state.items():
        if name == "lm_head.weight":
            if config.tie_embeddings:     # safetensors refuses shared storage; HF re-ties from the config
                continue
            key = name
        else:
            key = f"model.{name}"
        tensors[key] = tensor.detach().to("cpu", dtype).contiguous().clone()
    return tensors


def tokenizer_json(path: str | Path) -> Path:
    """The tokenizer.json `path` names: the file itself, or tokenizer.json in a directory."""
    path = Path(path)
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.is_file() or file.suffix != ".json":
        raise ValueError(f"{path}: no tokenizer.json (a Llama 3 tokenizer.model cannot be copied as it is: "
                         "give the tokenizer.json beside it, as conf/tokenizer/demo/ has)")
    return file


def write_tokenizer_files(source: str | Path, out_dir: str | Path, *, bos_id: int | None, eos_id: int | None,
                          max_length: int) -> list[Path]:
    """tokenizer.json, tokenizer_config.json and special_tokens_map.json in `out_dir`, the files
    `AutoTokenizer.from_pretrained` reads (a PreTrainedTokenizerFast over tokenizer.json)."""
    file = tokenizer_json(source)
    spec = json.loads(file.read_text(encoding="utf-8"))
    by_id = {token["id"]: token["content"] for token in spec.get("added_tokens", [])}
    for name, token_id in (("BOS", bos_id), ("EOS", eos_id)):
        if token_id is not None and token_id not in by_id:
            raise ValueError(f"{file}: the shards' {name} id {token_id} is not one of its added tokens")
    specials = {key: by_id[token_id] for key, token_id in (("bos_token", bos_id), ("eos_token", eos_id))
                if token_id is not None}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(file, out / "tokenizer.json")
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": max_length,
              "clean_up_tokenization_spaces": False, "add_bos_token": False, "add_eos_token": False, **specials}
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (out / "special_tokens_map.json").write_text(json.dumps(specials, indent=2) + "\n", encoding="utf-8")
    return [out / "tokenizer.json", out / "tokenizer_config.json", out / "special_tokens_map.json"]


def export(checkpoint_path: str | Path, out_dir: str | Path, dtype: str = "float32",
           tokenizer: str | Path | None = None) -> Path:
    checkpoint = load_checkpoint(checkpoint_path)
    config = ModelConfig(**checkpoint["config"]["model"])
    data = checkpoint.get("data", {})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file(hf_state_dict(checkpoint["model"], config, DTYPES[dtype]), str(out / "model.safetensors"),
              metadata={"format": "pt"})
    meta = hf_config(config, bos_id=data.get("bos_id"), eos_id=data.get("eos_id"), dtype=dtype)
    meta["curate_tokenizer"] = data.get("tokenizer")
    meta["curate_step"] = checkpoint["step"]
    (out / "config.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    if tokenizer is not None:
        write_tokenizer_files(tokenizer, out, bos_id=data.get("bos_id"), eos_id=data.get("eos_id"),
                              max_length=config.max_seq_len)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="a trainer checkpoint.pt")
    parser.add_argument("--out", required=True, help="directory for config.json and model.safetensors")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32", help="weight dtype (default float32)")
    parser.add_argument("--tokenizer", metavar="PATH",
                        help="the shards' tokenizer.json, or a directory holding it (e.g. conf/tokenizer/demo): "
                             "written beside the model for AutoTokenizer (default: model only)")
    args = parser.parse_args(argv)
    if not Path(args.checkpoint).is_file():
        print(f"error: {args.checkpoint}: no such checkpoint (python -m trainer.train writes <out>/checkpoint.pt)",
              file=sys.stderr)
        return 2
    if args.tokenizer is not None:
        try:
            tokenizer_json(args.tokenizer)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    try:
        out = export(args.checkpoint, args.out, args.dtype, tokenizer=args.tokenizer)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    written = ["config.json", "model.safetensors"] + (
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] if args.tokenizer else [])
    print(f"wrote {', '.join(str(out / name) for name in written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
