"""Tools and their profiles (names only), and the OAuth status the tools report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from functions.http import catalog
from functions.http.deps import PlatformDep, ProfileQuery, base_url
from functions.http.schemas import OAuthStatus, ToolOut, error_responses

router = APIRouter(tags=["tools"])


@router.get("/api/tools", response_model=list[ToolOut])
async def list_tools(platform: PlatformDep) -> list[ToolOut]:
    """Every tool with its actions and the profiles configured for it (never their values)."""
    return await run_in_threadpool(catalog.tools, platform)


@router.get("/api/oauth/status", response_model=list[OAuthStatus], tags=["oauth"])
async def oauth_status_all(request: Request, platform: PlatformDep) -> list[dict[str, Any]]:
    """OAuth state of every OAuth tool, per configured profile."""
    return await run_in_threadpool(catalog.oauth_statuses, platform, base_url(request, platform))


@router.get("/api/oauth/status/{tool}", response_model=OAuthStatus, tags=["oauth"],
            responses=error_responses({404: "Unknown tool", 409: "Broken tool"}))
async def oauth_status_one(request: Request, platform: PlatformDep, tool: str,
                           profile: str = ProfileQuery) -> dict[str, Any]:
    """OAuth state of one tool and profile, as the tool reports it."""
    return await run_in_threadpool(catalog.oauth_status, platform, tool, profile, base_url(request, platform))
