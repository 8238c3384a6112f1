"""What each dashboard page shows, read through ``functions.http.catalog`` and the run store (like the API).

Blocking (DynamoDB, plugin imports): the routes call these in the thread pool.

Cost of the home page: it shows each workflow's last run and recent durations, and the runs table is
keyed for exactly one access pattern here, a workflow's history (newest first: one Query per history
shard, ``WFP_HISTORY_SHARDS``, and one of ``by_workflow`` while it is kept). So the page itself reads no
run (``home``: the registry only, so a cold start answers it as fast as /docs) and its script asks for
the cards' runs at once, in one request (``recent``, ``GET /dashboard/recent``): one history page per
*working* workflow, bounded: each Query asks for ``CHART_RUNS`` items of an index that projects summary
fields only (about 0.5 read unit per Query, ~225 units for 50 workflows of 9 Queries, i.e. a few
hundred-thousandths of a dollar), ``HISTORY_WORKERS`` workflows at a time (a page's shards side by side),
so it waits for roughly ceil(N / 8) round trips, not N. Tools (Secrets Manager listing, OAuth token reads)
and schedules live on their own pages so the home page pays nothing for them; plugin errors shown there
are the ones already known, without importing every plugin (the Plugins page does that).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from functions.core.runs import Run, RunSummary, StepRecord, WaitingFor
from functions.errors import PluginError
from functions.http import catalog
from functions.http.dashboard import formatting
from functions.http.schemas import InterfaceOut, PluginOut, ScheduledJob, WorkflowOut
from functions.platform import Platform
from functions.registry.config import ToolConfig, WorkflowConfig
from functions.registry.discovery import Plugin
from functions.registry.profile import env_var, normalize_profile

log = logging.getLogger(__name__)

CHART_RUNS = 20
HISTORY_WORKERS = 8


@dataclass
class WorkflowCard:
    workflow: WorkflowOut
    #: Newest first; None when the history could not be read (the page says so instead of failing).
    runs: list[RunSummary] | None
    #: Not read yet: the home page's script fetches them (``recent``).
    loading: bool = False

    @property
    def last(self) -> RunSummary | None:
        return self.runs[0] if self.runs else None


@dataclass
class Group:
    category: str
    cards: list[WorkflowCard] = field(default_factory=list)


def _inputs_in_code(plugin: Plugin) -> bool:
    config = plugin.config
    return (isinstance(config, WorkflowConfig) and not config.inputs_schema and plugin.module is None
            and not plugin.declared and not plugin.error)


def imports_pending(platform: Platform) -> bool:
    """Would ``home`` import a plugin's code (``ensure_inputs``)? Then the page is built in the thread pool:
    plugin code may block at import. Deployed, the manifest carries the inputs and nothing is imported."""
    return any(_inputs_in_code(p) for p in platform.registry.of_kind("workflow"))


def ensure_inputs(platform: Platform, plugin: Plugin) -> None:
    """A seed workflow may declare its inputs in main.py (get_required_inputs): import it to know them."""
    if _inputs_in_code(plugin):
        try:
            platform.registry.module(plugin)
        except PluginError:
            pass  # now recorded on the plugin: shown as a broken workflow


def recent_runs(platform: Platform, names: list[str], limit: int = CHART_RUNS) -> dict[str, list[RunSummary] | None]:
    """The newest ``limit`` runs of each workflow, ``HISTORY_WORKERS`` Queries at a time."""
    def one(name: str) -> list[RunSummary] | None:
        try:
            return platform.runs.history(name, limit)[0]
        except Exception:  # noqa: BLE001 - one unreadable history must not take the page down
            log.exception("could not read the run history of %s", name)
            return None

    if not names:
        return {}
    with ThreadPoolExecutor(max_workers=min(HISTORY_WORKERS, len(names)), thread_name_prefix="dashboard") as pool:
        return dict(zip(names, pool.map(one, names)))


def home(platform: Platform, public_base: str) -> dict[str, Any]:
    """The cards without their runs (``recent`` has them): no DynamoDB read."""
    plugins = platform.registry.of_kind("workflow")
    for plugin in plugins:
        ensure_inputs(platform, plugin)
    groups: dict[str, Group] = {}
    for plugin in plugins:
        workflow = catalog.workflow_out(platform, plugin, public_base)
        card = WorkflowCard(workflow, [], loading=not plugin.error)
        groups.setdefault(workflow.category, Group(workflow.category)).cards.append(card)
    return {
        "groups": [groups[k] for k in sorted(groups, key=str.lower)],
        "workflow_count": len(plugins),
        "interfaces": catalog.interfaces(platform),
        "errors": [catalog.plugin_out(p) for p in platform.registry.errors()],
    }


def recent(platform: Platform, public_base: str) -> dict[str, Any]:
    """The home page's cards' runs (their last run and chart), one history page per working workflow."""
    plugins = [p for p in platform.registry.of_kind("workflow") if not p.error]
    runs = recent_runs(platform, [p.name for p in plugins])
    return {"cards": [WorkflowCard(catalog.workflow_out(platform, p, public_base), runs.get(p.name, []))
                      for p in plugins]}


@dataclass
class MetricsView:
    """The workflow page's metrics section (``functions.core.metrics``; charts in ``dashboard.trend``)."""

    window: str
    windows: tuple[str, ...]
    #: None when the metrics could not be read (the page says so instead of failing).
    metrics: Any
    runs_chart: Any = ""
    p95_chart: Any = ""
    legend: Any = ""


