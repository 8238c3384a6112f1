"""``GET /api/workflows`` from JSON kept per workflow (``functions.http.listing``): the same answer as
building every model again, and a fresh one as soon as what a workflow shows changes."""

from __future__ import annotations

import json
from datetime import timedelta

from functions.http import catalog, listing


def built_again(platform, base_url: str = "http://testserver") -> list[dict]:
    return [w.model_dump(mode="json") for w in catalog.workflows(platform.core, base_url)]


def test_the_list_is_what_the_models_give(platform):
    response = platform.client.get("/api/workflows")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json() == built_again(platform)
    assert response.json() == platform.client.get("/api/workflows").json()  # the kept answer, the same
    scheduled = [w for w in response.json() if w["next_run"]]
    assert scheduled and all(w["next_run"].endswith("Z") for w in scheduled)  # as pydantic's JSON mode


def test_a_change_of_what_a_workflow_shows_is_listed_at_once(platform, monkeypatch):
    def listed() -> dict[str, dict]:
        return {w["name"]: w for w in platform.client.get("/api/workflows").json()}

    before = listed()
    plugin = platform.core.registry.get("workflow", "hello_world")
    plugin.fail("main.py: boom")  # a failed import marks it broken
    assert listed()["hello_world"]["status"] == "error" and listed()["hello_world"]["error"] == "main.py: boom"
    plugin.error = None
    plugin.config = plugin.config.model_copy(update={"description": "a new description"})  # main.py merged
    assert listed()["hello_world"]["description"] == "a new description"

    webhook = next(name for name, w in before.items() if "no secret configured" in (w["webhook_warning"] or ""))
    monkeypatch.setenv(f"WFP_WEBHOOK_SECRET_{webhook.upper()}", "s3cret")  # .env re-read by the dev server
    assert listed()[webhook]["webhook_warning"] is None
    elsewhere = {w["name"]: w for w in platform.client.get("/api/workflows", headers={"host": "other.example"}).json()}
    assert elsewhere[webhook]["webhook_url"] == f"http://other.example/api/webhooks/{webhook}"  # the base URL's
    assert listed()[webhook]["webhook_url"] == f"http://testserver/api/webhooks/{webhook}"
    assert listed() == {w["name"]: w for w in built_again(platform)}


def test_a_passed_fire_time_is_computed_again(platform, monkeypatch):
    first = {w["name"]: w for w in json.loads(listing.workflows_json(platform.core, "http://testserver"))}
    name, shown = next((n, w) for n, w in first.items() if w["next_run"])
    plugin = platform.core.registry.get("workflow", name)
    fire = catalog.next_run(plugin.config)[0]
    later = fire + timedelta(seconds=1)
    monkeypatch.setattr(listing.time, "time", lambda: later.timestamp())
    monkeypatch.setattr(catalog, "next_run", lambda config, count=1, after=None: [later + timedelta(days=1)]
                        if config.scheduled and config.schedule else [])
    again = {w["name"]: w for w in json.loads(listing.workflows_json(platform.core, "http://testserver"))}
    assert again[name]["next_run"] != shown["next_run"]
    assert again[name]["next_run"].startswith((later + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))


def test_a_reload_starts_from_the_new_registry(platform):
    platform.client.get("/api/workflows")
    old = platform.core.registry
    platform.core.reload()
    assert platform.core.registry is not old
    assert platform.client.get("/api/workflows").json() == built_again(platform)
