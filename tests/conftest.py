from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FIXTURES = ROOT / "fixtures"

if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


@pytest.fixture(scope="session")
def oracle():
    """One torch-importing server process for the whole session (skips without torch)."""
    from oracle import Oracle, torch_available

    if not torch_available():
        pytest.skip("PyTorch is not installed: the oracle tests need real torch (pip install torch)")
    server = Oracle()
    yield server
    server.close()
