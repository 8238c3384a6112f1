"""The plugin rules (``functions.registry.rules``): one rule set, applied by discovery and ``check_all`` so that
``wfp plugins check``, ``GET /api/plugins`` and the server's mounting agree: reserved and duplicate ROUTEs,
unknown ``tools_required``, reserved ids, unconfigured profiles (a warning), readable JSON errors."""

from __future__ import annotations

import pytest

from functions.errors import PluginError
from functions.registry.discovery import Registry

PAGE = """
from fastapi import APIRouter
ROUTE = {route!r}
router = APIRouter()

@router.get("/")
def index():
    return {{"page": True}}

def get_router():
    return router
"""


def errors(registry: Registry) -> dict[str, str]:
    return {f"{p.kind}/{p.name}": p.error or "" for p in registry.plugins.values() if p.error}


@pytest.mark.parametrize("route", ["/", "/api", "/api/mine", "/dashboard", "/dashboard/x", "/login", "/logout",
                                   "/docs", "/redoc", "/openapi.json", "/oauth", "/oauth/google"])
def test_an_interface_on_a_route_the_platform_serves_is_an_error(plugin_dir, route):
    plugin_dir.interface("page", PAGE.format(route=route))
    plugin_dir.interface("fine", PAGE.format(route="/fine"))
    registry = Registry.discover(plugin_dir.root).check_all()
    assert list(errors(registry)) == ["interface/page"]
    assert "is used by the platform" in errors(registry)["interface/page"]


def test_two_interfaces_on_one_route_the_second_is_an_error(plugin_dir):
    plugin_dir.interface("alpha", PAGE.format(route="/same"))
    plugin_dir.interface("beta", PAGE.format(route="/same/"))
    registry = Registry.discover(plugin_dir.root).check_all()
    assert errors(registry) == {"interface/beta": "ROUTE '/same' is already the route of interface 'alpha': "
                                                  "choose another"}
    # checking again (GET /api/plugins is called many times) does not turn alpha into a duplicate of itself
    registry.check_all()
    assert list(errors(registry)) == ["interface/beta"]


def test_get_router_that_raises_or_returns_no_router_is_an_error_for_the_check_too(plugin_dir):
    plugin_dir.interface("raises", "ROUTE = '/raises'\n\ndef get_router():\n    raise RuntimeError('nope')\n")
    plugin_dir.interface("not_router", "ROUTE = '/not-router'\n\ndef get_router():\n    return 42\n")
    found = errors(Registry.discover(plugin_dir.root).check_all())
    assert "get_router() raised RuntimeError: nope" in found["interface/raises"]
    assert "must return a fastapi.APIRouter, not int" in found["interface/not_router"]


def test_an_unknown_tool_in_tools_required_is_an_error_known_at_discovery(plugin_dir):
    plugin_dir.tool("crm")
    plugin_dir.workflow("uses_crm", {"tools_required": ["crm"]})
    plugin_dir.workflow("typo", {"tools_required": ["crm", "no_such_tool"]})
    registry = Registry.discover(plugin_dir.root)  # no import needed: it is in config.json
    assert errors(registry) == {"workflow/typo": "tools_required names no_such_tool, which is no tool of "
                                                 "plugins/tools/ (known: crm)"}
    assert registry.get("workflow", "typo").error_file == "plugins/workflows/typo/config.json"
    with pytest.raises(PluginError):  # refused when run (409), the platform keeps going
        registry.workflow("typo")
    assert registry.workflow("uses_crm")[0].status == "ok"
    assert errors(registry.check_all()) == errors(registry)


def test_a_profile_that_is_not_configured_is_a_warning_not_an_error(plugin_dir):
    plugin_dir.tool("crm", {"tool_name": "crm", "required_params": ["api_key"]})
    plugin_dir.tool("open", {"tool_name": "open"})  # nothing required: every profile is configured
    plugin_dir.workflow("nightly", {"tools_required": ["crm", "open"],
                                    "tools_profiles": {"crm": "NIGHTLY", "open": "ANY"}})
    plugin_dir.workflow("prod", {"tools_required": ["crm"], "tools_profiles": {"crm": "prod"}})
    env = {"CRM_PROD_API_KEY": "k"}
    registry = Registry.discover(plugin_dir.root).check_all(env=env)
    assert errors(registry) == {}
    assert registry.get("workflow", "prod").warnings == []
    (warning,) = registry.get("workflow", "nightly").warnings
    assert "profile 'NIGHTLY' of tool 'crm' is not configured" in warning and "CRM_NIGHTLY_API_KEY" in warning
    # without an environment to look at (the server: profiles may be in Secrets Manager) nothing is said
    assert Registry.discover(plugin_dir.root).check_all().get("workflow", "nightly").warnings == []
    # and checking twice does not say it twice
    assert len(registry.check_all(env=env).get("workflow", "nightly").warnings) == 1


@pytest.mark.parametrize(("kind", "name"), [("tool", "base"), ("workflow", "execute"), ("workflow", "trigger")])
def test_names_the_platform_reserves_are_errors(plugin_dir, kind, name):
    if kind == "tool":
        plugin_dir.tool(name)
    else:
        plugin_dir.workflow(name, {})
    found = errors(Registry.discover(plugin_dir.root))
    assert "is reserved by the platform" in found[f"{kind}/{name}"]


def test_a_trailing_comma_in_config_json_names_its_line(plugin_dir):
    text = '{\n  "name": "Trailing",\n  "triggers": ["manual"],\n  "active": true,\n}\n'
    plugin_dir.workflow("trailing", text)
    plugin_dir.workflow("in_list", '{\n  "triggers": [\n    "manual",\n  ]\n}\n')
    plugin_dir.workflow("other", '{\n  "name": "x"\n  "active": true\n}\n')
    found = errors(Registry.discover(plugin_dir.root))
    assert found["workflow/trailing"] == ("invalid JSON: line 4: trailing comma after the last item "
                                          "(JSON allows none): remove the ',' at line 4, column 17")
    assert found["workflow/in_list"].startswith("invalid JSON: line 3: trailing comma after the last item")
    assert found["workflow/other"] == "invalid JSON: line 3, column 3: Expecting ',' delimiter"
