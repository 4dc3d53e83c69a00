"""The layout's rules: imports point one way, folders say what they hold, modules stay small.

1. No import circle among the modules of ``engine/``, ``gateways/`` and ``backtesting/``. Every
   import statement counts: inside functions, under ``if TYPE_CHECKING:``, relative ones. Importing
   a package counts as importing its ``__init__``; ``from package import name`` counts as importing
   the submodule ``name`` when there is one.
2. ``engine/`` never imports ``gateways`` or ``backtesting``.
3. Every private folder ``engine/_*/`` has an ``__init__.py`` with a docstring (what lives there and
   what it may import).
4. No module of the three packages is longer than 450 lines.
5. ``engine/`` holds at most 20 modules at its top level (its ``__init__`` not counted).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "gateways", "backtesting", "daemon")
MAX_LINES = 450
MAX_TOP_LEVEL_MODULES = 20

# -- reading the source ------------------------------------------------------------------------


def module_files(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Every module of the packages by dotted name; a package's ``__init__`` goes by the package's."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, modules: Iterable[str] = ()) -> Iterator[str]:
    """The absolute dotted names that the module ``name`` imports, from every import statement.

    ``from package import name`` names the submodule ``package.name`` when ``modules`` holds it,
    and otherwise the package itself (its ``__init__``).
    """
    known = set(modules)
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # A package's own __init__ is the anchor of its ``from . import x``.
                parts = name.split(".")
                anchor = parts[: len(parts) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in known else base


def import_graph(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    """Which of the packages' modules each module imports (a package stands for its ``__init__``)."""
    modules = module_files(root, packages)
    return {
        name: {target for target in imported_modules(name, path, modules) if target in modules}
        for name, path in modules.items()
    }


def circle_edges(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """The imports that lie on a circle: both ends in one strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    component: dict[str, int] = {}

    def visit(start: str) -> None:
        # Tarjan's algorithm, iteratively, so a deep graph cannot hit the recursion limit.
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component[member] = index[node]
                        if member == node:
                            break

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return {
        (source, target)
        for source, targets in graph.items()
        for target in targets
        if source == target or component[source] == component[target]
    }


# -- the rules, each a list of violations --------------------------------------------------------


def import_circles(root: Path) -> set[str]:
    return {f"import circle: {a} imports {b}" for a, b in circle_edges(import_graph(root))}


def engine_imports_outside(root: Path) -> set[str]:
    found = set()
    for name, path in module_files(root, ["engine"]).items():
        for target in imported_modules(name, path):
            if target.split(".")[0] in {"gateways", "backtesting"}:
                found.add(f"engine imports {target.split('.')[0]}: {path.relative_to(root).as_posix()}")
    return found


def undocumented_private_folders(root: Path) -> set[str]:
    found = set()
    for folder in sorted(p for p in (root / "engine").glob("_*") if p.is_dir() and p.name != "__pycache__"):
        init = folder / "__init__.py"
        if not init.is_file() or not ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))):
            found.add(f"no package docstring: {init.relative_to(root).as_posix()}")
    return found


def long_modules(root: Path) -> set[str]:
    return {
        f"over {MAX_LINES} lines: {path.relative_to(root).as_posix()}"
        for path in module_files(root).values()
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    }


def crowded_engine_top(root: Path) -> set[str]:
    top = [p for p in (root / "engine").glob("*.py") if p.name != "__init__.py"]
    if len(top) > MAX_TOP_LEVEL_MODULES:
        return {f"over {MAX_TOP_LEVEL_MODULES} top-level modules: engine"}
    return set()


RULES = [
    import_circles, engine_imports_outside, undocumented_private_folders, long_modules, crowded_engine_top
]


# -- the rules hold for the code ------------------------------------------------------------------


def test_no_import_circle_among_the_packages_modules() -> None:
    assert sorted(import_circles(ROOT)) == []


def test_the_engine_never_imports_a_gateway_or_the_backtesting_package() -> None:
    assert sorted(engine_imports_outside(ROOT)) == []


def test_every_private_engine_folder_says_in_its_docstring_what_lives_there() -> None:
    assert sorted(undocumented_private_folders(ROOT)) == []


def test_no_module_is_longer_than_450_lines() -> None:
    assert sorted(long_modules(ROOT)) == []


def test_the_engine_top_level_holds_at_most_20_modules() -> None:
    assert sorted(crowded_engine_top(ROOT)) == []


# -- the checks find what they look for ----------------------------------------------------------


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_circle_hidden_in_a_function_under_type_checking_or_relative_is_found(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "engine/__init__.py": '"""Front."""\nfrom engine.a import A\n',
            "engine/a.py": "def load():\n    from engine import b\n    return b\n",
            "engine/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ._sub.c import C\n",
            "engine/_sub/__init__.py": '"""Sub."""\n',
            "engine/_sub/c.py": "from .. import a\n",
            "engine/d.py": "import engine.a\n",
        },
    )
    assert circle_edges(import_graph(root, ["engine"])) == {
        ("engine.a", "engine.b"),
        ("engine.b", "engine._sub.c"),
        ("engine._sub.c", "engine.a"),
    }


def test_importing_a_name_from_a_package_counts_as_importing_its_init(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "backtesting/__init__.py": "from backtesting.result import Result\n",
            "backtesting/result.py": "from backtesting import Result as Again\n",
        },
    )
    assert import_circles(root) == {
        "import circle: backtesting imports backtesting.result",
        "import circle: backtesting.result imports backtesting",
    }


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"engine/x.py": "def f():\n    import gateways.venue\n"}, "engine imports gateways: engine/x.py"),
        ({"engine/_p/__init__.py": "X = 1\n"}, "no package docstring: engine/_p/__init__.py"),
        ({"engine/_p/y.py": "Y = 1\n"}, "no package docstring: engine/_p/__init__.py"),
        ({"engine/z.py": "\n" * 451}, "over 450 lines: engine/z.py"),
        ({f"engine/m{i}.py": "" for i in range(21)}, "over 20 top-level modules: engine"),
    ],
)
def test_each_rule_reports_what_breaks_it(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    root = write_tree(tmp_path, {"engine/__init__.py": '"""Front."""\n', **files})
    (root / "gateways").mkdir()
    (root / "backtesting").mkdir()
    assert expected in set().union(*(rule(root) for rule in RULES))
