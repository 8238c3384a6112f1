"""Admin authentication: one token guards everything but webhooks, the OAuth callback, health and login.

The token comes from ``WFP_ADMIN_TOKEN`` (local use) or, deployed, from the Secrets Manager secret
named by ``WFP_ADMIN_TOKEN_SECRET`` (read on first need through the platform's secret reader, cached 5
minutes, so a rotated secret takes effect within minutes without a redeploy). With neither set the
platform is open: that is the local default, where the server binds 127.0.0.1.

A caller proves it knows the token with ``Authorization: Bearer <token>`` (scripts, curl) or with the
dashboard's session cookie. The cookie never holds the token: it holds an expiry, a random nonce and
an HMAC-SHA256 of both keyed by the token. Rotating the token therefore ends every session at once,
logging out deletes the cookie, and a stolen cookie expires on its own. Every comparison goes through
``hmac.compare_digest`` so the time it takes says nothing about how much of a guess was right.

``refusal`` applies the rule to every request in one place (``functions.http.middleware.edge`` calls
it): API calls get a 401 JSON error saying what to send; browser page loads are redirected to the login
page, which sends them back where they were going.

Hand-written rather than a library's because the rule is small (a token compare and an HMAC) and
FastAPI's security helpers only parse headers; they neither exempt paths nor sign cookies.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import Scope

from functions.aws.secrets import SecretUnavailable, unwrap
from functions.core import redaction
from functions.http.deps import platform_of
from functions.http.errors import error_response
from functions.platform import Platform

log = logging.getLogger(__name__)

TOKEN_ENV = "WFP_ADMIN_TOKEN"
SECRET_ENV = "WFP_ADMIN_TOKEN_SECRET"
COOKIE_NAME = "wfp_session"
SESSION_SECONDS = 12 * 3600
SESSION_VERSION = "v1"

#: Paths anyone may call: webhooks authenticate with their own secret, the OAuth callback is reached
#: by Google's redirect (its ``state`` protects it), health is for load balancers and monitors, the login
#: page is how one gets in, and the dashboard's static files (CSS/JS, no data) style the login page. A
#: durable run's callback URLs (``/api/callbacks/<token>``) carry their own single-use token.
#: Not /logout: it changes state, so it takes the session cookie, which SameSite=Strict keeps from
#: other sites' pages (a cross-site form cannot log anyone out).
EXEMPT_PATHS = frozenset({"/api/health", "/login", "/oauth/google/callback"})
EXEMPT_PREFIXES = ("/api/webhooks/", "/api/callbacks/", "/dashboard/static/")


class AuthUnavailable(Exception):
    """An admin token is configured but cannot be read: the platform refuses rather than opens."""


# ----- the token ---------------------------------------------------------------------------------------
def secret_configured(platform: Platform) -> bool:
    """Is the token in Secrets Manager (a read that may call AWS) rather than in the settings?"""
    return platform.settings.admin_token is None and bool(platform.settings.admin_token_secret)


def token_configured(platform: Platform) -> bool:
    """Is a token configured (in the settings, or a secret named)? What the exempt pages show, without
    reading the secret: a health check or the login form costs no Secrets Manager call."""
    settings = platform.settings
    return bool(settings.admin_token and settings.admin_token.get_secret_value()) or bool(settings.admin_token_secret)


def configured_token(platform: Platform) -> str | None:
    """The admin token, or None when none is configured (open, local mode). May call Secrets Manager."""
    settings = platform.settings
    token = settings.admin_token.get_secret_value() if settings.admin_token else None
    if token is None and settings.admin_token_secret:
        name = settings.admin_token_secret
        try:
            token = unwrap(platform.secrets.text(name), "token")
        except SecretUnavailable as exc:
            raise AuthUnavailable(f"the admin token could not be read: {exc}") from None
        if token is None:
            raise AuthUnavailable(f"the admin token secret {name!r} is missing or empty: put the token in it")
    if token:
        redaction.register_global(token)  # a workflow that prints it gets *** in its logs
    return token


# ----- proofs ------------------------------------------------------------------------------------------
def _sign(token: str, payload: str) -> str:
    return hmac.new(token.encode("utf-8"), f"wfp-session:{payload}".encode(), hashlib.sha256).hexdigest()


def new_session(token: str, now: float | None = None, lifetime: int = SESSION_SECONDS) -> str:
    """A cookie value proving a successful login: ``v1.<expiry>.<nonce>.<hmac>``; never the token."""
    expires = int((now if now is not None else time.time()) + lifetime)
    payload = f"{SESSION_VERSION}.{expires}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_sign(token, payload)}"


def session_valid(value: str, token: str, now: float | None = None) -> bool:
    parts = value.split(".")
    if len(parts) != 4 or parts[0] != SESSION_VERSION or not parts[1].isdigit():
        return False
    payload, signature = ".".join(parts[:3]), parts[3]
    if not hmac.compare_digest(signature.encode(), _sign(token, payload).encode()):
        return False
    return int(parts[1]) > (now if now is not None else time.time())


def token_matches(candidate: str, token: str) -> bool:
    return hmac.compare_digest(candidate.encode("utf-8"), token.encode("utf-8"))


def bearer(headers: Headers) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def cookie_value(headers: Headers, name: str = COOKIE_NAME) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value.strip('"')
    return None


def authorized(headers: Headers, token: str) -> bool:
    """Does the request carry the token (Bearer header) or a valid session cookie?"""
    presented = bearer(headers)
    if presented is not None and token_matches(presented, token):
        return True
    session = cookie_value(headers)
    return session is not None and session_valid(session, token)


# ----- paths -------------------------------------------------------------------------------------------
def root_path(scope: Scope) -> str:
    """The stage prefix the app is served under (``/prod`` behind API Gateway, ``""`` locally)."""
    return str(scope.get("app_root_path", scope.get("root_path", "")) or "").rstrip("/")


def route_path(scope: Scope) -> str:
    """The request path inside the app, without the stage prefix (what the routes match on)."""
    path: str = scope["path"]
    root = root_path(scope)
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root):]
    return path or "/"


def exempt(path: str) -> bool:
    return path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES)


def wants_html(scope: Scope, headers: Headers) -> bool:
    """A browser navigating to a page (redirect it to the login form) rather than a script calling the API."""
    if scope.get("method") not in ("GET", "HEAD"):
        return False
    return headers.get("sec-fetch-mode") == "navigate" or "text/html" in headers.get("accept", "")


def safe_next(target: str | None) -> str:
    """Where to go after login: a path inside the app only (no ``//evil.example`` open redirects)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return "/"
    return target


def login_redirect(scope: Scope) -> RedirectResponse:
    path = route_path(scope)
    query = scope.get("query_string", b"").decode("latin-1")
    target = path + (f"?{query}" if query else "")
    return RedirectResponse(f"{root_path(scope)}/login?next={quote(target, safe='/')}", status_code=303)


def unauthorized(scope: Scope) -> JSONResponse:
    login = f"{root_path(scope)}/login"
    return error_response(401, "admin token required: send the header 'Authorization: Bearer <token>' "
                               f"(the value of {TOKEN_ENV} or of the {SECRET_ENV} secret), or log in at {login}",
                          headers={"WWW-Authenticate": 'Bearer realm="workflow-platform"'})


async def refusal(scope: Scope) -> Any:
    """The response refusing this request, or None to let it through; ``functions.http.middleware.edge``
    calls it for every request. Records whether auth is on in ``scope["state"]["auth_enabled"]`` so pages
    can show a logout button."""
    platform = platform_of(scope)
    path = route_path(scope)
    if path in EXEMPT_PATHS:  # health, login, the OAuth callback: no token to read (no AWS call)
        scope.setdefault("state", {})["auth_enabled"] = token_configured(platform)
        return None
    try:
        token = (await run_in_threadpool(configured_token, platform) if secret_configured(platform)
                 else configured_token(platform))
    except AuthUnavailable as exc:
        log.error("admin auth unavailable: %s", exc)
        token, problem = None, str(exc)
    else:
        problem = None
    scope.setdefault("state", {})["auth_enabled"] = bool(token or problem)
    if exempt(path) or (token is None and problem is None):
        return None
    headers = Headers(scope=scope)
    if problem is not None:
        return error_response(503, f"{problem}; the platform refuses requests until it can check the admin token")
    if token is not None and authorized(headers, token):
        return None
    if scope["type"] == "http" and wants_html(scope, headers):
        return login_redirect(scope)
    return unauthorized(scope)
