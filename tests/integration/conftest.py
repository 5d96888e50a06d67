"""One running platform per integration module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from running_platform import RunningHub, running_hub


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    with running_hub(tmp_path_factory.mktemp("platform") / "var") as running:
        yield running