def metrics_view(platform: Platform, name: str, window: str | None) -> MetricsView:
    """A view of the workflow's metrics: one Query of the metrics table and one bounded Query of the runs
    index for the hours not aggregated yet (``functions.core.metrics``). An unknown window shows 24h."""
    from functions.core.metrics import WINDOWS, window_metrics
    from functions.http.dashboard import trend

    chosen = window if window in WINDOWS else "24h"
    try:
        metrics = window_metrics(name, chosen, platform.runs, platform.metrics)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - unreadable metrics must not take the page down
        log.exception("could not read the metrics of %s", name)
        return MetricsView(chosen, tuple(WINDOWS), None)
    return MetricsView(chosen, tuple(WINDOWS), metrics, trend.runs_by_outcome(metrics), trend.p95_duration(metrics),
                       trend.legend())


def workflow_page(platform: Platform, name: str, public_base: str, cursor: str | None,
                  window: str | None = None) -> dict[str, Any]:
    plugin = platform.registry.get("workflow", name)
    ensure_inputs(platform, plugin)
    workflow = catalog.workflow_out(platform, plugin, public_base)
    history: list[RunSummary] | None
    next_cursor: str | None = None
    recent: list[RunSummary] | None = None
    if plugin.error:
        history = []
    else:
        history, next_cursor = platform.runs.history(name, platform.settings.history_page_size, cursor)
        recent = history if not cursor else recent_runs(platform, [name])[name]
    return {
        "metrics": None if plugin.error or cursor else metrics_view(platform, name, window),
        "card": WorkflowCard(workflow, recent or []),
        "history": history,
        "next_cursor": next_cursor,
        "paged": cursor is not None,
        "plugin": catalog.plugin_out(plugin),
    }


def run_page(platform: Platform, run_id: str) -> dict[str, Any]:
    run: Run = platform.runs.get(run_id)
    plugin = platform.registry.plugins.get(("workflow", run.workflow))
    display = run.workflow
    if plugin is not None and isinstance(plugin.config, WorkflowConfig) and plugin.config.name:
        display = plugin.config.name
    # Re-run: the masked inputs to supply again and the tools whose profile may be chosen for it.
    from functions.core.rerun import masked_inputs

    config = plugin.config if plugin is not None and isinstance(plugin.config, WorkflowConfig) else None
    tools = [(t, run.profiles.get(t) or config.tools_profiles.get(t, "DEFAULT")) for t in config.tools_required] \
        if config else []
    return {"run": run, "workflow_name": display, "workflow_known": plugin is not None,
            "rerun_masked": masked_inputs(run), "rerun_tools": tools,
            "output": shown(formatting.pretty_json(run.output) if run.output is not None else ""),
            "logs": shown("\n".join(run.logs)),
            "durable": durable_view(platform, run) if run.durable else None}


