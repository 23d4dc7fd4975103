"""Export a trainer checkpoint as a Hugging Face Llama checkpoint (config.json + model.safetensors).

    python -m trainer.export --checkpoint out/train/checkpoint.pt --out out/hf [--dtype bfloat16]

Our parameter names are LlamaForCausalLM's without the `model.` prefix and RoPE uses the same
rotate-half layout, so tensors are copied as they are: no q/k permutation. The result loads with
`transformers.LlamaForCausalLM.from_pretrained(out)` (no tokenizer files are written: the shards'
manifest names the tokenizer, recorded in config.json under `curate_tokenizer`).
"""
from __future__ import annotations

import argparse
import json
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


def export(checkpoint_path: str | Path, out_dir: str | Path, dtype: str = "float32") -> Path:
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
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="a trainer checkpoint.pt")
    parser.add_argument("--out", required=True, help="directory for config.json and model.safetensors")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32", help="weight dtype (default float32)")
    args = parser.parse_args(argv)
    if not Path(args.checkpoint).is_file():
        print(f"error: {args.checkpoint}: no such checkpoint (python -m trainer.train writes <out>/checkpoint.pt)",
              file=sys.stderr)
        return 2
    out = export(args.checkpoint, args.out, args.dtype)
    print(f"wrote {out / 'config.json'} and {out / 'model.safetensors'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
