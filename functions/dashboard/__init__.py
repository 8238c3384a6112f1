"""The dashboard: server-rendered pages (Jinja2), one stylesheet and one small script, no build step.

Pages read what the API reads (``functions.catalog``, the run store) and the script calls the public
API (run forms, live run pages, pause/resume), so the dashboard can never show something the API does
not. ``install(app)`` adds the pages, the login routes and the static files (``/dashboard/static``).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from .login import router as login_router
from .pages import router as pages_router
from .render import STATIC


def install(app: FastAPI) -> None:
    app.include_router(pages_router)
    app.include_router(login_router)
    app.router.routes.append(Mount("/dashboard/static", app=StaticFiles(directory=STATIC), name="dashboard-static"))
