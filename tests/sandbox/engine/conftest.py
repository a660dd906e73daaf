"""Fixtures shared by the engine tests (builders live in ``engine_builders.py``)."""

from __future__ import annotations

import pytest

from .engine_builders import make_subscription as _make_subscription


@pytest.fixture
def make_subscription():
    """Factory building a tiny hand-made :class:`Subscription`; see ``engine_builders``."""
    return _make_subscription
