"""What the platform offers (workflows, tools, plugins, schedules) as response models.

The API and the dashboard show the same things; both read them from here so they never disagree.
Nothing here imports plugin code except where the answer needs it (OAuth status asks the tool).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from functions.core import profiles
from functions.errors import PlatformError
from functions.http.schemas import (
    ActionOut,
    InterfaceOut,
    PluginOut,
    ScheduledJob,
    ToolOut,
    WorkflowOut,
)
from functions.http.webhooks import auth as webhook_auth
from functions.platform import Platform
from functions.registry import cron
from functions.registry.config import ToolConfig, WorkflowConfig
from functions.registry.discovery import Plugin
from functions.registry.profile import PROFILE_RE, normalize_profile


def next_run(config: WorkflowConfig, count: int = 1, after: datetime | None = None) -> list[datetime]:
    if not config.scheduled or not config.schedule:
        return []
    return cron.next_runs(config.schedule, config.timezone, count, after)


def workflow_out(platform: Platform, plugin: Plugin, base_url: str) -> WorkflowOut:
    config = plugin.config if isinstance(plugin.config, WorkflowConfig) else None
    if config is None:
        return WorkflowOut(name=plugin.name, display_name=plugin.name, status="error", error=plugin.error,
                           active=False, warnings=plugin.warnings)
    upcoming = next_run(config)
    return WorkflowOut(
        name=plugin.name, display_name=config.name or plugin.name, description=config.description,
        category=config.category, active=config.active, status=plugin.status, error=plugin.error,
        warnings=plugin.warnings, triggers=list(config.triggers), schedule=config.schedule,
        timezone=config.timezone, next_run=upcoming[0] if upcoming else None,
        webhook_url=f"{base_url}/api/webhooks/{plugin.name}" if "webhook" in config.triggers else None,
        inputs=config.inputs_schema, tools_required=config.tools_required,
        tools_profiles=config.tools_profiles, timeout_seconds=config.timeout_seconds,
        webhook_auth=config.webhook_auth if "webhook" in config.triggers else None,
        webhook_request=config.webhook_request and "webhook" in config.triggers,
        webhook_warning=webhook_auth.warning(plugin.name, config, platform.settings),
        retry_on_error=config.retry_on_error, max_attempts=config.max_attempts,
    )


def workflows(platform: Platform, base_url: str) -> list[WorkflowOut]:
    return [workflow_out(platform, p, base_url) for p in platform.registry.of_kind("workflow")]


def configured_profiles(config: ToolConfig, from_secrets: dict[str, set[str]]) -> list[str]:
    return sorted(profiles.profiles_in_env(config) | from_secrets.get(config.tool_name, set()))


def profile_candidates(platform: Platform) -> dict[str, set[str]]:
    """Per tool, the profile names the platform's own configuration mentions: ``DEFAULT`` (what a workflow
    gets without ``tools_profiles``), the tool's ``profile_examples`` and every workflow's
    ``tools_profiles`` for it. Names already set in the environment are left out: they are listed anyway
    (``profiles_in_env``), so asking Secrets Manager about them would cost a call for nothing."""
    configs = {p.config.tool_name: p.config for p in platform.registry.of_kind("tool") if isinstance(p.config, ToolConfig)}
    names = {tool: {"DEFAULT", *config.profile_examples} for tool, config in configs.items()}
    for plugin in platform.registry.of_kind("workflow"):
        if isinstance(plugin.config, WorkflowConfig):
            for tool, profile in plugin.config.tools_profiles.items():
                if tool in names:
                    names[tool].add(profile)
    return {tool: {n.upper() for n in mentioned if PROFILE_RE.match(n)} - profiles.profiles_in_env(configs[tool])
            for tool, mentioned in names.items()}


def secret_profiles(platform: Platform) -> dict[str, set[str]]:
    """Profiles stored in Secrets Manager (by exact name: ``Profiles.in_secrets``); an unreachable
    Secrets Manager just means none are listed."""
    try:
        return platform.profiles.in_secrets(profile_candidates(platform))
    except Exception:  # noqa: BLE001 - listing is best effort; running a tool reports the real error
        return {}


def tools(platform: Platform) -> list[ToolOut]:
    in_secrets = secret_profiles(platform)
    result = []
    for plugin in platform.registry.of_kind("tool"):
        config = plugin.config
        if not isinstance(config, ToolConfig):
            result.append(ToolOut(name=plugin.name, display_name=plugin.name, status="error", error=plugin.error))
            continue
        result.append(ToolOut(
            name=plugin.name, display_name=config.display_name or plugin.name, description=config.description,
            status=plugin.status, error=plugin.error, warnings=plugin.warnings,
            required_params=config.required_params, optional_params=list(config.optional_params),
            actions=[ActionOut(name=n, description=a.description, parameters=a.parameters, example=a.example)
                     for n, a in config.actions.items()],
            profiles=configured_profiles(config, in_secrets), oauth=config.oauth is not None,
        ))
    return result


def plugin_out(plugin: Plugin) -> PluginOut:
    return PluginOut(kind=plugin.kind, name=plugin.name, status=plugin.status, error=plugin.error,
                     file=plugin.error_file, warnings=plugin.warnings)


def interfaces(platform: Platform) -> list[InterfaceOut]:
    return [InterfaceOut(name=p.name, display_name=p.meta.get("display_name", p.name),
                         description=p.meta.get("description", ""), route=p.meta.get("route"),
                         icon=p.meta.get("icon", ""), status=p.status, error=p.error)
            for p in platform.registry.of_kind("interface")]


def oauth_status(platform: Platform, tool: str, profile: str, base_url: str = "") -> dict[str, Any]:
    """The tool's own get_oauth_status() for one profile; a relative ``auth_url`` is made absolute."""
    cls = platform.registry.tool_class(tool)
    status = dict(cls(profile=profile).get_oauth_status())
    status.setdefault("tool", tool)
    status.setdefault("profile", normalize_profile(profile))
    if base_url and str(status.get("auth_url") or "").startswith("/"):
        status["auth_url"] = base_url.rstrip("/") + status["auth_url"]
    return status


def oauth_statuses(platform: Platform, base_url: str = "") -> list[dict[str, Any]]:
    """Every OAuth tool (config.json ``oauth``) with each of its configured profiles.

    One tool that cannot answer (broken code, a raising get_oauth_status) is listed with its error
    instead of failing the whole list.
    """
    in_secrets = secret_profiles(platform)
    result = []
    for plugin in platform.registry.of_kind("tool"):
        config = plugin.config
        if plugin.error or not isinstance(config, ToolConfig) or config.oauth is None:
            continue
        for profile in configured_profiles(config, in_secrets) or ["DEFAULT"]:
            try:
                result.append(oauth_status(platform, plugin.name, profile, base_url))
            except Exception as exc:  # noqa: BLE001 - plugin code
                reason = exc.message if isinstance(exc, PlatformError) else f"{type(exc).__name__}: {exc}"
                result.append({"tool": plugin.name, "profile": normalize_profile(profile),
                               "requires_oauth": True, "connected": False, "error": reason})
    return result


def scheduled_jobs(platform: Platform) -> list[ScheduledJob]:
    """Scheduled workflows with their pause state and last run (``functions.core.schedules`` owns them)."""
    return platform.schedules.jobs()
