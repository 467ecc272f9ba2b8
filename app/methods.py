"""HEAD and OPTIONS on every API path, as HTTP says (RFC 9110), without declaring them per route:
HEAD answers as GET would, without the body; OPTIONS is a 204 whose Allow lists the methods."""

from __future__ import annotations

from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class ImplicitMethodsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method") if scope["type"] == "http" else None
        if method not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        allowed = _allowed_methods(scope)
        if method == "OPTIONS" and allowed:
            implicit = ["HEAD", "OPTIONS"] if "GET" in allowed else ["OPTIONS"]
            headers = [(b"allow", ", ".join(allowed + implicit).encode())]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        if method == "HEAD" and "GET" in allowed:
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
            return
        await self.app(scope, receive, send)  # unknown path: the router's own 404 / 405


def _allowed_methods(scope: Scope) -> list[str]:
    """Methods some route takes at this path (asked the way the router itself matches); a
    mounted app (the page's static files) matches any method, but serves only GET."""
    router = scope["app"].router
    allowed = []
    for method in _METHODS:
        matched = [
            r for r in router.routes if r.matches({**scope, "method": method})[0] == Match.FULL
        ]
        if matched and (method == "GET" or not all(isinstance(r, Mount) for r in matched)):
            allowed.append(method)
    return allowed


def _without_body(send: Send) -> Send:
    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head
