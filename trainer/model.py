"""A Llama 3 style decoder: RMSNorm, RoPE (theta 500,000), SwiGLU, grouped-query attention.

Module and parameter names follow Hugging Face's LlamaForCausalLM (minus its `model.` prefix) and
RoPE uses the same rotate-half layout, so trainer/export.py copies tensors without permuting them.
Attention goes through scaled_dot_product_attention: flash kernels on GPU when causal-only; an
optional document mask (no attention across EOS) costs the flash path and falls back to the
memory-efficient kernel.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from trainer.loss import chunked_cross_entropy


@dataclass
class ModelConfig:
    vocab_size: int = 128_256       # 0 in a YAML file: take the shards' vocab_size (rounded up to 64)
    dim: int = 768                  # residual width d
    n_layers: int = 12
    n_heads: int = 12               # query heads; head_dim = dim / n_heads
    n_kv_heads: int = 4             # key/value heads shared by n_heads / n_kv_heads query heads (GQA)
    ffn_dim: int = 2048             # SwiGLU hidden width
    max_seq_len: int = 2048         # RoPE table length
    rope_theta: float = 500_000.0   # Llama 3
    norm_eps: float = 1.0e-5
    tie_embeddings: bool = False    # lm_head shares the input embedding matrix
    init_std: float = 0.02

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    def check(self) -> None:
        """Raise ValueError for shapes that cannot work (message names the key)."""
        if self.vocab_size <= 0:
            raise ValueError(f"model.vocab_size must be > 0, got {self.vocab_size}")
        if self.dim % self.n_heads or self.head_dim % 2:
            raise ValueError(f"model.dim {self.dim} must split into n_heads {self.n_heads} heads of even size")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"model.n_heads {self.n_heads} must be a multiple of n_kv_heads {self.n_kv_heads}")
        for key in ("n_layers", "ffn_dim", "max_seq_len"):
            if getattr(self, key) <= 0:
                raise ValueError(f"model.{key} must be > 0, got {getattr(self, key)}")


def count_parameters(config: ModelConfig) -> dict[str, int]:
    """Parameter counts from the config alone (no model needed, so the bench can report them)."""
    d, kv = config.dim, config.n_kv_heads * config.head_dim
    per_layer = d * (2 * d + 2 * kv) + 3 * d * config.ffn_dim + 2 * d
    embedding = config.vocab_size * d
    head = 0 if config.tie_embeddings else embedding
    return {"embedding": embedding, "layers": config.n_layers * per_layer, "final_norm": d, "head": head,
            "total": embedding + config.n_layers * per_layer + d + head}


def flops_per_token(config: ModelConfig, seq_len: int) -> int:
    """Training FLOPs per token for MFU: 6*N + 12*L*d*T (PaLM, appendix B).

    N is every parameter but the input embedding: the output projection counts once even when it
    is tied to the embedding, because its matmul runs either way (a lookup costs no FLOPs).
    """
    counts = count_parameters(config)
    n = counts["layers"] + counts["final_norm"] + config.vocab_size * config.dim
    return 6 * n + 12 * config.n_layers * config.dim * seq_len


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # fp32 statistics whatever the autocast dtype, cast back before the weight (as HF Llama does)
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)


def rope_table(config: ModelConfig, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of shape (max_seq_len, head_dim), frequencies repeated for the rotate-half layout."""
    half = torch.arange(0, config.head_dim, 2, dtype=torch.float32, device=device) / config.head_dim
    inv_freq = 1.0 / (config.rope_theta ** half)
    angles = torch.outer(torch.arange(config.max_seq_len, dtype=torch.float32, device=device), inv_freq)
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos(), angles.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: (B, heads, T, head_dim); rotates pairs (i, i + head_dim/2), computed in fp32."""
    h = x.float()
    h1, h2 = h.chunk(2, dim=-1)
    rotated = torch.cat([-h2, h1], dim=-1)
    return (h * cos + rotated * sin).to(x.dtype)


class Attention(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = config.n_heads, config.n_kv_heads, config.head_dim
        kv = config.n_kv_heads * config.head_dim
        self.q_proj = nn.Linear(config.dim, config.dim, bias=False)
        self.k_proj = nn.Linear(config.dim, kv, bias=False)
        self.v_proj = nn.Linear(config.dim, kv, bias=False)
        self.o_proj = nn.Linear(config.dim, config.dim, bias=False)

    def forward(self, x, cos, sin, mask=None):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        # enable_gqa lets the kernel share each KV head across its query group without repeat_interleave
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None,
                                             enable_gqa=self.n_kv_heads != self.n_heads)
        return self.o_proj(out.transpose(1, 2).reshape(b, t, -1))


class MLP(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.gate_proj = nn.Linear(config.dim, config.ffn_dim, bias=False)
        self.up_proj = nn.Linear(config.dim, config.ffn_dim, bias=False)
        self.down_proj = nn.Linear(config.ffn_dim, config.dim, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.input_layernorm = RMSNorm(config.dim, config.norm_eps)
        self.self_attn = Attention(config)
        self.post_attention_layernorm = RMSNorm(config.dim, config.norm_eps)
        self.mlp = MLP(config)

    def forward(self, x, cos, sin, mask=None):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


def document_mask(tokens: torch.Tensor, eos_id: int) -> torch.Tensor:
    """(B, 1, T, T) boolean: causal, and a token sees only its own document (EOS closes a document)."""
    is_eos = (tokens == eos_id).int()
    doc = torch.cumsum(is_eos, dim=1) - is_eos          # the EOS belongs to the document it ends
    t = tokens.shape[1]
    causal = torch.ones(t, t, dtype=torch.bool, device=tokens.device).tril()
    return (causal & (doc[:, :, None] == doc[:, None, :]))[:, None]


class Transformer(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        config.check()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.dim)
        self.layers = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = RMSNorm(config.dim, config.norm_eps)
        self.lm_head = nn.Linear(config.dim, config.vocab_size, bias=False)
        if config.tie_embeddings:
            self.lm_head.weight = self.embed_tokens.weight
        cos, sin = rope_table(config)
        # not persistent: rebuilt from the config, so checkpoints and exports hold only weights
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # GPT-2/OLMo style: N(0, 0.02), residual output projections scaled by 1/sqrt(2 * layers)
        std = self.config.init_std
        for name, p in self.named_parameters():
            if p.dim() == 1:
                nn.init.ones_(p)
            elif name.endswith(("o_proj.weight", "down_proj.weight")):
                nn.init.normal_(p, std=std / (2 * self.config.n_layers) ** 0.5)
            else:
                nn.init.normal_(p, std=std)

    def hidden(self, tokens: torch.Tensor, eos_id: int | None = None) -> torch.Tensor:
        """Final-norm hidden states (B, T, d); eos_id turns on document-aware masking."""
        t = tokens.shape[1]
        if t > self.config.max_seq_len:
            raise ValueError(f"sequence length {t} exceeds model.max_seq_len {self.config.max_seq_len}")
        cos, sin = self.rope_cos[:t], self.rope_sin[:t]
        mask = None if eos_id is None else document_mask(tokens, eos_id)
        x = self.embed_tokens(tokens)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.norm(x)

    def forward(self, tokens: torch.Tensor, targets: torch.Tensor | None = None, *,
                eos_id: int | None = None, ce_chunk_tokens: int = 8192):
        """Logits (B, T, vocab) without targets; else the mean cross-entropy, computed in chunks
        so the full (B*T, vocab) fp32 logits never exist (see trainer/loss.py)."""
        h = self.hidden(tokens, eos_id)
        if targets is None:
            return self.lm_head(h)
        return chunked_cross_entropy(h.flatten(0, 1), self.lm_head.weight, targets.flatten(), ce_chunk_tokens)
