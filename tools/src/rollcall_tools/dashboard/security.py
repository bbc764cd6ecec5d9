"""Who may use the dashboard: the access token, the Host check, cross-site POSTs, headers.

* Bound to a loopback address, no token is asked unless ``ROLLCALL_DASHBOARD_TOKEN`` is set;
  the ``Host`` header must then name this machine (a DNS-rebinding page cannot read it).
* Bound to any other address, every request needs the token: ``Authorization: Bearer
  TOKEN``, or the cookie that opening ``/?token=TOKEN`` once sets. No token: 401; a wrong
  one: 403. The token comes from ``ROLLCALL_DASHBOARD_TOKEN`` or is generated per start.
* Every POST must come from the dashboard's own origin (``Origin``, else ``Referer``) and
  carry the form's CSRF token (:func:`checked_form`); otherwise 403.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import FormData, Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "rollcall_dashboard"
CSRF_FIELD = "csrf_token"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
"""Sent with every response: only the dashboard's own scripts run, nothing frames it."""


class DashboardEnv(BaseSettings):
    """The dashboard's one deployment setting, ``ROLLCALL_DASHBOARD_TOKEN``."""

    model_config = SettingsConfigDict(
        env_prefix="ROLLCALL_DASHBOARD_", env_ignore_empty=True, extra="ignore"
    )

    token: SecretStr | None = None


@dataclass(frozen=True)
class Access:
    """The access token (None: none asked), the CSRF token of the forms, the host names the
    ``Host`` header may carry (None: any, the token guards)."""

    token: str | None
    csrf: str
    hosts: frozenset[str] | None
    generated: bool = False
    """True when the token was made here (then it is printed with the URL)."""

    @classmethod
    def for_host(cls, host: str, token: str | None = None) -> Access:
        """What serving on ``host`` needs: a token unless loopback (``token``, else the
        variable, else a new one)."""
        token = token or _env_token()
        loopback = host in LOOPBACK
        generated = token is None and not loopback
        if generated:
            token = secrets.token_urlsafe(24)
        hosts = (LOOPBACK | {host}) if loopback else None
        return cls(token, secrets.token_urlsafe(24), hosts, generated)

    def valid(self, offered: str | None) -> bool:
        return (
            self.token is not None
            and offered is not None
            and hmac.compare_digest(offered.encode(), self.token.encode())
        )


def _env_token() -> str | None:
    token = DashboardEnv().token
    return token.get_secret_value() if token else None


def _bearer(headers: Headers) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _cookie(headers: Headers) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header counts as none
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


def _host_name(host_header: str) -> str:
    """``example.org`` of ``example.org:8765``, ``::1`` of ``[::1]:8765``."""
    return (urlsplit(f"//{host_header}").hostname or "").lower()


def same_origin(headers: Headers, scheme: str) -> bool:
    """Does the request's ``Origin`` (else its ``Referer``) name the host it was sent to?"""
    source = headers.get("origin") or headers.get("referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}".lower() == f"{scheme}://{headers.get('host', '')}"


class Guard:
    """ASGI middleware: the Host check, the token, the origin of POSTs, security headers,
    and a ``Server-Timing`` header with the time to the response's first byte."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app, self.access = app, access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        refusal = self._refusal(scope)
        if refusal is not None:
            await _with_headers(refusal, started)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add_headers(message, started)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        access = self.access
        if access.hosts is not None and _host_name(headers.get("host", "")) not in access.hosts:
            return PlainTextResponse("unknown Host header", status_code=400)
        if access.token is not None:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            login = query.pop("token", None)
            if login is not None:
                return self._login(scope, login, query)
            offered = _bearer(headers) or _cookie(headers)
            if offered is None:
                return PlainTextResponse(
                    "access token required: open the URL `tools dashboard` printed, or send "
                    "Authorization: Bearer TOKEN",
                    status_code=401,
                    headers={"www-authenticate": "Bearer"},
                )
            if not access.valid(offered):
                return PlainTextResponse("wrong access token", status_code=403)
        if scope["method"] in UNSAFE_METHODS and not same_origin(headers, scope["scheme"]):
            return PlainTextResponse("cross-site request refused", status_code=403)
        return None

    def _login(self, scope: Scope, offered: str, rest: dict[str, str]) -> Response:
        """``?token=``: a valid token becomes a cookie, then the same page without it."""
        if not self.access.valid(offered):
            return PlainTextResponse("wrong access token", status_code=403)
        target = scope["path"] + (f"?{urlencode(rest)}" if rest else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, offered, httponly=True, samesite="strict", path="/")
        return response


def _add_headers(message: MutableMapping[str, Any], started: float) -> None:
    raw = list(message.get("headers", []))
    present = {name.lower() for name, _ in raw}
    for name, value in HEADERS.items():
        if name.encode() not in present:
            raw.append((name.encode(), value.encode()))
    elapsed_ms = (time.perf_counter() - started) * 1000
    raw.append((b"server-timing", f"app;dur={elapsed_ms:.1f}".encode()))
    message["headers"] = raw


def _with_headers(response: Response, started: float) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add_headers(message, started)
            await send(message)

        await response(scope, receive, sending)

    return app


async def checked_form(request: Request) -> FormData:
    """The POSTed form, after its CSRF token is checked (403 when missing or wrong)."""
    form = await request.form()
    offered = form.get(CSRF_FIELD)
    expected: str = request.app.state.access.csrf
    if not isinstance(offered, str) or not hmac.compare_digest(offered.encode(), expected.encode()):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
    return form
