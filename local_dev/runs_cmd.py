"""``wfp runs``: find runs of every workflow in the local platform's table, as ``GET /api/runs`` does
(``functions.core.run_search.find``: same filters, window, page size and cursor).

    wfp runs --status error --since 2026-12-01 --limit 50
    wfp runs --workflow daily_digest --trigger schedule --json
    wfp runs --cursor <next_cursor>      # the next (older) page
    wfp runs --status error --workflow daily_digest --rerun        # what would be re-run; then --yes
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, get_args

STATUS_WIDTH = 11


def add_parser(sub: Any) -> None:
    from functions.core.runs import TRIGGERS, RunStatus

    runs = sub.add_parser("runs", help="find runs of every workflow (status, workflow, trigger, days), newest first")
    runs.add_argument("--status", choices=list(get_args(RunStatus)))
    runs.add_argument("--workflow")
    runs.add_argument("--trigger", choices=list(TRIGGERS))
    runs.add_argument("--since", help="ISO 8601 date or datetime (default: 7 days before --until)")
    runs.add_argument("--until", help="ISO 8601 date (that whole UTC day) or datetime (default: now)")
    runs.add_argument("--run-id", help="exactly this run")
    runs.add_argument("--limit", type=int, default=None, help="runs per page, 1-100 (default 20)")
    runs.add_argument("--cursor", help="next_cursor of a previous page")
    runs.add_argument("--json", action="store_true", help="print the page as the API answers it")
    runs.add_argument("--rerun", action="store_true", help="re-run the matching runs (at most --limit, default 20, "
                      "max 50), as POST /api/runs/rerun: lists them unless --yes")
    runs.add_argument("--yes", action="store_true", help="with --rerun: do it")
    runs.set_defaults(func=cmd_runs)


def cmd_runs(args: argparse.Namespace) -> int:
    from functions.core.run_search import find
    from functions.errors import PlatformError

    from .environment import prepare

    if args.limit is not None and not 1 <= args.limit <= 100:
        print("error: --limit must be between 1 and 100", file=sys.stderr)
        return 2
    if args.rerun:
        return _rerun(args)
    local = prepare()
    try:
        try:
            settings = local.platform.settings
            page = find(local.platform.runs, settings.run_retention_days, settings.history_page_size,
                        status=args.status, workflow=args.workflow, trigger=args.trigger, since=args.since,
                        until=args.until, run_id=args.run_id, limit=args.limit, cursor=args.cursor)
        except PlatformError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
        if args.json:
            print(json.dumps(_json(page), indent=2, ensure_ascii=False))
            return 0
        for run in page.runs:
            started = (run.started_at or run.created_at).strftime("%Y-%m-%d %H:%M:%S")
            duration = "" if run.duration_ms is None else f"{run.duration_ms} ms"
            print(f"{run.run_id}  {run.status:<{STATUS_WIDTH}} {started}  {run.workflow}  {run.trigger}  {duration}  "
                  f"{(run.message or '')[:60]}".rstrip())
        window = f"{page.since:%Y-%m-%d %H:%M} to {page.until:%Y-%m-%d %H:%M} UTC"
        print(f"{len(page.runs)} run(s), {window}", file=sys.stderr)
        if page.next_cursor:
            print(f"older runs: wfp runs ... --cursor {page.next_cursor}", file=sys.stderr)
        return 0
    finally:
        local.stop()


def _rerun(args: argparse.Namespace) -> int:
    from functions.core.rerun import BULK_MAX, bulk_rerun
    from functions.errors import PlatformError

    from .environment import prepare

    limit = args.limit or 20
    if not 1 <= limit <= BULK_MAX or args.run_id or args.cursor:
        print(f"error: --rerun takes filters and --limit 1-{BULK_MAX}, not --run-id or --cursor "
              "(wfp rerun RUN_ID re-runs one run)", file=sys.stderr)
        return 2
    local = prepare()
    try:
        try:
            answer = bulk_rerun(local.platform.engine, confirm=args.yes, limit=limit, status=args.status,
                                workflow=args.workflow, trigger=args.trigger, since=args.since, until=args.until)
        except PlatformError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
        if args.json:
            print(json.dumps(_json(answer), indent=2, ensure_ascii=False))
        elif not args.yes:
            for run in answer.runs:
                print(f"{run.run_id}  {run.status:<{STATUS_WIDTH}} {run.workflow}  {run.trigger}")
        else:
            for item in answer.results:
                print(f"{item.run_id}  {item.workflow}  -> {item.rerun_id or 'not re-run: ' + (item.error or '')}")
        print(answer.message.replace("repeat the request with confirm=true", "add --yes") , file=sys.stderr)
        return 1 if args.yes and any(item.rerun_id is None for item in answer.results) else 0
    finally:
        local.stop()


def _json(answer: Any) -> Any:
    """A page or a bulk re-run as the API answers it (the same fields; runs as their JSON)."""
    from dataclasses import asdict, fields

    out = {f.name: getattr(answer, f.name) for f in fields(answer)}
    out["runs"] = [run.model_dump(mode="json") for run in answer.runs]
    if "results" in out:
        out["results"] = [asdict(item) for item in answer.results]
        out["count"] = len(answer.runs)
    for key in ("since", "until"):
        if key in out:
            out[key] = out[key].isoformat().replace("+00:00", "Z")
    return out
