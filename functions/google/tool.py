"""The base class of Google tools: OAuth, the API client and error handling, so plugins stay thin.

A Google tool is a ``GoogleTool`` subclass whose config.json has ``"oauth": {"provider": "google",
"service": "calendar"}`` and one method per action, taking ``ActionParams`` and returning the action's
data. ``execute`` does the rest: authenticate (refreshing the token and saving it), check the action,
turn a bad parameter into a clear error, call the method, turn Google's HTTP errors into one line, and
store a token the API client refreshed on its own.

Profile parameters every Google tool understands: ``credentials_file``, ``token_file`` (the seed's),
``client_config`` (in the profile secret), ``redirect_uri``, ``api_endpoint`` (another endpoint for the
API: a private endpoint or a test server, passed as the client's ``client_options``) and ``timeout``.
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any

from functions.google.oauth import GoogleConnection, OAuthNotReady
from functions.registry.base_tool import BaseTool

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0


class ParamError(ValueError):
    """A parameter of an action is missing or malformed; the message names it and says what is expected."""


class ActionParams:
    """One action call's parameters, with getters that fail with a message naming the parameter."""

    def __init__(self, tool: str, action: str, params: dict[str, Any] | None) -> None:
        if params is not None and not isinstance(params, dict):
            raise ParamError(f"{tool}.{action}: params must be an object, got {type(params).__name__}")
        self.tool, self.action, self.raw = tool, action, dict(params or {})

    def _fail(self, name: str, problem: str) -> ParamError:
        return ParamError(f"{self.tool}.{self.action}: parameter '{name}' {problem}")

    def has(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "")

    def get(self, name: str, default: Any = None) -> Any:
        return self.raw[name] if self.has(name) else default

    def text(self, name: str, default: str | None = None, required: bool = False) -> str | None:
        value = self.raw.get(name)
        if value in (None, ""):
            if required:
                raise self._fail(name, "is required")
            return default
        if isinstance(value, (dict, list, bool)):
            raise self._fail(name, f"must be a string, got {type(value).__name__}")
        return str(value)

    def required(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def integer(self, name: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self.raw.get(name)
        if value in (None, ""):
            return default
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            number = int(value)
        except (TypeError, ValueError):
            raise self._fail(name, f"must be an integer, got {value!r}") from None
        if minimum is not None and number < minimum or maximum is not None and number > maximum:
            raise self._fail(name, f"must be between {minimum} and {maximum}, got {number}")
        return number

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).strip().lower() in ("0", "false", "no", "off"):
            return False
        raise self._fail(name, f"must be true or false, got {value!r}")

    def strings(self, name: str) -> list[str]:
        """A list of strings, or one comma-separated string."""
        value = self.raw.get(name)
        if value in (None, "", []):
            return []
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
            return [str(v) for v in value]
        raise self._fail(name, "must be a list of strings or a comma-separated string")

    def rows(self, name: str) -> list[list[Any]]:
        """A table: a list of rows, each a list of cells (one flat list is taken as a single row)."""
        value = self.raw.get(name)
        if value in (None, "", []):
            raise self._fail(name, "is required: a list of rows, each a list of cells, e.g. [[\"a\", 1]]")
        if not isinstance(value, list):
            raise self._fail(name, f"must be a list of rows, got {type(value).__name__}")
        if all(not isinstance(v, (list, dict)) for v in value):
            value = [value]
        for index, row in enumerate(value):
            if not isinstance(row, list) or any(isinstance(c, (list, dict)) for c in row):
                raise self._fail(name, f"row {index} must be a list of cell values (strings, numbers, booleans)")
        return value


class GoogleTool(BaseTool):
    """A tool on a Google API; subclasses define one method per action (see the module docstring)."""

    def __init__(self, profile: str = "DEFAULT", config: dict[str, Any] | None = None) -> None:
        super().__init__(profile=profile, config=config)
        self._connection: GoogleConnection | None = None
        self._credentials: Any = None
        self._issued_token: str | None = None
        self._api: Any = None
        #: Why authenticate() failed (``not_configured``, ``not_connected``, ``reauth_required``...) and
        #: where to (re)connect; ``last_error`` holds the full message.
        self.auth_status: str | None = None
        self.auth_url: str | None = None

    # ----- OAuth --------------------------------------------------------------------------------------------
    @property
    def connection(self) -> GoogleConnection:
        if self._connection is None:
            self._connection = GoogleConnection(self.tool_config, self.profile, self.config)
        return self._connection

    def authenticate(self) -> bool:
        """True once the profile has an OAuth client and a usable (refreshed if needed) token.

        False otherwise, with ``last_error`` saying why and where to (re)connect (the auth URL).
        """
        try:
            self._credentials = self.connection.credentials()
        except OAuthNotReady as exc:
            self.authenticated, self.last_error = False, exc.message
            self.auth_status, self.auth_url = exc.status, exc.auth_url
            log.warning("%s", exc.message)
            return False
        self._issued_token = self._credentials.token
        self._api = None
        self.authenticated, self.last_error = True, None
        return True

    def get_oauth_status(self) -> dict[str, Any]:
        return self.connection.status()

    # ----- the API client --------------------------------------------------------------------------------
    @property
    def api_endpoint(self) -> str | None:
        return str(self.config.get("api_endpoint") or "").strip() or None

    def api(self) -> Any:
        """The google-api-python-client resource, built from the bundled (static) discovery document."""
        if self._api is None:
            if self._credentials is None and not self.authenticate():
                raise OAuthNotReady(self.last_error or "not authenticated", self.auth_status or "error", self.auth_url)
            import google_auth_httplib2
            import httplib2
            from googleapiclient.discovery import build

            spec = self.connection.spec
            timeout = float(self.config.get("timeout") or DEFAULT_TIMEOUT)
            http = google_auth_httplib2.AuthorizedHttp(self._credentials, http=httplib2.Http(timeout=timeout))
            options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
            self._api = build(spec.api, spec.version, http=http, static_discovery=True, cache_discovery=False,
                              client_options=options)
        return self._api

    def call(self, request: Any) -> Any:
        """Execute one API request (retrying once on 429/5xx)."""
        self._rebase_media_uri(request)
        return request.execute(num_retries=1)

    def _rebase_media_uri(self, request: Any) -> None:
        """Send uploads to ``api_endpoint`` too.

        google-api-python-client moves an upload URL to the endpoint's host but keeps ``https`` and
        the public ``/upload/...`` path root; with an ``http://`` endpoint (a test server, a proxy) the
        upload would go to a URL that does not exist. Only the scheme and host are replaced.
        """
        if not self.api_endpoint or "/upload/" not in str(getattr(request, "uri", "")):
            return
        endpoint = urllib.parse.urlsplit(self.api_endpoint)
        current = urllib.parse.urlsplit(request.uri)
        request.uri = urllib.parse.urlunsplit(current._replace(scheme=endpoint.scheme, netloc=endpoint.netloc))

    # ----- actions ---------------------------------------------------------------------------------------
    def execute(self, action: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        from google.auth.exceptions import RefreshError, TransportError
        from googleapiclient.errors import Error as ApiClientError
        from googleapiclient.errors import HttpError

        if action not in self.tool_config.actions or not callable(getattr(type(self), action, None)):
            return self.unknown_action(action)
        if not self.authenticated and not self.authenticate():
            return {"status": "error", "error": self.last_error, "auth_required": True, "auth_url": self.auth_url}
        try:
            data = getattr(self, action)(ActionParams(self.tool_name, action, params))
        except ParamError as exc:
            return {"status": "error", "error": str(exc)}
        except HttpError as exc:
            return {"status": "error", "error": self.describe_http_error(action, exc),
                    "http_status": exc.status_code}
        except RefreshError as exc:
            error = self.connection.mark_reauth(str(exc.args[0]) if exc.args else "refresh refused")
            self.authenticated, self.last_error = False, error.message
            return {"status": "error", "error": error.message, "auth_required": True, "auth_url": error.auth_url}
        except OAuthNotReady as exc:
            self.authenticated, self.last_error = False, exc.message
            return {"status": "error", "error": exc.message, "auth_required": True, "auth_url": exc.auth_url}
        except (TransportError, ApiClientError, OSError) as exc:
            return {"status": "error", "error": f"{self.connection.spec.display_name} API call {action} failed: "
                                                f"{type(exc).__name__}: {exc}"}
        finally:
            self._save_refreshed_token()
        return {"status": "success", "data": data}

    def _save_refreshed_token(self) -> None:
        creds = self._credentials
        if creds is not None and creds.token and creds.token != self._issued_token:
            try:
                self.connection.save_if_changed(creds)
                self._issued_token = creds.token
            except Exception:  # noqa: BLE001 - the action succeeded; the next call refreshes again
                log.exception("could not save the refreshed token of %s %s", self.tool_name, self.profile)

    def describe_http_error(self, action: str, exc: Any) -> str:
        """One line: the API, the action, the HTTP status and Google's own reason."""
        reason = ""
        try:
            reason = exc._get_reason() or ""
        except Exception:  # noqa: BLE001 - fall back to the bare status
            reason = ""
        return (f"{self.connection.spec.display_name} API refused {action}: HTTP {exc.status_code}"
                f"{' - ' + reason.strip() if reason else ''}")
