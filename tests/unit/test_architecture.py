"""The package walls of ARCHITECTURE.md, checked on the code itself.

Every import counts, module-level or inside a function: a lazy import still ties two packages
together, it only hides the loop until the call."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STUDIO = ROOT / "studio"


def _package_of(path: Path, root: Path) -> str:
    """`studio/data/readers.py` -> "data"; `studio/errors.py` -> "errors"."""
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else Path(parts[0]).stem


def _imported_modules(path: Path, root: Path) -> list[str]:
    """Absolute dotted names of every studio module `path` imports (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = ("studio", *path.relative_to(root).with_suffix("").parts)
    if path.name == "__init__.py":  # a package's own module: `.` is the package itself
        here = (*here[:-1], "")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level]
                module = ".".join((*base, *(node.module.split(".") if node.module else ())))
            else:
                module = node.module or ""
            found.append(module)
            found += [f"{module}.{alias.name}" for alias in node.names]
    return found


def package_edges(root: Path) -> dict[str, set[str]]:
    """package -> the other studio packages it imports."""
    edges: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        pkg = _package_of(path, root)
        for module in _imported_modules(path, root):
            parts = module.split(".")
            if parts[0] != "studio" or len(parts) < 2:
                continue
            target = parts[1]
            if target != pkg and ((root / target).is_dir() or (root / f"{target}.py").exists()):
                edges.setdefault(pkg, set()).add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of two or more packages (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(set(edges) | {n for targets in edges.values() for n in targets}):
        if node not in index:
            visit(node)
    return sorted(groups)


def _path_through(edges: dict[str, set[str]], group: list[str]) -> str:
    """One readable loop inside a group, e.g. "data -> prompts -> data"."""
    start = group[0]
    seen = [start]
    node = start
    while True:
        nxt = sorted(t for t in edges.get(node, ()) if t in group)
        back = [t for t in nxt if t == start]
        step = back[0] if back and len(seen) > 1 else next((t for t in nxt if t not in seen), None)
        if step is None or step == start:
            return " -> ".join([*seen, start])
        seen.append(step)
        node = step


def gradio_outside_ui(root: Path) -> list[str]:
    """Files below studio/ (outside studio/ui/) that import gradio."""
    bad = []
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] == "ui":
            continue
        if any(m.split(".")[0] == "gradio" for m in _imported_modules(path, root)):
            bad.append(str(path.relative_to(root.parent)))
    return bad


def test_no_import_loops_between_packages():
    edges = package_edges(STUDIO)
    loops = [_path_through(edges, group) for group in cycles(edges)]
    assert not loops, "packages import each other (see ARCHITECTURE.md):\n" + "\n".join(loops)


# ARCHITECTURE.md's drawing, top to bottom: a package may import only groups below its own.
LAYERS = [
    {"ui"},
    {"api"},
    {"signin"},
    {"users"},
    {"train", "evaluate", "download"},
    {"generate", "export"},
    {"scoring"},
    {"jobs"},
    {"data"},
    {"configs"},
    {"templates"},
    {"prompts"},
    {"models"},
    {"store"},
    {"vocab", "errors", "settings", "jsonsafe", "csvsafe"},
]


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    """Edges that point to a package drawn above (or beside) the importer, or to one the
    drawing does not name."""
    rank = {pkg: i for i, group in enumerate(LAYERS) for pkg in group}
    bad = []
    for pkg, targets in sorted(edges.items()):
        for target in sorted(targets):
            if pkg not in rank or target not in rank or rank[target] <= rank[pkg]:
                bad.append(f"{pkg} -> {target}")
    return bad


def test_imports_run_downwards_as_drawn_in_architecture_md():
    assert upward_imports(package_edges(STUDIO)) == []


def test_gradio_is_imported_only_under_studio_ui():
    assert gradio_outside_ui(STUDIO) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "studio"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_checker_sees_a_loop_hidden_in_a_function(tmp_path):
    root = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "errors.py": "",
            "data/__init__.py": "from studio.errors import StudioError\n",
            "data/rows.py": "def f():\n    from studio.prompts.layout import render\n",
            "prompts/__init__.py": "",
            "prompts/layout.py": "from ..data import rows\n",
            "ui/__init__.py": "import gradio as gr\n",
            "jobs/run.py": "def g():\n    import gradio\n",
        },
    )
    edges = package_edges(root)
    assert edges["data"] == {"errors", "prompts"}
    assert edges["prompts"] == {"data"}
    assert cycles(edges) == [["data", "prompts"]]
    assert _path_through(edges, ["data", "prompts"]) == "data -> prompts -> data"
    assert gradio_outside_ui(root) == ["studio/jobs/run.py"]
    assert upward_imports(edges) == ["prompts -> data"]  # data is drawn above prompts


def test_the_checker_passes_a_tree_without_loops(tmp_path):
    root = _tree(
        tmp_path,
        {
            "errors.py": "",
            "data/rows.py": "from studio.errors import StudioError\n",
            "train/loop.py": "from studio.data import rows\nfrom studio import errors\n",
        },
    )
    edges = package_edges(root)
    assert edges == {"data": {"errors"}, "train": {"data", "errors"}}
    assert cycles(edges) == []