#: What the step timeline shows of one step's output inline (in a collapsed ``<details>``); the record
#: bounds it already (``WFP_MAX_STEP_OUTPUT_BYTES``), this bounds the page for many steps.
STEP_SHOWN_BYTES = 16 * 1024


@dataclass
class StepRow:
    step: StepRecord
    duration_ms: int | None
    output: Shown | None


@dataclass
class DurableView:
    """The durable part of a run page: its steps in order, what it waits for, what an operator may do.

    Never shown: the callbacks' grants (``Run.callbacks``: backend callback ids, token hashes), so a
    callback URL's token cannot leak through the page (it is not in the record anyway)."""

    steps: list[StepRow]
    waiting_for: WaitingFor | None
    #: A waiting approval the API will take an answer for (its grant still ``waiting``).
    approval: str | None
    resumable: bool
    #: The backend offers ``skip_wait`` (the local one: ``functions.core.durable.skip_wait``) and the run sleeps.
    can_skip_wait: bool
    execution: str | None
    #: The step a resume goes on from (the first that failed), if any.
    failed_step: str | None = None
    #: The run's status (part of ``signature``).
    status: str = ""

    @property
    def signature(self) -> str:
        """What the page's script compares with ``GET /api/runs/{id}`` to know the timeline changed
        (``dashboard.js``, ``durableSignature``: the same string)."""
        return "|".join([self.status, *(f"{r.step.name}:{r.step.status}:{r.step.attempts}" for r in self.steps)])


def step_row(step: StepRecord) -> StepRow:
    took = None
    if step.started is not None and step.finished is not None:
        took = max(0, int((step.finished - step.started).total_seconds() * 1000))
    output = None
    if step.output is not None:
        text = formatting.pretty_json(step.output)
        data = text.encode()
        output = Shown(text) if len(data) <= STEP_SHOWN_BYTES else \
            Shown(data[:STEP_SHOWN_BYTES].decode(errors="ignore"), len(data))
    return StepRow(step, took, output)


def offers_skip_wait(platform: Platform) -> bool:
    """Whether this platform's durable backend can end a sleep now, as ``POST /api/runs/{id}/skip-wait``
    decides it (a backend with ``skip_wait``: the local one). A backend that cannot be built offers nothing."""
    try:
        backend = platform.engine.durable_backend()
    except Exception:  # noqa: BLE001 - not configured here: no button, the API would refuse too
        return False
    return callable(getattr(backend, "skip_wait", None))


def durable_view(platform: Platform, run: Run) -> DurableView:
    from functions.core.runs import FAILED_STATUSES

    waiting = run.waiting_for if run.status == "waiting" else None
    approval = None
    if waiting is not None and waiting.kind == "approval":
        grant = run.callbacks.get(waiting.name)
        if grant is not None and grant.kind == "approval" and grant.status == "waiting":
            approval = waiting.name
    sleeping = waiting is not None and waiting.kind == "time"
    return DurableView(steps=[step_row(step) for step in run.steps], waiting_for=waiting, approval=approval,
                       resumable=run.status in FAILED_STATUSES,
                       can_skip_wait=sleeping and offers_skip_wait(platform),
                       execution=run.durable_execution,
                       failed_step=next((s.name for s in run.steps if s.status == "error"), None),
                       status=run.status)


#: How much of a run's output and of its log lines the run page shows inline; beyond, a link gives the
#: whole (``GET /api/runs/{id}/output``, ``/logs``). A page is one Lambda response (6 MB at most) and
#: HTML escaping can grow JSON several times; a person reads the beginning and downloads the rest.
SHOWN_BYTES = 256 * 1024


