"""/v1 refuses a body over the limit by its Content-Length before reading it, and stops
reading a body without one (chunked) as soon as it passes the limit."""

from __future__ import annotations

import pytest

from studio.api.body import read_body
from studio.api.request import MAX_BODY_BYTES, APIError
from tests.helpers import run_coroutine

CHUNK = 1 << 20


class FakeRequest:
    """What read_body uses of a Starlette request: headers and the body stream."""

    def __init__(self, total: int, declared: int | None):
        self.headers = {} if declared is None else {"content-length": str(declared)}
        self.total, self.sent = total, 0

    async def stream(self):
        while self.sent < self.total:
            self.sent += CHUNK
            yield b"x" * CHUNK


def _read(request):
    return run_coroutine(read_body(request))


def test_a_declared_length_over_the_limit_is_refused_before_reading():
    request = FakeRequest(200 * CHUNK, declared=200 * CHUNK)
    with pytest.raises(APIError) as err:
        _read(request)
    assert err.value.status == 413 and request.sent == 0


def test_a_chunked_body_stops_being_read_past_the_limit():
    request = FakeRequest(200 * CHUNK, declared=None)
    with pytest.raises(APIError) as err:
        _read(request)
    assert err.value.status == 413 and request.sent <= MAX_BODY_BYTES + CHUNK


def test_a_body_under_the_limit_is_read_whole():
    assert len(_read(FakeRequest(2 * CHUNK, declared=2 * CHUNK))) == 2 * CHUNK
    with pytest.raises(APIError) as err:  # a length that is not a number
        _read(_bad_length())
    assert err.value.status == 400


def _bad_length():
    request = FakeRequest(CHUNK, declared=None)
    request.headers = {"content-length": "lots"}
    return request
