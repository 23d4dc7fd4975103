"""Cross-entropy over a large vocabulary without materialising all the logits.

With Llama 3's 128,256-token head, one batch of 16 x 2048 tokens has 4.2e9 logits: 8 GB in bf16,
16 GB more for fp32 softmax and its gradient. Here the tokens go through the head in chunks; each
chunk's gradients (for the hidden states and the head weight) are computed in the forward pass
right after its loss, and its logits are freed before the next chunk (the Liger-Kernel "fused
linear cross-entropy" idea). Backward then only scales the stored gradients by the incoming
scalar, so no head matmul is recomputed, unlike activation checkpointing of the head.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

_softmax_grad = None   # the per-chunk elementwise kernel; torch.compile'd by use_compiled_kernel()


def _softmax_grad_eager(logits: torch.Tensor, targets: torch.Tensor, scale: float):
    """Sum of per-token losses, and d(scale * loss_sum)/d(logits) in the logits' dtype."""
    z = logits.float()
    lse = torch.logsumexp(z, dim=-1, keepdim=True)
    loss_sum = (lse.squeeze(1) - z.gather(1, targets[:, None]).squeeze(1)).sum()
    grad = torch.exp(z - lse)
    grad = grad.scatter_add(1, targets[:, None], torch.full_like(lse, -1.0))
    return loss_sum, (grad * scale).to(logits.dtype)


def use_compiled_kernel(enabled: bool) -> None:
    """Fuse the upcast, log-sum-exp and gradient into two passes over each chunk's logits (GPU)."""
    global _softmax_grad
    _softmax_grad = torch.compile(_softmax_grad_eager, dynamic=False) if enabled else None


class _ChunkedLinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, targets, chunk_tokens):
        kernel = _softmax_grad or _softmax_grad_eager
        n = hidden.shape[0]
        device = hidden.device.type
        dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else weight.dtype
        w = weight.to(dtype)                            # cast once, not once per chunk
        grad_hidden = torch.empty_like(hidden)
        grad_weight = torch.zeros_like(weight, dtype=torch.float32)
        total = hidden.new_zeros((), dtype=torch.float32)
        for start in range(0, n, chunk_tokens):
            h = hidden[start:start + chunk_tokens].to(dtype)
            logits = h @ w.t()                          # bf16 under autocast, like the unchunked head
            loss_sum, grad_logits = kernel(logits, targets[start:start + chunk_tokens], 1.0 / n)
            del logits
            total += loss_sum
            grad_hidden[start:start + chunk_tokens] = grad_logits @ w
            grad_weight += (grad_logits.t() @ h).float()
        ctx.save_for_backward(grad_hidden, grad_weight.to(weight.dtype))
        return total / n

    @staticmethod
    def backward(ctx, grad_output):
        grad_hidden, grad_weight = ctx.saved_tensors
        return grad_hidden * grad_output, grad_weight * grad_output, None, None


def chunked_cross_entropy(hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
                          chunk_tokens: int = 8192) -> torch.Tensor:
    """mean_i CE(hidden[i] @ weight.T, targets[i]); hidden (N, d), weight (V, d), targets (N,) int64.

    Equal to F.cross_entropy(F.linear(hidden, weight), targets), values and gradients, with at most
    chunk_tokens x V logits alive at a time.
    """
    if chunk_tokens <= 0:
        raise ValueError(f"chunk_tokens must be > 0, got {chunk_tokens}")
    if torch.is_grad_enabled() and (hidden.requires_grad or weight.requires_grad):
        return _ChunkedLinearCrossEntropy.apply(hidden, weight, targets, chunk_tokens)
    total = hidden.new_zeros((), dtype=torch.float32)
    for start in range(0, hidden.shape[0], chunk_tokens):   # evaluation: losses only
        logits = F.linear(hidden[start:start + chunk_tokens], weight).float()
        total += F.cross_entropy(logits, targets[start:start + chunk_tokens], reduction="sum")
    return total / hidden.shape[0]
