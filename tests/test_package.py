"""The package as a whole: logging left as found, no import cycle, light to import, ``python -m uqms``."""

import ast
import subprocess
import sys
from pathlib import Path

import uqms
from tests.conftest import REPO

PACKAGE = Path(uqms.__file__).parent
HEAVY = ("chaospy", "scipy.stats", "xarray", "dask", "distributed", "pandas", "zarr", "matplotlib", "pint")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)


def test_uqms_warnings_reach_stderr_after_chaospy_is_imported():
    code = (
        "import logging\n"
        "from uqms._chaospy import chaospy\n"
        "logging.getLogger('uqms').warning('batch 0:10 failed')\n"
        "print(logging.getLogger().level, len(logging.getLogger().handlers))\n"
    )
    out = _run(code)
    assert "batch 0:10 failed" in out.stderr  # not sent to /dev/null by chaospy's basicConfig
    assert out.stdout.split() == ["30", "0"]  # root back at WARNING, with no handler of chaospy's


def test_a_configured_root_logger_is_left_alone():
    code = (
        "import logging\n"
        "logging.basicConfig(level=logging.INFO, stream=__import__('sys').stdout, format='%(message)s')\n"
        "from uqms._chaospy import chaospy\n"
        "logging.getLogger('uqms').info('kept')\n"
    )
    assert _run(code).stdout.strip() == "kept"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_at_import_time(tree: ast.Module) -> set[str]:
    """Modules a module imports when it is imported (not those imported inside functions)."""
    found = set()
    for top in tree.body:
        if isinstance(top, ast.If) and ast.unparse(top.test) == "TYPE_CHECKING":
            continue
        for node in ast.walk(top) if isinstance(top, (ast.If, ast.Try)) else [top]:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _import_graph() -> dict[str, set[str]]:
    trees = {_module_name(p): ast.parse(p.read_text()) for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, tree in trees.items():
        targets = set()
        for imported in _imports_at_import_time(tree):
            parts = imported.split(".")
            targets.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))  # a.b.c imports a, a.b
        graph[name] = {t for t in targets if t in trees and t != name and not name.startswith(t + ".")}
    return graph


def test_no_import_cycle():
    graph = _import_graph()
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            assert state.get(target) != 1, f"import cycle: {' -> '.join(path[path.index(target):] + [target])}"
            if target not in state:
                visit(target, path + [target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_chemistry_is_a_leaf_package():
    """Mechanisms and thermochemistry import no stage package: every scale builds on them."""
    graph = _import_graph()
    outside = {t for name, targets in graph.items() if name.startswith("uqms.chemistry") for t in targets
               if not t.startswith("uqms.chemistry")}
    assert outside <= {"uqms", "uqms.config", "uqms.errors"}


def test_stage_packages_do_not_import_each_other_in_a_cycle():
    """Package level (``uqms.models.energetics`` -> ``uqms.models.microkinetics`` and back was one)."""
    packages: dict[str, set[str]] = {}
    for name, targets in _import_graph().items():
        package = ".".join(name.split(".")[:3])
        packages.setdefault(package, set()).update(".".join(t.split(".")[:3]) for t in targets)
    for package, targets in packages.items():
        for target in targets - {package}:
            assert package not in packages.get(target, set()), f"{package} <-> {target}"


def test_the_registry_is_a_leaf():
    assert _import_graph()["uqms.models.registry"] <= {"uqms", "uqms.models", "uqms.models.stage", "uqms.errors"}


def test_chaospy_is_imported_only_through_uqms_chaospy():
    direct = [_module_name(p) for p in PACKAGE.rglob("*.py")
              if "chaospy" in _imports_at_import_time(ast.parse(p.read_text()))]
    assert direct == ["uqms._chaospy"]


def test_every_module_imports_in_a_fresh_interpreter():
    names = sorted(_import_graph())
    code = "import importlib\n" + "".join(f"importlib.import_module({n!r})\n" for n in names)
    _run(code)


def test_the_command_and_validation_import_nothing_heavy():
    flow = REPO / "workflows" / "ishigami.toml"
    code = ("import sys\nfrom uqms.cli import app\n"
            f"app(['validate', {str(flow)!r}], standalone_mode=False)\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    assert _run(code).stdout.strip().splitlines()[-1] == "[]"


def test_python_dash_m_uqms_and_version():
    out = subprocess.run([sys.executable, "-m", "uqms", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"uqms {uqms.__version__}"
    assert (PACKAGE / "py.typed").exists()
