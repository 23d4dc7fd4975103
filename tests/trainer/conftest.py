import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """The tiny models gain nothing from intra-op threads, and on a shared 2-core box spinning
    OpenMP workers slow every step several-fold."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
