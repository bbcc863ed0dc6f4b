import pytest
import torch


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    """Each test starts with Dynamo's caches empty, so it compiles what it tests."""
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()
