"""Each test has its own plugins folder: no plugin module may leak from one test into the next."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from functions.registry.discovery import purge_plugin_modules


@pytest.fixture(autouse=True)
def _forget_plugin_modules() -> Iterator[None]:
    yield
    purge_plugin_modules()
