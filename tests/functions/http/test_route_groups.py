"""The API's route modules are included with the first request under their paths
(``functions.http.routes.groups``); the app answers exactly as if they had been there from the start."""

from __future__ import annotations

import importlib

from starlette.routing import Route

from functions.http.routes.groups import GROUPS, RouteGroup, load_all, owner


def groups_left(app) -> set[str]:
    return {route.module for route in app.router.routes if isinstance(route, RouteGroup)}


def test_every_route_of_a_module_is_under_a_prefix_of_its_own_group():
    for module in GROUPS:
        router = importlib.import_module(f"functions.http.routes.{module}").router
        paths = [route.path for route in router.routes if isinstance(route, Route)]
        assert paths, module
        strays = {path: owner(path) for path in paths if owner(path) != module}
        assert not strays, f"{module}: these paths would load another module (or none): {strays}; fix GROUPS"


def test_the_longest_prefix_owns_a_path():
    assert owner("/api/workflows") == owner("/api/workflows/hello_world") == "workflows"
    assert owner("/api/workflows/execute/hello_world") == owner("/api/webhooks/x") == "triggers"
    assert owner("/api/workflows/executed") == "workflows"  # whole segments only
    assert owner("/api/runs") == "runs" and owner("/api/nothing") is None and owner("/") is None


def test_a_request_includes_only_the_group_it_needs(platform):
    assert groups_left(platform.app) == set(GROUPS)
    assert platform.client.get("/docs").status_code == 200
    assert groups_left(platform.app) == set(GROUPS)  # /docs needs none of them
    assert platform.client.get("/api/workflows").status_code == 200
    assert groups_left(platform.app) == set(GROUPS) - {"workflows"}  # the listing, not the engine's routes
    assert platform.client.post("/api/workflows/execute/hello_world", json={"name": "Ada"}).status_code == 200
    assert groups_left(platform.app) == set(GROUPS) - {"workflows", "triggers"}
    assert platform.client.get("/api/health").status_code == 200
    assert groups_left(platform.app) == set(GROUPS) - {"workflows", "triggers", "admin"}
    # the OpenAPI document needs them all
    assert "/api/scheduler/jobs" in platform.client.get("/openapi.json").json()["paths"]
    assert groups_left(platform.app) == set()


def test_the_openapi_document_does_not_depend_on_which_group_came_first(platform, make_platform):
    platform.client.get("/api/runs/0123")  # runs first, then the others
    platform.client.get("/oauth/google/auth")
    lazily = platform.client.get("/openapi.json").json()
    fresh = make_platform()
    load_all(fresh.app)
    assert list(lazily["paths"]) == list(fresh.client.get("/openapi.json").json()["paths"])
    assert lazily == fresh.client.get("/openapi.json").json()


def test_unknown_paths_and_methods_under_a_group_are_the_routers_404_and_405(platform):
    missing = platform.client.get("/api/runs/0/no/such")  # under the group's prefix, no route of its own
    assert missing.status_code == 404
    assert missing.json()["error"] == "no such endpoint: GET /api/runs/0/no/such (see /docs)"
    wrong = platform.client.delete("/api/workflows/hello_world")
    assert wrong.status_code == 405 and "not allowed" in wrong.json()["error"]
    assert platform.client.get("/api/nothing").status_code == 404  # no group claims it: nothing loaded
    assert groups_left(platform.app) == set(GROUPS) - {"runs", "workflows"}
    assert platform.client.get("/api/workflows/execute/hello_world").status_code == 405  # triggers' router
    assert groups_left(platform.app) == set(GROUPS) - {"runs", "workflows", "triggers"}


def test_a_group_included_by_a_request_serves_the_apps_platform(platform):
    """Routes included after the app was built still see its dependency override (the test's platform)."""
    run = platform.run("hello_world", {"name": "Ada"})
    assert groups_left(platform.app) >= {"runs"}
    got = platform.client.get(f"/api/runs/{run.run_id}")
    assert got.status_code == 200 and got.json()["run_id"] == run.run_id
