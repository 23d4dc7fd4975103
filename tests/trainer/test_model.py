import pytest
import torch

from trainer.model import (Attention, ModelConfig, Transformer, apply_rope, count_parameters, flops_per_token,
                           rope_table)

TINY = ModelConfig(vocab_size=96, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=48, max_seq_len=64)


def test_gqa_shapes():
    attn = Attention(TINY)
    assert attn.q_proj.weight.shape == (32, 32)
    assert attn.k_proj.weight.shape == (16, 32)       # 2 KV heads of head_dim 8
    assert attn.v_proj.weight.shape == (16, 32)
    cos, sin = rope_table(TINY)
    assert cos.shape == sin.shape == (64, 8)
    out = attn(torch.randn(3, 10, 32), cos[:10], sin[:10])
    assert out.shape == (3, 10, 32)


def test_gqa_equals_repeated_kv_heads():
    torch.manual_seed(0)
    attn = Attention(TINY)
    x = torch.randn(2, 7, 32)
    cos, sin = (t[:7] for t in rope_table(TINY))
    q = apply_rope(attn.q_proj(x).view(2, 7, 4, 8).transpose(1, 2), cos, sin)
    k = apply_rope(attn.k_proj(x).view(2, 7, 2, 8).transpose(1, 2), cos, sin)
    v = attn.v_proj(x).view(2, 7, 2, 8).transpose(1, 2)
    k, v = k.repeat_interleave(2, dim=1), v.repeat_interleave(2, dim=1)   # query heads 0,1 share KV head 0
    scores = (q @ k.transpose(-1, -2)) / 8 ** 0.5
    scores = scores.masked_fill(torch.ones(7, 7, dtype=torch.bool).triu(1), float("-inf"))
    expected = attn.o_proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(2, 7, 32))
    torch.testing.assert_close(attn(x, cos, sin), expected, atol=1e-5, rtol=1e-5)


def test_rope_is_a_rotation_that_depends_on_relative_position():
    cos, sin = rope_table(TINY)
    torch.manual_seed(0)
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)

    def at(x, pos):
        return apply_rope(x, cos[pos:pos + 1], sin[pos:pos + 1])

    torch.testing.assert_close(at(q, 5).norm(), q.norm())
    dot = (at(q, 9) * at(k, 4)).sum()
    torch.testing.assert_close((at(q, 30) * at(k, 25)).sum(), dot, atol=1e-5, rtol=1e-5)
    assert not torch.allclose((at(q, 30) * at(k, 24)).sum(), dot, atol=1e-3)
    # theta 500,000: the slowest pair turns by 500000 ** (-6/8) radians per position
    assert sin[1, 3].item() == pytest.approx(torch.sin(torch.tensor(500_000.0 ** -0.75)).item(), rel=1e-6)


def test_document_mask_isolates_documents():
    torch.manual_seed(0)
    model = Transformer(TINY).eval()
    eos = 0
    doc_a, doc_b = torch.tensor([5, 6, 7, 8, eos]), torch.tensor([9, 10, 11, 12, 13, eos])
    both = torch.cat([doc_a, doc_b])[None]
    with torch.no_grad():
        masked = model(both, eos_id=eos)[0, 5:]
        alone = model(doc_b[None])[0]
        unmasked = model(both)[0, 5:]
    # RoPE is relative, so doc_b sees exactly what it sees alone, only shifted by 5 positions
    torch.testing.assert_close(masked, alone, atol=1e-4, rtol=1e-4)
    assert (unmasked - alone).abs().max() > 1e-2


@pytest.mark.parametrize("tied", [True, False])
def test_count_parameters_matches_the_model(tied):
    config = ModelConfig(**{**TINY.__dict__, "tie_embeddings": tied})
    model = Transformer(config)
    counts = count_parameters(config)
    assert counts["total"] == sum(p.numel() for p in model.parameters())
    assert counts["head"] == (0 if tied else 96 * 32)


def test_flops_per_token_on_config_a():
    # bench config (a): d 768, 12 layers, 12 heads, 4 KV heads (head_dim 64), FFN 2048, vocab 128,256
    config = ModelConfig(vocab_size=128_256, dim=768, n_layers=12, n_heads=12, n_kv_heads=4, ffn_dim=2048)
    attention = 768 * 768 * 2 + 768 * 256 * 2
    mlp = 3 * 768 * 2048
    per_layer = attention + mlp + 2 * 768
    n = 12 * per_layer + 768 + 128_256 * 768           # all but the input embedding
    assert n == 174_017_280
    expected = 6 * n + 12 * 12 * 768 * 2048
    assert flops_per_token(config, 2048) == expected == 1_270_596_096
    # tying the head to the embedding changes the parameter count, not the FLOPs
    tied = ModelConfig(**{**config.__dict__, "tie_embeddings": True})
    assert flops_per_token(tied, 2048) == expected
    # the reference: 327k tokens/s on one H100 (989 TFLOP/s) is MFU 0.42
    assert 327_000 * expected / 989e12 == pytest.approx(0.42, abs=0.005)


def test_rejects_impossible_shapes():
    with pytest.raises(ValueError, match="n_kv_heads"):
        Transformer(ModelConfig(**{**TINY.__dict__, "n_kv_heads": 3}))
    with pytest.raises(ValueError, match="max_seq_len"):
        Transformer(TINY)(torch.zeros(1, 65, dtype=torch.long))
