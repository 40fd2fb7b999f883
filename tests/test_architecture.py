"""Layering: imports point down the layers, no package cycles, no HTTP or channel code in the core.

The import graph is read from the source with `ast`, function-local imports included: an
import hidden inside a function is an arrow like any other.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "guardianes"

# Top to bottom. A package may import its own layer's packages (without a cycle) and any
# layer below; never one above. Top-level modules count as packages (`app`, `cli_chat`).
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"__main__", "cli"}),  # every `cli*` module
    frozenset({"app", "runtime"}),  # the composition root
    frozenset({"api", "web", "bot"}),
    frozenset({"scheduler"}),
    frozenset({"services"}),
    frozenset({"importers", "observability"}),
    frozenset({"geo", "conversations", "storage"}),
    frozenset({"domain", "config", "locales", "guardianes"}),
)
# Arrows the layers alone would allow but the design does not: pages may use the API's
# auth and schemas, never the reverse; a channel never imports the pages, nor the
# scheduler (the composition root hands a channel what it needs, e.g. the console's
# outbox delivery).
FORBIDDEN_ARROWS = frozenset({("api", "web"), ("bot", "web"), ("bot", "scheduler")})

# KNOWN VIOLATIONS, owned by parts not merged yet; each entry must go when its part lands
# (`test_known_violations_are_still_real` fails once one is fixed, so the list shrinks).
# Empty since part 12c (the API no longer imports the web layer).
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()
# Packages whose modules import each other in a circle. conversations: the flows hand the
# conversation to each other (the menu starts a card, a finished card shows the menu), and
# an XLSForm's obligations are read by the loader and checked by the form logic.
KNOWN_MODULE_CYCLES: frozenset[str] = frozenset({"conversations"})

FORBIDDEN = {
    "conversations": (
        "aiogram",
        "aiohttp",
        "fastapi",
        "starlette",
        "httpx",
        "sqlalchemy",
        "guardianes.bot",
        "guardianes.api",
        "guardianes.web",
        "guardianes.storage",
        "guardianes.services",
    ),
    "storage": (
        "aiogram",
        "aiohttp",
        "fastapi",
        "starlette",
        "httpx",
        "guardianes.bot",
        "guardianes.api",
        "guardianes.web",
        "guardianes.services",
    ),
}


@dataclass(frozen=True, slots=True)
class Arrow:
    """One import: the importing module, the imported module."""

    source: str
    target: str


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module `path` imports, at any depth of its code, relative imports resolved."""
    module = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module:
                    yield node.module
                    # `from guardianes.x import y` may import the module `guardianes.x.y`.
                    yield from (f"{node.module}.{alias.name}" for alias in node.names)
                continue
            base = module.split(".")
            if path.name != "__init__.py":
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)]
            prefix = ".".join([*base, node.module] if node.module else base)
            yield prefix
            yield from (f"{prefix}.{alias.name}" for alias in node.names)


@cache
def _modules() -> frozenset[str]:
    return frozenset(_module_name(p) for p in PACKAGE.rglob("*.py"))


@cache
def _arrows() -> tuple[Arrow, ...]:
    """Imports between guardianes modules (targets narrowed to modules that exist)."""
    modules = _modules()
    arrows = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _module_name(path)
        for target in _imports(path):
            if target in modules and target != source:
                arrows.add(Arrow(source, target))
    return tuple(sorted(arrows, key=lambda a: (a.source, a.target)))


def package_of(module: str) -> str:
    """`guardianes.bot.telegram.parse` -> `bot`; top-level modules are their own package."""
    parts = module.split(".")
    if len(parts) == 1:
        return "guardianes"
    return "cli" if parts[1].startswith("cli") else parts[1]


def layer_of(package: str) -> int:
    """The package's layer, 0 at the top."""
    for index, layer in enumerate(LAYERS):
        if package in layer:
            return index
    raise KeyError(package)


def _package_arrows() -> dict[tuple[str, str], list[Arrow]]:
    arrows: dict[tuple[str, str], list[Arrow]] = defaultdict(list)
    for arrow in _arrows():
        edge = (package_of(arrow.source), package_of(arrow.target))
        if edge[0] != edge[1]:
            arrows[edge].append(arrow)
    return arrows


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's components with more than one node (the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_package_has_a_layer() -> None:
    unplaced = set()
    for module in _modules():
        try:
            layer_of(package_of(module))
        except KeyError:
            unplaced.add(package_of(module))
    assert unplaced == set(), "add new packages to LAYERS"


def test_no_import_points_up_the_layers() -> None:
    upward = []
    for (source, target), arrows in sorted(_package_arrows().items()):
        if (source, target) in KNOWN_VIOLATIONS:
            continue
        if layer_of(target) < layer_of(source) or (source, target) in FORBIDDEN_ARROWS:
            upward += [f"{a.source} -> {a.target}" for a in arrows]
    assert upward == []


def test_no_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in _package_arrows():
        if (source, target) not in KNOWN_VIOLATIONS:
            graph[source].add(target)
    assert _strongly_connected(graph) == []


def _module_cycles() -> list[set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for arrow in _arrows():
        # A package's __init__ is imported on the way to its modules: not an arrow back.
        if not arrow.source.startswith(arrow.target + "."):
            graph[arrow.source].add(arrow.target)
    return _strongly_connected(graph)


def _cycle_package(cycle: set[str]) -> str | None:
    """The one package a module cycle lies in (None when it spans packages)."""
    packages = {package_of(module) for module in cycle}
    return packages.pop() if len(packages) == 1 else None


def test_no_cycle_between_modules() -> None:
    cycles = [sorted(c) for c in _module_cycles() if _cycle_package(c) not in KNOWN_MODULE_CYCLES]
    assert cycles == []


def test_known_violations_are_still_real() -> None:
    """An allowlisted arrow that is gone must leave the list (so it cannot come back)."""
    assert set(_package_arrows()) >= KNOWN_VIOLATIONS
    assert {_cycle_package(c) for c in _module_cycles()} >= KNOWN_MODULE_CYCLES


def test_the_graph_sees_function_local_imports() -> None:
    # The web routers import the API inside a function: it must count.
    assert ("web", "api") in _package_arrows()


def test_channels_open_no_transaction() -> None:
    """A channel stores and reads through services functions that own the unit of work."""
    opening = sorted(
        arrow.source
        for arrow in _arrows()
        if package_of(arrow.source) == "bot" and arrow.target == "guardianes.storage.db"
    )
    assert opening == []


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_layer_imports_no_forbidden_library(folder: str) -> None:
    offenders = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for module in _imports(path):
            if any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN[folder]):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert sorted(set(offenders)) == []
