"""The dev server tells the platform its address, so the links runs carry (a Google sign-in URL in a run's
error) are absolute, as ``/api/oauth/status`` gives them (tests/functions/google: the run's message)."""

from __future__ import annotations

import pytest

from local_dev.server import default_public_url


@pytest.mark.parametrize("host, port, expected", [
    ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
    ("localhost", 9000, "http://localhost:9000"),
    ("::1", 8000, "http://[::1]:8000"),
    ("0.0.0.0", 8000, None),  # every interface: no single right address, links stay relative
])
def test_the_dev_server_sets_its_public_url(monkeypatch, host, port, expected):
    monkeypatch.delenv("WFP_PUBLIC_URL", raising=False)
    assert default_public_url(host, port) == expected
    import os

    assert os.environ.get("WFP_PUBLIC_URL") == expected


def test_a_configured_public_url_wins(monkeypatch):
    monkeypatch.setenv("WFP_PUBLIC_URL", "https://tunnel.example.net")
    assert default_public_url("127.0.0.1", 8000) == "https://tunnel.example.net"
