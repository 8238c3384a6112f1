"""The login form and logout: the only way a browser gets (and drops) the admin session cookie.

The cookie is HttpOnly (scripts cannot read it), Secure (HTTPS only; browsers treat
http://127.0.0.1 and http://localhost as secure, so it works locally), SameSite=Strict (never sent
by another site's page, which is the dashboard's CSRF protection) and scoped to the stage prefix.
Its value is a signed session (``functions.http.middleware.auth.new_session``), never the token itself.

SameSite=Strict has one cost: a link from another site (a chat message, Google's OAuth redirect) arrives
without the cookie, so a logged-in user would be asked to log in again. The login page notices such a
cross-site arrival (``Sec-Fetch-Site``) and lets its script ask once more from the platform's own origin.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from functions.errors import PlatformError
from functions.http.dashboard.render import render
from functions.http.deps import platform_of
from functions.http.middleware import auth
from functions.http.payloads import read_body

MAX_FORM_BYTES = 8 * 1024


async def _token(request: Request) -> tuple[str | None, str | None]:
    try:
        return await run_in_threadpool(auth.configured_token, platform_of(request.scope)), None
    except auth.AuthUnavailable as exc:
        return None, str(exc)


def _cookie_path(request: Request) -> str:
    return auth.root_path(request.scope) or "/"


def _login_page(request: Request, status: int = 200, *, next_path: str = "/", error: str | None = None,
                open_mode: bool = False, notice: str | None = None, retry: str | None = None) -> HTMLResponse:
    return render(request, "login.html", status, page="login", next_path=next_path, error=error,
                  open_mode=open_mode, notice=notice, retry=retry)


async def login_form(request: Request) -> Response:
    next_path = auth.safe_next(request.query_params.get("next"))
    token, problem = await _token(request)
    if problem:
        return _login_page(request, 503, next_path=next_path, error=problem)
    if token is None:
        return _login_page(request, next_path=next_path, open_mode=True)
    session = auth.cookie_value(request.headers)
    if session and auth.session_valid(session, token):
        return RedirectResponse(auth.root_path(request.scope) + next_path, status_code=303)
    notice = "You are logged out." if request.query_params.get("logged_out") else None
    retry = None
    if request.headers.get("sec-fetch-site") == "cross-site" and not request.query_params.get("retry"):
        # Arrived from another site's link (or an OAuth redirect): the browser withheld the SameSite=Strict
        # cookie. The page's script asks once more from this origin, which sends it; no loop (retry=1).
        retry = f"{auth.root_path(request.scope)}/login?" + urlencode({"next": next_path, "retry": "1"})
    return _login_page(request, next_path=next_path, notice=notice, retry=retry)


async def login(request: Request) -> Response:
    try:
        form = dict(parse_qsl((await read_body(request, MAX_FORM_BYTES)).decode("utf-8", "replace")))
    except PlatformError as exc:
        return _login_page(request, exc.status_code, error=exc.message)
    next_path = auth.safe_next(form.get("next"))
    token, problem = await _token(request)
    if problem:
        return _login_page(request, 503, next_path=next_path, error=problem)
    if token is None:
        return RedirectResponse(auth.root_path(request.scope) + next_path, status_code=303)
    if not auth.token_matches(form.get("token", "").strip(), token):
        return _login_page(request, 401, next_path=next_path,
                           error="That is not the admin token. Paste the value of WFP_ADMIN_TOKEN "
                                 "(or of the admin token secret when deployed).")
    response = RedirectResponse(auth.root_path(request.scope) + next_path, status_code=303)
    response.set_cookie(auth.COOKIE_NAME, auth.new_session(token), max_age=auth.SESSION_SECONDS,
                        path=_cookie_path(request), secure=True, httponly=True, samesite="strict")
    return response


async def logout(request: Request) -> RedirectResponse:
    """POST only, behind the admin check (``functions.http.middleware.auth``): the dashboard's Log out button is a form."""
    response = RedirectResponse(f"{auth.root_path(request.scope)}/login?logged_out=1", status_code=303)
    response.delete_cookie(auth.COOKIE_NAME, path=_cookie_path(request), secure=True, httponly=True,
                           samesite="strict")
    return response


routes = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
