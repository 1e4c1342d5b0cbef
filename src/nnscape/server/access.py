"""The access token a server listening beyond this machine requires on every request.

The address the server prints carries the token (``/?token=…``); the first page load that presents it gets it
back as a cookie, so the page's own requests (bundle, API, event streams) carry it without knowing it.
Scripts may send it as ``Authorization: Bearer …`` instead. A request without the right token gets 401 and
never reaches a route.
"""

from __future__ import annotations

import secrets
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["TOKEN_COOKIE", "TOKEN_PARAMETER", "TokenMiddleware", "new_token"]

TOKEN_PARAMETER = "token"
TOKEN_COOKIE = "nnscape_token"
# 128 random bits, URL-safe.
TOKEN_BYTES = 16
UNAUTHORIZED_STATUS = 401
UNAUTHORIZED_MESSAGE = "nnscape: this server needs its access token; open the address it printed (ending in ?token=…)\n"
_BEARER = "bearer "


def new_token() -> str:
    """A fresh random access token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


class TokenMiddleware:
    """Answer 401 to every HTTP request that does not carry ``token`` (query, cookie or bearer header)."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan events carry no request
            await self.app(scope, receive, send)
            return
        in_query = self._matches(_query_token(scope))
        if not (in_query or self._matches(_cookie_token(scope)) or self._matches(_bearer_token(scope))):
            await PlainTextResponse(UNAUTHORIZED_MESSAGE, status_code=UNAUTHORIZED_STATUS)(scope, receive, send)
            return
        if not in_query:
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                MutableHeaders(scope=message).append("set-cookie", cookie + ("; Secure" if secure else ""))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _matches(self, candidate: str | None) -> bool:
        return candidate is not None and secrets.compare_digest(candidate.encode(), self.token.encode())


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _query_token(scope: Scope) -> str | None:
    values = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1")).get(TOKEN_PARAMETER)
    return values[0] if values else None


def _cookie_token(scope: Scope) -> str | None:
    header = _header(scope, b"cookie")
    if header is None:
        return None
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(header)
    except CookieError:  # a malformed Cookie header carries no token
        return None
    morsel = cookie.get(TOKEN_COOKIE)
    return morsel.value if morsel is not None else None


def _bearer_token(scope: Scope) -> str | None:
    header = _header(scope, b"authorization")
    if header is None or not header.lower().startswith(_BEARER):
        return None
    return header[len(_BEARER) :].strip()
