"""Every listener the page wires to a Python handler names its endpoint (api_name), so renaming
a function never renames a public endpoint of the page's API."""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[3] / "studio" / "ui"
EVENTS = {"click", "change", "input", "submit", "select", "blur", "load", "tick", "then", "upload"}


def _dict_literals(tree: ast.AST) -> dict[str, set[str]]:
    """name -> the keys of a `name = dict(...)` in the module (listener arguments kept apart)."""
    found = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "dict"
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = {k.arg for k in node.value.keywords}
    return found


def listeners_without_a_name(root: Path) -> list[str]:
    missing = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        dicts = _dict_literals(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            on = node.func.attr == "on" and getattr(node.func.value, "id", "") == "gr"
            if node.func.attr not in EVENTS and not on:
                continue
            keys = {k.arg for k in node.keywords if k.arg}
            for k in node.keywords:
                if k.arg is None and isinstance(k.value, ast.Name):
                    keys |= dicts.get(k.value.id, set())
            handler = node.args[1 if on else 0] if len(node.args) > (1 if on else 0) else None
            if "fn" in keys or (handler is not None and not _is_none(handler)):
                if "api_name" not in keys:
                    missing.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return missing


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def test_every_listener_names_its_endpoint():
    assert listeners_without_a_name(UI) == []


def test_the_check_sees_a_listener_without_a_name(tmp_path):
    (tmp_path / "tab.py").write_text(
        "quiet = dict(queue=False)\n"
        "button.click(handler, [a], [b], api_name='named')\n"
        "box.change(handler, [a], [b], **quiet)\n"
        "box.change(None, js='() => 1')\n"
    )
    assert listeners_without_a_name(tmp_path) == [f"{tmp_path.name}/tab.py:3"]
