"""A bound on request bodies, checked before Starlette reads a body whole into memory.

Every body the API takes is a small JSON document (a processing job, a config, a layer list), so anything
larger is refused with 413 as it arrives: by its Content-Length header, or by counting a chunked body.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_BODY_BYTES", "BodyLimitMiddleware"]

# The largest JSON the API needs is a processing or render config of a few hundred bytes.
MAX_BODY_BYTES = 1 << 20
TOO_LARGE_STATUS = 413


class BodyLimitMiddleware:
    """Answers 413 to any HTTP request whose body exceeds ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = JSONResponse(
            {"detail": f"body: over {self.limit} bytes; nnscape's API takes small JSON documents only"},
            status_code=TOO_LARGE_STATUS,
        )
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await too_large(scope, receive, send)
            return
        received = 0
        started = refused = False

        async def counted_receive() -> Message:
            # Past the limit: answer 413 here and tell the app the client left (frameworks catch errors raised
            # while they read a body and answer 400 instead).
            nonlocal received, refused
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > self.limit and not refused:
                    refused = True
                    if not started:
                        await too_large(scope, receive, send)
            return {"type": "http.disconnect"} if refused else event

        async def tracked_send(event: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; whatever the app answers to the disconnect is dropped
            started = started or event["type"] == "http.response.start"
            await send(event)

        await self.app(scope, counted_receive, tracked_send)
