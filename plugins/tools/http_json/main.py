"""A tool for any JSON REST API: one profile per API (base URL + auth header)."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..base import BaseTool

logger = logging.getLogger(__name__)

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}
MAX_BODY = 1024 * 1024


class HttpJsonTool(BaseTool):
    def execute(self, action: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        params = dict(params or {})
        if action in ("get", "post"):
            params["method"] = action.upper()
            action = "request"
        if action != "request":
            return self.unknown_action(action)
        return self._request(params)

    def _url(self, path: str, query: dict[str, Any] | None) -> str:
        if path.startswith(("http://", "https://")):
            url = path
        else:
            base = str(self.config.get("base_url") or "").rstrip("/")
            if not base:
                raise ValueError(f"'path' {path!r} is relative but profile {self.profile} has no base_url: "
                                 f"set HTTP_JSON_{self.profile}_BASE_URL or pass a full URL")
            url = f"{base}/{path.lstrip('/')}"
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query, doseq=True)
        return url

    def _request(self, params: dict[str, Any]) -> dict[str, Any]:
        method = str(params.get("method") or "GET").upper()
        if method not in METHODS:
            return {"status": "error", "error": f"method must be one of {', '.join(sorted(METHODS))}"}
        if not params.get("path"):
            return {"status": "error", "error": "'path' is required (a path under base_url or a full URL)"}
        try:
            url = self._url(str(params["path"]), params.get("query"))
        except ValueError as exc:
            return {"status": "error", "error": str(exc)}
        headers = {"Accept": "application/json", **{str(k): str(v) for k, v in (params.get("headers") or {}).items()}}
        if self.config.get("auth_header"):
            scheme = self.config.get("auth_scheme") or ""
            headers["Authorization"] = f"{scheme} {self.config['auth_header']}".strip()
        body = None
        if params.get("json") is not None:
            body = json.dumps(params["json"]).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        logger.info("%s %s", method, url.split("?")[0])
        try:
            with urllib.request.urlopen(request, timeout=float(self.config.get("timeout") or 10)) as response:
                return self._result(response.status, dict(response.headers), response.read(MAX_BODY))
        except urllib.error.HTTPError as exc:
            result = self._result(exc.code, dict(exc.headers), exc.read(MAX_BODY))
            result["status"] = "error"
            result["error"] = f"{method} {url.split('?')[0]} answered HTTP {exc.code}"
            return result
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            return {"status": "error", "error": f"{method} {url.split('?')[0]} failed: {exc}"}

    @staticmethod
    def _result(code: int, headers: dict[str, str], raw: bytes) -> dict[str, Any]:
        text = raw.decode("utf-8", errors="replace")
        try:
            body: Any = json.loads(text) if text else None
        except ValueError:
            body = text
        return {"status": "success", "data": {"status_code": code, "body": body,
                                              "content_type": headers.get("Content-Type", "")}}
