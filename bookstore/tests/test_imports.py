"""Every module of the apps imports alone, and no app's modules import each other in a circle.

Two checks. One reads the source: the graph of every import between the project's modules
(at the top of a module or inside a function, where a lazy import hides a cycle), and fails on
any cycle within an app. The other imports each module of an app alone in a fresh interpreter
(after `django.setup()`, as any entry point does), so an import that works only when some
other module happened to load first fails here.
"""

import ast
import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["accounts", "addresses", "bookstore", "cart", "catalog", "customers", "orders", "payments", "shipping"]
# Apps below the cart and orders in the layering: they import nothing of the apps above them.
LOWER_APPS = {"accounts": {"addresses", "cart", "catalog", "customers", "orders", "payments", "shipping"}}


def modules_of(app: str) -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "tests" in parts or "migrations" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project's modules that `path` imports, anywhere in it (a `from a import b` counts `a.b` if a module)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in known}


@functools.cache
def graph() -> dict[str, set[str]]:
    modules = {name: path for app in APPS for name, path in modules_of(app).items()}
    return {name: imports_of(path, set(modules)) - {name} for name, path in modules.items()}


def cycles_within(app: str, edges: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles among `app`'s modules (each found once, from its first module)."""
    nodes = sorted(name for name in edges if name.split(".")[0] == app)
    found, seen = [], set()

    def walk(node: str, path: list[str]) -> None:
        for nxt in sorted(edges[node]):
            if nxt.split(".")[0] != app:
                continue
            if nxt in path:
                cycle = path[path.index(nxt) :]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    found.append([*cycle, nxt])
            elif len(path) < 12:
                walk(nxt, [*path, nxt])

    for node in nodes:
        walk(node, [node])
    return found


@pytest.mark.parametrize("app", APPS)
def test_no_import_cycle_within_an_app(app):
    assert cycles_within(app, graph()) == []


def test_the_source_check_finds_a_lazy_cycle():
    edges = {"accounts.models": {"accounts.access"}, "accounts.access": {"accounts.models"}}
    assert cycles_within("accounts", edges) == [["accounts.access", "accounts.models", "accounts.access"]]


@pytest.mark.parametrize("app", sorted(LOWER_APPS))
def test_a_lower_app_imports_none_of_the_apps_above_it(app):
    above = {
        (module, imported)
        for module, imported_modules in graph().items()
        if module.split(".")[0] == app
        for imported in imported_modules
        if imported.split(".")[0] in LOWER_APPS[app]
    }
    assert above == set()


# One interpreter runs `django.setup()` and forks a child per module, which imports that module
# alone: each child starts from exactly the state a fresh interpreter has after `django.setup()`,
# without paying for one (about a second) per module.
IMPORT_EACH_ALONE = """
import os, sys, traceback
import django
django.setup()
failed = []
for module in sys.argv[1:]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            __import__(module)
        except BaseException:
            os.write(write, traceback.format_exc().strip().splitlines()[-1].encode())
            os._exit(1)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        error = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        print(f"{module}: {error or f'exit status {status}'}")
"""


def imports_alone(modules: list[str]) -> list[str]:
    """The modules that fail to import alone after `django.setup()`, each with its last error line."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bookstore.settings", "PYTHONPATH": str(ROOT)}
    env.setdefault("DEBUG", "1")
    run = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_ALONE, *modules],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.splitlines()


def test_the_import_check_reports_a_module_that_fails_alone():
    assert imports_alone(["json", "bookstore.no_such_module"]) == [
        "bookstore.no_such_module: ModuleNotFoundError: No module named 'bookstore.no_such_module'"
    ]


# One interpreter an app (a second for `django.setup()`): accounts in the fast tier, the rest slow.
@pytest.mark.parametrize(
    "app", [app if app == "accounts" else pytest.param(app, marks=pytest.mark.slow) for app in APPS]
)
def test_each_module_imports_alone_in_a_fresh_interpreter(app):
    assert imports_alone(sorted(modules_of(app))) == []


def test_models_import_no_cache():
    """Models are the bottom of an app: the caches read them, never the other way round (issue 12)."""
    models = {name for name in graph() if name.endswith(".models")}
    assert {(name, imported) for name in models for imported in graph()[name] if imported.endswith(".caching")} == set()
