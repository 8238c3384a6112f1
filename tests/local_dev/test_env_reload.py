"""``.env`` edits reach the running dev server: the watcher re-reads it, and so does ``POST /api/reload``.
Keys the previous ``.env`` set and the new one drops are removed; variables of the real process
environment are never touched (they win over ``.env``, as at start). The server and ``wfp`` agree."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from local_platform import DevServer, LocalSetup, dev_server, local  # noqa: F401 - fixtures

from local_dev import environment

DEMO = "MON_OUTIL_DEMO_API_KEY=demo-key\n"


# ----- the environment, in process -----------------------------------------------------------------------
@pytest.fixture
def env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "dotenv"
    monkeypatch.setenv("WFP_ENV_FILE", str(path))
    monkeypatch.setattr(environment, "_from_env_file", {})
    for key in ("WFPT_A", "WFPT_B", "WFPT_SHELL"):
        monkeypatch.delenv(key, raising=False)
    return path


def test_reload_sets_changes_and_removes_what_env_set(env_file: Path, monkeypatch: pytest.MonkeyPatch):
    import os

    monkeypatch.setenv("WFPT_SHELL", "from-shell")
    env_file.write_text("WFPT_A=1\nWFPT_SHELL=from-file\n")
    environment.load_env()
    assert os.environ["WFPT_A"] == "1" and os.environ["WFPT_SHELL"] == "from-shell"

    env_file.write_text("WFPT_A=2\nWFPT_B=new\n")
    assert environment.reload_env() == {"WFPT_A", "WFPT_B"}
    assert os.environ["WFPT_A"] == "2" and os.environ["WFPT_B"] == "new"
    assert os.environ["WFPT_SHELL"] == "from-shell"  # the process's own: kept although .env dropped it

    env_file.write_text("WFPT_B=new\n")
    assert environment.reload_env() == {"WFPT_A"}
    assert "WFPT_A" not in os.environ and os.environ["WFPT_B"] == "new"
    assert environment.reload_env() == set()  # nothing changed

    env_file.unlink()  # no .env at all: everything it set goes
    assert environment.reload_env() == {"WFPT_B"}
    assert "WFPT_B" not in os.environ and os.environ["WFPT_SHELL"] == "from-shell"


def test_loading_twice_keeps_the_record(env_file: Path):
    import os

    env_file.write_text("WFPT_A=1\n")
    environment.load_env()
    environment.load_env()  # the server loads it, then prepare() loads it again
    env_file.write_text("")
    environment.reload_env()
    assert "WFPT_A" not in os.environ


# ----- the dev server --------------------------------------------------------------------------------------
def profiles(server: DevServer, tool: str = "mon_outil") -> list[str]:
    status, tools = server.request("GET", "/api/tools")
    assert status == 200, tools
    return next(t["profiles"] for t in tools if t["name"] == tool)


def wait_for(predicate, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_env_edits_reach_the_running_server_and_it_agrees_with_the_cli(local: LocalSetup, dev_server: DevServer):
    local.env["MON_OUTIL_PROD_API_KEY"] = "from-the-shell"  # the real environment, for the server and the CLI
    local.env_file.write_text(DEMO + "MON_OUTIL_PROD_API_KEY=from-the-file\n")
    dev_server.start()
    assert profiles(dev_server) == ["DEMO", "PROD"]

    def cli_finds(profile: str) -> bool:
        done = local.cli("tool", "mon_outil", "search", "--profile", profile, "-p", "query=x")
        assert done.returncode in (0, 2), done.stderr
        return done.returncode == 0

    # POST /api/reload re-reads .env at once (the watcher may too, a moment later)
    with local.env_file.open("a") as handle:
        handle.write("MON_OUTIL_TEST_API_KEY=abc\n")
    status, body = dev_server.request("POST", "/api/reload")
    assert status == 200, body
    assert profiles(dev_server) == ["DEMO", "PROD", "TEST"]
    assert cli_finds("TEST")

    # the watcher: a removed key disappears, a key of the process environment stays
    local.env_file.write_text("# DEMO only, PROD no longer in the file\n" + DEMO)
    wait_for(lambda: profiles(dev_server) == ["DEMO", "PROD"])
    assert not cli_finds("TEST") and cli_finds("PROD")
    assert ".env reloaded: MON_OUTIL_TEST_API_KEY changed" in dev_server.output()  # names, never values

    # and back, through the watcher alone
    local.env_file.write_text(DEMO + "MON_OUTIL_TEST_API_KEY=again\n")
    wait_for(lambda: profiles(dev_server) == ["DEMO", "PROD", "TEST"])
    for profile in ("DEMO", "PROD", "TEST", "STAGING"):
        assert cli_finds(profile) == (profile in profiles(dev_server)), profile
