"""What the Apps tab shows: the apps table, the current-app note, the activity log."""

from __future__ import annotations

import datetime as dt

TABLE_HEADERS = ["Name", "Description", "Created"]
ACTIVITY_HEADERS = ["When", "Who", "What", "Details"]


def when(ts: float) -> str:
    """A row's time as the tables show it (local time, to the minute)."""
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def app_rows(apps: list[dict]) -> list[list]:
    """One [name, description, created] row per app."""
    return [[a["name"], a["description"], when(a["created_at"])] for a in apps]


def current_note(apps: list[dict], current: str | None) -> str:
    """The line above the chooser: which app is current, or how to get one."""
    name = next((a["name"] for a in apps if a["id"] == current), "")
    return f"Current app: **{name}**" if current else "No app chosen yet: create or choose one."


def log_rows(entries: list[dict]) -> list[list]:
    """One [when, who, what, details] row per activity entry, in the order given."""
    return [[when(e["created_at"]), e["user"], e["action"], e["detail"]] for e in entries]
