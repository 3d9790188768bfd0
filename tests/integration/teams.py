"""Raw calls the team tests make to a shared studio (tests/integration/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import httpx


def raw_call(url, key, api_name, data):
    """POST /gradio_api/call/<api_name> the way a hand-written client would; returns the
    event stream's text (its 'event: error' carries the refusal)."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        r = http.post(f"/gradio_api/call/{api_name}", json={"data": data})
        r.raise_for_status()
        event = r.json()["event_id"]
        return http.get(f"/gradio_api/call/{api_name}/{event}").text


def file_data(path) -> dict:
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}, "orig_name": Path(path).name}
