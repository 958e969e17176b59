"""Fixtures shared by the whole suite: the real test infrastructure and the real platform processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import testinfra
from tests.harness import Platform, drop_schemas, start_platform


@pytest.fixture(scope="session")
def infra() -> dict[str, str]:
    """The HAP_* variables of the running test infrastructure; fails (never skips) when it is not up."""
    problems = testinfra.check_up()
    if problems:
        pytest.fail("The test infrastructure is not up (run `python tests/testinfra.py up`, as `make test` does): "
                    + "; ".join(problems), pytrace=False)
    return testinfra.infra_env()


@pytest.fixture(scope="session")
def platform(infra: dict[str, str]) -> Iterator[Platform]:
    """Registry, gateway and one instance of each built service as real processes on loopback ports, on
    MariaDB/Redis/nanio."""
    running = start_platform(infra, services=("dbs", "dms", "oms"))
    try:
        yield running
    finally:
        running.stop_all()
        drop_schemas(running)


@pytest.fixture(scope="session")
def admin_token(platform: Platform) -> str:
    return platform.admin_token()
