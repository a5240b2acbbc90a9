"""The room map, enforced: which room may import which, which libraries each room uses, no cycles.

Every import of the production code is read (also those inside functions: a lazy import is still
an edge) and checked against ``docs/architecture.md``, whose table of rooms is the single
statement of the allowed edges: the test parses it, so the map and the code cannot drift apart.
Rooms are listed bottom-up and a room may import only rooms listed before it, so no production
module imports a room above it; module-level cycles are refused as well, and every third-party
library a room imports must be declared in ``pyproject.toml``.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections import defaultdict
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
_ROW = re.compile(r"^\| `(?P<room>\w+)` \| (?P<rooms>[^|]*) \| (?P<libraries>[^|]*) \|")


def _names(cell: str) -> set[str]:
    return {name.strip(" `") for name in cell.split(",") if name.strip(" `—-")}


def allowed_map() -> dict[str, tuple[set[str], set[str]]]:
    """Room → (rooms it may import, third-party libraries it may import), in the document's order."""
    rows: dict[str, tuple[set[str], set[str]]] = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        if match := _ROW.match(line):
            rows[match["room"]] = (_names(match["rooms"]), _names(match["libraries"]))
    return rows


ALLOWED = allowed_map()
ROOMS = list(ALLOWED)


def _modules(room: str) -> dict[str, Path]:
    return {
        "kim_hub." + ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for path in sorted((ROOT / room).rglob("*.py"))
        if "migrations" not in path.parts
    }


def _imports(path: Path) -> list[str]:
    """Every module name this file imports, at any depth of the file (absolute imports only)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.relative_to(ROOT)}: relative import; write from kim_hub.<room> import …"
            module = node.module or ""
            found += (
                [f"{module}.{alias.name}" for alias in node.names]
                if module in {"kim_hub", *(f"kim_hub.{r}" for r in ROOMS)}
                else [module]
            )
    return found


MODULES = {module: path for room in ROOMS for module, path in _modules(room).items()}
IMPORTS = {module: _imports(path) for module, path in MODULES.items()}


def _room_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "kim_hub" and len(parts) > 1 and parts[1] in ALLOWED else None


def test_the_map_lists_every_room_and_only_rooms_below_each() -> None:
    folders = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert set(ROOMS) == folders, "docs/architecture.md must list every installed room"
    for position, room in enumerate(ROOMS):
        assert ALLOWED[room][0] <= set(ROOMS[:position]), f"{room} may only import rooms listed before it"


@pytest.mark.parametrize("room", ROOMS)
def test_a_room_imports_only_the_rooms_the_map_allows(room: str) -> None:
    forbidden = {
        f"{module} imports {name}"
        for module, names in IMPORTS.items()
        if _room_of(module) == room
        for name in names
        if (target := _room_of(name)) not in (None, room) and target not in ALLOWED[room][0]
    }
    assert not forbidden, "\n".join(sorted(forbidden))


@pytest.mark.parametrize("room", ROOMS)
def test_a_room_uses_only_its_own_libraries(room: str) -> None:
    used = {
        name.split(".")[0]
        for module, names in IMPORTS.items()
        if _room_of(module) == room
        for name in names
        if name.split(".")[0] not in {"kim_hub", "__future__", *sys.stdlib_module_names}
    }
    assert used <= ALLOWED[room][1], f"{room} imports {sorted(used - ALLOWED[room][1])}, not in docs/architecture.md"


def test_no_import_names_a_room_without_the_package() -> None:
    bare = {f"{module} imports {name}" for module, names in IMPORTS.items() for name in names if name.split(".")[0] in ALLOWED}
    assert not bare, "\n".join(sorted(bare))


def test_no_import_cycles_between_modules() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, names in IMPORTS.items():
        for name in names:
            target = name if name in MODULES else name.rpartition(".")[0]
            if target in MODULES and target != module and not module.startswith(target + "."):
                graph[module].add(target)
    cycles = [component for component in _strongly_connected(graph) if len(component) > 1]
    assert not cycles, f"import cycles: {cycles}"


def test_every_library_is_a_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {
        re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-") for requirement in project["dependencies"]
    }
    distributions = packages_distributions()
    for room, (_rooms, libraries) in ALLOWED.items():
        for library in libraries:
            names = {d.lower().replace("_", "-") for d in distributions.get(library, [library])}
            assert names & declared, f"{room} uses {library}, which pyproject.toml does not declare"


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (the module graph is deep enough to matter)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for start in list(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return components
