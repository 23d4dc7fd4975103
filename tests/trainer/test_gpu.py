"""CUDA-only checks: bf16 autocast, compiled kernels and fused AdamW. Skipped on the CPU."""
import pytest
import torch
import torch.nn.functional as F

from trainer import loss as loss_kernels
from trainer.model import ModelConfig, Transformer

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_compiled_chunked_loss_under_bf16_matches_full_loss():
    torch.manual_seed(0)
    hidden = torch.randn(4096, 256, device="cuda", requires_grad=True)
    weight = (torch.randn(32_000, 256, device="cuda") * 0.05).requires_grad_()
    targets = torch.randint(0, 32_000, (4096,), device="cuda")
    loss_kernels.use_compiled_kernel(True)
    try:
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = loss_kernels.chunked_cross_entropy(hidden, weight, targets, 1000)
        loss.backward()
    finally:
        loss_kernels.use_compiled_kernel(False)
    grad = hidden.grad.clone()
    hidden.grad = None
    with torch.autocast("cuda", dtype=torch.bfloat16):
        ref = F.cross_entropy(F.linear(hidden, weight).float(), targets)
    ref.backward()
    torch.testing.assert_close(loss, ref, atol=2e-3, rtol=2e-3)
    assert ((grad - hidden.grad).norm() / hidden.grad.norm()).item() < 2e-2


def test_compiled_bf16_training_steps_reduce_the_loss():
    torch.manual_seed(0)
    config = ModelConfig(vocab_size=512, dim=128, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=256, max_seq_len=256)
    model = Transformer(config).cuda()
    for block in model.layers:
        block.compile()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, fused=True)
    starts = torch.randint(0, 512, (8, 1), device="cuda")
    tokens = (starts + torch.arange(257, device="cuda")) % 512       # next token = this token + 1
    losses = []
    for _ in range(20):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(tokens[:, :-1], tokens[:, 1:], ce_chunk_tokens=512)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 2.0
