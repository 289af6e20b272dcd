"""Shared pytest fixtures: where the real images live, and small trees made from them."""
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def shared_data():
    """The real benchmark/training images (``SRGAN_SHARED_DATA``, default ``../shared/data``)."""
    root = Path(os.environ.get("SRGAN_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not (root / "Set5" / "HR").is_dir():
        pytest.skip(f"real images not found at {root} (set SRGAN_SHARED_DATA)")
    return root