@dataclass
class Shown:
    text: str
    #: The whole text's size in bytes when only its beginning is shown, else None.
    whole_bytes: int | None = None


def shown(text: str) -> Shown:
    data = text.encode()
    if len(data) <= SHOWN_BYTES:
        return Shown(text)
    return Shown(data[:SHOWN_BYTES].decode(errors="ignore"), len(data))


def schedules(platform: Platform) -> dict[str, Any]:
    jobs: list[ScheduledJob] = catalog.scheduled_jobs(platform)
    return {"jobs": jobs}


@dataclass
class OAuthRow:
    profile: str
    connected: bool | None
    #: None when there is nothing to connect to yet (no OAuth client: the sign-in would end in a 424).
    connect_url: str | None
    error: str | None = None
    #: False when the profile has no OAuth client; ``missing`` then says what to set.
    configured: bool = True
    missing: OAuthSetup | None = None


@dataclass
class OAuthSetup:
    """What to set so a profile has an OAuth client: a profile variable, or a key of its secret."""

    variable: str | None = None
    secret: str | None = None
    #: The tool's own explanation when it is not simply "nothing set" (a missing file, bad JSON...).
    detail: str | None = None


def oauth_setup(platform: Platform, tool: str, profile: str, provider: str, status: dict[str, Any]) -> OAuthSetup:
    message = str(status.get("message") or "") or None
    if provider != "google":
        return OAuthSetup(detail=message or "the tool reports no OAuth client for this profile")
    name = normalize_profile(profile)
    variable = env_var(tool, name, "credentials_file")
    detail = message if message and "has no Google OAuth client" not in message else None
    return OAuthSetup(variable, platform.settings.profile_secret_name(tool, name), detail)


def oauth_rows(platform: Platform, tool: str, config: ToolConfig, profiles: list[str], root: str) -> list[OAuthRow]:
    """One row per profile: connected or not (as the tool reports it) and where to connect it, or, when
    the profile has no OAuth client (status ``not_configured``), what to set instead of a Connect link."""
    oauth = config.oauth or {}
    provider = str(oauth.get("provider") or "")
    rows = []
    for profile in profiles or ["DEFAULT"]:
        url = None
        if provider == "google" and oauth.get("service"):
            url = f"{root}/oauth/google/auth?" + urlencode({"service": oauth["service"], "profile": profile},
                                                           quote_via=quote)
        try:
            status = catalog.oauth_status(platform, tool, profile)
        except Exception as exc:  # noqa: BLE001 - a tool's get_oauth_status() is plugin code
            message = exc.message if isinstance(exc, PluginError) else f"{type(exc).__name__}: {exc}"
            rows.append(OAuthRow(profile, None, url, message))
            continue
        if status.get("status") == "not_configured" or status.get("configured") is False:
            rows.append(OAuthRow(profile, False, None, configured=False,
                                 missing=oauth_setup(platform, tool, profile, provider, status)))
        else:
            rows.append(OAuthRow(profile, bool(status.get("connected")), url))
    return rows


def tools(platform: Platform, root: str) -> dict[str, Any]:
    items = catalog.tools(platform)
    oauth: dict[str, list[OAuthRow]] = {}
    for tool in items:
        plugin = platform.registry.plugins.get(("tool", tool.name))
        if tool.oauth and plugin is not None and isinstance(plugin.config, ToolConfig):
            oauth[tool.name] = oauth_rows(platform, tool.name, plugin.config, tool.profiles, root)
    return {"tools": items, "oauth": oauth}


def plugins(platform: Platform) -> dict[str, Any]:
    registry = platform.registry.check_all()
    items: list[PluginOut] = [catalog.plugin_out(p) for p in registry.plugins.values()]
    interfaces: list[InterfaceOut] = catalog.interfaces(platform)
    return {"plugins": items, "error_count": sum(p.status == "error" for p in items), "interfaces": interfaces}
