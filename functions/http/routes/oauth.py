"""The Google sign-in, seen from a browser: ``/oauth/google/auth`` and ``/oauth/google/callback``.

Both answer HTML (a person follows them), including their errors: a clear page with what went wrong
and what to do, never a token. The callback path is fixed (it is registered in Google Cloud Console
and exempt from admin authentication); the redirect URI is this request's public base URL plus that
path unless the profile sets ``redirect_uri``. The OAuth machinery is imported on first use, not with
the app (cold starts that never see a sign-in do not pay for it).
"""

from __future__ import annotations

import html
import urllib.parse

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from functions.errors import PlatformError
from functions.http.deps import PlatformDep, ProfileQuery, base_url
from functions.platform import Platform
from functions.registry.config import ToolConfig
from functions.registry.profile import normalize_profile

router = APIRouter(tags=["oauth"])

#: No caching (the pages follow one-time links) and no Referer (the callback URL carries the code).
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def page(status: int, title: str, message: str, links: dict[str, str] | None = None) -> HTMLResponse:
    items = "".join(f'<li><a href="{html.escape(url)}">{html.escape(label)}</a></li>'
                    for label, url in (links or {}).items())
    ok = status < 400
    body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}}
h1{{color:{'#1a7f37' if ok else '#b42318'};font-size:1.4rem}}p,li{{line-height:1.5;overflow-wrap:anywhere}}</style></head>
<body><h1>{html.escape(title)}</h1><p id="message">{html.escape(message)}</p>
{f'<ul>{items}</ul>' if items else ''}</body></html>"""
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


def _tool_config(platform: Platform, name: str) -> ToolConfig:
    plugin = platform.registry.get("tool", name)
    plugin.raise_if_broken()
    assert isinstance(plugin.config, ToolConfig)
    return plugin.config


def _start(platform: Platform, service: str, profile: str, tool: str | None, request_base: str) -> str:
    from functions.google import oauth as google_oauth

    config = google_oauth.tool_for_service(platform.registry, service, tool)
    return google_oauth.GoogleConnection(config, profile, platform=platform).start(request_base)


def _choose_service(request: Request, platform: Platform, profile: str) -> HTMLResponse:
    from functions.google import oauth as google_oauth

    profile = normalize_profile(profile)
    here = f"{base_url(request, platform)}/oauth/google/auth"
    links = {f"{c.display_name or c.tool_name} ({(c.oauth or {}).get('service')})":
             f"{here}?{urllib.parse.urlencode({'service': (c.oauth or {}).get('service'), 'tool': c.tool_name, 'profile': profile})}"
             for c in google_oauth.google_tools(platform.registry)}
    return page(200, "Which Google service?", f"Choose what to connect for profile {profile}"
                f"{'' if links else ': no Google tool is installed'} (or add ?service=calendar, drive or sheets "
                "to the URL).", links)


@router.get("/oauth/google/auth", response_class=HTMLResponse, status_code=302,
            responses={200: {"description": "Without service: the Google services to choose from (HTML page)"},
                       302: {"description": "Redirect to Google's consent page"},
                       400: {"description": "A profile name that is not letters, digits and _ (HTML page)"},
                       404: {"description": "Unknown service or tool, or a tool of another service (HTML page)"},
                       409: {"description": "Broken tool, or several tools for the service and no tool= (HTML page)"},
                       424: {"description": "The profile has no OAuth client (HTML page)"}})
async def google_auth(request: Request, platform: PlatformDep, service: str | None = Query(None, max_length=64),
                      profile: str = ProfileQuery,
                      tool: str | None = Query(None, max_length=64)) -> Response:
    """Start connecting a Google tool's profile: redirects to Google's consent page (offline access).
    Without ``service``, a page that lists the Google services to choose from."""
    try:
        if not service:
            return await run_in_threadpool(_choose_service, request, platform, profile)
        url = await run_in_threadpool(_start, platform, service, profile, tool, base_url(request, platform))
    except PlatformError as exc:
        return page(exc.status_code, "Cannot start the Google sign-in", exc.message)
    return RedirectResponse(url, status_code=302, headers=PAGE_HEADERS)


@router.get("/oauth/google/callback", response_class=HTMLResponse,
            responses={400: {"description": "Refused, unknown, used or expired sign-in (HTML page)"}})
async def google_callback(request: Request, platform: PlatformDep, state: str | None = Query(None, max_length=512),
                          code: str | None = Query(None, max_length=4096),
                          error: str | None = Query(None, max_length=256)) -> Response:
    """Where Google sends the browser back: checks the state, exchanges the code, stores the token."""
    from functions.google import oauth as google_oauth

    try:
        connection, record = await run_in_threadpool(google_oauth.complete_sign_in, state, code, error,
                                                      lambda name: _tool_config(platform, name), platform)
    except PlatformError as exc:
        return page(exc.status_code, "Google sign-in failed", exc.message)
    base = base_url(request, platform)
    status_url = (f"{base}/api/oauth/status/{urllib.parse.quote(connection.tool)}?"
                  f"{urllib.parse.urlencode({'profile': connection.profile})}")
    granted = ", ".join(record.scopes or []) or "none"
    return page(200, f"{connection.spec.display_name} connected",
                f"{connection.spec.display_name} ({connection.spec.name}) is now connected for profile "
                f"{connection.profile} (tool {connection.tool}). Granted scopes: {granted}. You can close "
                "this page.", {"Connection status": status_url, "Dashboard": f"{base}/"})
