"""Read a /v1 request's body within the size limit.

    raw = await read_body(request)   # APIError 413 past MAX_BODY_BYTES, 400 for a bad length

A body that declares more than the limit (Content-Length) is refused before a byte of it is
read; one without a length (chunked) is read until it passes the limit, then refused, so a
200 MB body never costs the server more than the limit.
"""

from __future__ import annotations

from studio.api.request import MAX_BODY_BYTES, APIError


def _too_big() -> APIError:
    return APIError(413, f"The request body is over {MAX_BODY_BYTES // 2**20} MB.")


async def read_body(request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body's bytes, read no further than `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise APIError(400, "The request's Content-Length is not a number.")
        if int(declared) > limit:
            raise _too_big()
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _too_big()
    return bytes(body)
