"""The package's layers, as the folders show them, hold in the code: imports run one way only.

Every import is counted, also those inside functions (a lazy import must not hide a circle), and
the layer order is the one README.md and docs/architecture.md draw:

    common → form → reader → consolidate → template, master → excel, web → cli
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lagesrapport_xl"

RANK = {
    "common": 0,
    "form": 1,
    "reader": 2,
    "consolidate": 3,
    "template": 4,
    "master": 4,
    "excel": 5,
    "web": 5,
    "cli": 6,
}
# Compatibility names the docs promise (lagesrapport_xl.spec, .exports, .safety, .register): they
# import from the layers; nothing inside the package may import them.
SHIMS = {"spec", "exports", "safety", "register"}
TOP = {"__init__", "__main__"}
TEST_ONLY = {"pytest", "hypothesis", "selenium", "msoffcrypto", "httpx", "httpx2", "lagesrapport_dev", "tests"}
OPTIONAL = {"xlwings": {"excel"}, "starlette": {"web"}, "uvicorn": {"web", "cli"}, "jinja2": {"web"}, "multipart": {"web"}}
LONG = 500
# Left from the flat package, being taken apart (issue 18); each entry goes when its module is split.
NOT_YET_SPLIT: set[str] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every module this file imports (absolute names), with the line, including imports in functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # `from . import x`: x may be a module of that package
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                if _exists(candidate):
                    found.append((candidate, node.lineno))
    return found


def _exists(module: str) -> bool:
    if not module.startswith("lagesrapport_xl"):
        return False
    path = ROOT / module.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "lagesrapport_xl" or len(parts) == 1:
        return None
    return parts[1]


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_layer() -> None:
    strays = [
        str(p.relative_to(ROOT)) for p in MODULES
        if _layer(_module_name(p)) not in RANK and p.stem not in SHIMS | TOP
    ]
    assert strays == [], "modules outside every layer: " + ", ".join(strays)


def test_imports_run_one_way_only() -> None:
    wrong = []
    for path in MODULES:
        me = _module_name(path)
        mine = _layer(me)
        if mine not in RANK:
            continue
        for target, line in _imports(path):
            theirs = _layer(target)
            if target.startswith("lagesrapport_xl") and theirs in SHIMS:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports the compatibility name {target}")
            elif theirs in RANK and theirs != mine and RANK[theirs] >= RANK[mine]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({mine}) imports {target} ({theirs})")
            elif target == "lagesrapport_xl" and mine != "cli":
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports the package's top, not a layer")
    assert wrong == [], "\n".join(wrong)


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        me = _module_name(path)
        edges = graph.setdefault(me, set())
        for target, _line in _imports(path):
            if _exists(target) and target != me:
                edges.add(target)
    return graph


def test_no_module_imports_in_a_circle() -> None:
    """Also not through a function-level import, and not through a package's __init__ (a package
    re-exporting its own modules is no circle: the edge package → own module is left out)."""
    graph = _graph()
    for module, edges in graph.items():
        graph[module] = {t for t in edges if not t.startswith(module + ".")}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert circles == [], f"modules that import each other in a circle: {circles}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_package_imports_no_test_tool_and_optional_libraries_only_in_their_layer(path: Path) -> None:
    layer = _layer(_module_name(path))
    for target, line in _imports(path):
        top = target.split(".")[0]
        assert top not in TEST_ONLY, f"{path.relative_to(ROOT)}:{line} imports the test tool {target}"
        if top in OPTIONAL:
            assert layer in OPTIONAL[top], f"{path.relative_to(ROOT)}:{line} imports {target} outside {OPTIONAL[top]}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_long_module_says_why_in_its_docstring(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    if lines <= LONG or str(path.relative_to(ROOT)) in NOT_YET_SPLIT:
        return
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert "Size:" in doc, f"{path.relative_to(ROOT)} has {lines} lines and no 'Size:' paragraph saying why"


def test_every_layer_says_what_it_owns_and_may_import() -> None:
    for layer in RANK:
        doc = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text(encoding="utf-8"))) or ""
        assert len(doc) > 80 and "import" in doc.lower(), f"{layer}/__init__.py: say what it owns and imports"


def test_the_wheel_holds_the_package_alone() -> None:
    """`pip install .` installs lagesrapport_xl only: the development tools stay in the repository."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'include = ["lagesrapport_xl*"]' in text
    assert (ROOT / "lagesrapport_dev" / "__init__.py").is_file()
    import tomllib

    project = tomllib.loads(text)["project"]
    runtime = " ".join(project["dependencies"]).lower()
    assert not any(tool in runtime for tool in ("pytest", "hypothesis", "selenium", "msoffcrypto", "httpx"))


def test_the_version_is_pyprojects() -> None:
    import tomllib

    from lagesrapport_xl import __version__

    assert tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"] == __version__


def test_the_public_names_keep_working() -> None:
    """What the README, the docs and RAR's existing workbooks import, by the paths they use."""
    import importlib

    promised = {
        "lagesrapport_xl.reader": ["read_report", "ReadResult"],
        "lagesrapport_xl.consolidate": ["consolidate", "Consolidation", "FileOutcome", "InputError", "Status"],
        "lagesrapport_xl.master": ["write_master"],
        "lagesrapport_xl.template": ["write_template"],
        "lagesrapport_xl.excel": ["validera", "validera_script", "sammanstall", "validate_book", "check_book"],
        "lagesrapport_xl.spec": ["FormSpec", "default_spec", "load_spec"],
        "lagesrapport_xl.exports": ["write_csv", "write_json"],
        "lagesrapport_xl.safety": ["inspect_file", "Limits", "DEFAULT_LIMITS"],
        "lagesrapport_xl.register": ["read_register", "write_prefilled_templates", "write_register_workbook"],
        "lagesrapport_xl": ["FormSpec", "default_spec", "load_spec", "write_template", "__version__"],
    }
    missing = [f"{module}.{name}" for module, names in promised.items() for name in names
               if not hasattr(importlib.import_module(module), name)]
    assert missing == []
