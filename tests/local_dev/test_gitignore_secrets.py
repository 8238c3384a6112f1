"""Secrets are never one ``git add .`` away: ``.env``, ``secrets/`` and every file ``.env.example`` (or
the README) tells users to put somewhere are git-ignored."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from support import REPO

pytestmark = pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(),
                                reason="needs git and the repository")

#: ``KEY=value`` lines, commented out or not, in .env.example and in the README's examples of .env.
ASSIGNMENT = re.compile(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=(\S+)", re.MULTILINE)


def looks_like_a_path(value: str) -> bool:
    return "://" not in value and "@" not in value and ("/" in value or bool(re.search(r"\.(json|pem|key|p12)$", value)))


def mentioned_paths() -> list[str]:
    paths = {value for _, value in ASSIGNMENT.findall((REPO / ".env.example").read_text()) if looks_like_a_path(value)}
    paths |= set(re.findall(r"\bsecrets/[\w./-]+", (REPO / "README.md").read_text()))
    return sorted(p.rstrip(".") for p in paths)


def ignored(path: str) -> bool:
    done = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], check=False, cwd=REPO)
    assert done.returncode in (0, 1), f"git check-ignore failed for {path!r}"
    return done.returncode == 0


def test_env_example_mentions_the_google_client_file():
    assert "secrets/google_test_credentials.json" in mentioned_paths()


def test_every_path_env_example_points_at_is_ignored():
    paths = mentioned_paths()
    assert paths
    assert [p for p in paths if not ignored(p)] == []


@pytest.mark.parametrize("path", ["secrets/", "secrets/anything.json", "secrets/nested/token.json", ".env"])
def test_secrets_folder_and_env_are_ignored(path: str):
    assert ignored(path)
