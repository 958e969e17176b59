"""Demo data of the service."""

from __future__ import annotations

from typing import Any

from common.db import WriteSession


def seed_demo(session: WriteSession, demo: dict[str, Any]) -> None:
    """Nothing yet."""
