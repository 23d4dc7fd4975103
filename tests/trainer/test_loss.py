import pytest
import torch
import torch.nn.functional as F

from trainer.loss import chunked_cross_entropy


@pytest.mark.parametrize("chunk", [1, 7, 16, 64, 1000])
def test_chunked_equals_full_cross_entropy(chunk):
    torch.manual_seed(0)
    hidden = torch.randn(64, 24, requires_grad=True)
    weight = (torch.randn(300, 24) * 0.3).requires_grad_()
    targets = torch.randint(0, 300, (64,))

    loss = chunked_cross_entropy(hidden, weight, targets, chunk)
    (loss * 2.5).backward()                       # a non-unit upstream gradient, as under grad accumulation
    got = loss.detach(), hidden.grad.clone(), weight.grad.clone()
    hidden.grad = weight.grad = None
    ref = F.cross_entropy(F.linear(hidden, weight), targets)
    (ref * 2.5).backward()

    torch.testing.assert_close(got[0], ref.detach(), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(got[1], hidden.grad, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(got[2], weight.grad, atol=1e-6, rtol=1e-5)


def test_no_grad_path_equals_full_cross_entropy():
    torch.manual_seed(1)
    hidden, weight, targets = torch.randn(50, 16), torch.randn(128, 16), torch.randint(0, 128, (50,))
    with torch.no_grad():
        loss = chunked_cross_entropy(hidden, weight, targets, 12)
    torch.testing.assert_close(loss, F.cross_entropy(hidden @ weight.t(), targets), atol=1e-6, rtol=1e-6)


def test_gradient_flows_into_a_tied_weight_from_both_uses():
    torch.manual_seed(2)
    emb = torch.randn(40, 8, requires_grad=True)
    tokens, targets = torch.randint(0, 40, (30,)), torch.randint(0, 40, (30,))
    chunked_cross_entropy(torch.tanh(emb[tokens]), emb, targets, 8).backward()
    got = emb.grad.clone()
    emb.grad = None
    F.cross_entropy(torch.tanh(emb[tokens]) @ emb.t(), targets).backward()
    torch.testing.assert_close(got, emb.grad, atol=1e-6, rtol=1e-5)


def test_rejects_a_bad_chunk_size():
    with pytest.raises(ValueError, match="chunk_tokens"):
        chunked_cross_entropy(torch.zeros(2, 2), torch.zeros(3, 2), torch.zeros(2, dtype=torch.long), 0)
