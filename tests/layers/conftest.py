"""The real layer, built once per test session (the wheel cache keeps rebuilds offline and fast)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def lambda_layer(tmp_path_factory: pytest.TempPathFactory):
    """The deployable layer (arm64, Python 3.13), from the repo's pyproject and plugins."""
    from layers.build import build

    return build(tmp_path_factory.mktemp("lambda-build"))


@pytest.fixture(scope="session")
def host_layer(tmp_path_factory: pytest.TempPathFactory):
    """The same layer built for this machine's interpreter, so it can be run here."""
    from layers.build import Target, build

    return build(tmp_path_factory.mktemp("host-build"), target=Target.host())
