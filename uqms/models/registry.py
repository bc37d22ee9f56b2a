"""Find stages by a registered name or an import path ``package.module:object``.

Names are registered through entry points of the group ``uqms.stages``, declared by
uqms itself and by any installed package (``pyproject.toml``)::

    [project.entry-points."uqms.stages"]
    "kinetics.first_order" = "mykinetics.stages:FirstOrderConversion"

Only the entry point of the name asked for is loaded (imported), the way xarray finds
its backends. A name declared by two installed packages is refused, naming both.

What a workflow file may import: resolving a name imports and calls only the object a
``uqms.stages`` entry point of an installed package declares; an import path may name a
module beside the workflow file (``module.py`` or a package in its folder) or of a package
that registers uqms stages (uqms itself, installed plugins). Any other module (``os``,
``shutil``, a package that happens to be installed) is refused before it is imported,
unless the user trusts it explicitly: ``uqms --allow-import PACKAGE ...`` or the
environment variable ``UQMS_ALLOW_IMPORT`` (comma-separated top-level packages, ``*`` for
any). So validating a workflow file from elsewhere never runs code the user has not chosen.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from uqms.models.stage import Stage

GROUP = "uqms.stages"
ALLOW_IMPORT = "UQMS_ALLOW_IMPORT"  # environment variable: top-level packages a workflow file may import from


def stage_entry_points() -> dict[str, list[EntryPoint]]:
    """Every registered name and the entry points declaring it (more than one: a clash).

    Read from the installed packages' metadata each time (cheap, nothing imported), so a
    package installed or put on ``sys.path`` while running is seen.
    """
    found: dict[str, list[EntryPoint]] = {}
    for point in entry_points(group=GROUP):
        declared = found.setdefault(point.name, [])
        if all(point.value != other.value for other in declared):
            declared.append(point)
    return found


def registered_stages() -> list[str]:
    """The names a workflow file may give as ``stage = "NAME"``."""
    return sorted(stage_entry_points())


def _declared_by(point: EntryPoint) -> str:
    package = point.dist.name if point.dist is not None else "?"
    return f"package {package!r} ({point.value})"


def _registered(name: str) -> Any:
    """Load the object registered as ``name``."""
    declared = stage_entry_points()
    if name not in declared:
        raise LookupError(f"no stage registered as {name!r}; known: {sorted(declared)}")
    points = declared[name]
    if len(points) > 1:
        raise LookupError(
            f"stage name {name!r} is registered by more than one package: "
            + ", ".join(_declared_by(p) for p in points) + "; uninstall one or name the stage by its import path"
        )
    try:
        return points[0].load()
    except (ImportError, AttributeError) as error:
        raise LookupError(f"stage {name!r} of {_declared_by(points[0])} cannot be loaded: {error}") from error


def _beside(top: str, folder: str | Path | None) -> bool:
    """Whether a module or package named ``top`` lies in ``folder``."""
    return folder is not None and ((Path(folder) / f"{top}.py").is_file() or (Path(folder) / top / "__init__.py").is_file())


def importable(top: str, folder: str | Path | None) -> bool:
    """Whether a workflow file (in ``folder``) may import the top-level package ``top`` (see the module docstring)."""
    trusted = {name.strip() for name in os.environ.get(ALLOW_IMPORT, "").split(",") if name.strip()}
    plugins = {point.value.partition(":")[0].partition(".")[0] for points in stage_entry_points().values() for point in points}
    return "*" in trusted or top in trusted or top in plugins or _beside(top, folder)


def _imported(reference: str, folder: str | Path | None) -> Any:
    """The object of an import path ``module:object``; the module is one a workflow file may
    import (:func:`importable`), found in ``folder`` (appended to ``sys.path``, so worker
    processes started later find it too) or installed."""
    module_name, _, attribute = reference.partition(":")
    top = module_name.partition(".")[0]
    if not importable(top, folder):
        raise LookupError(
            f"{reference!r}: a workflow file imports only modules beside it and packages that register uqms stages, "
            f"not {top!r}; to trust it, run with --allow-import {top} (or set {ALLOW_IMPORT}={top})"
        )
    if folder is not None and importlib.util.find_spec(module_name.partition(".")[0]) is None:
        folder = str(Path(folder).resolve())
        if folder not in sys.path:
            sys.path.append(folder)
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as error:
        where = f" (installed, or in {folder})" if folder is not None else ""
        raise LookupError(f"cannot import module {module_name!r}{where}: {error}") from error
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise LookupError(f"module {module_name!r} has no attribute {attribute!r}")
        obj = getattr(obj, part)
    return obj


def resolve_stage(reference: str, options: dict[str, Any] | None = None, folder: str | Path | None = None) -> Stage:
    """Build the stage a workflow file refers to.

    Args:
        reference: a registered name (``"ishigami.sines"``) or ``"package.module:object"``;
            the object is a stage, or a class/factory called with ``options``.
        options: keyword arguments for the class or factory.
        folder: the workflow file's folder, where an import path's module may also be.

    Raises:
        LookupError: unknown name, a name registered twice, unknown module or attribute.
        TypeError: the object is not a stage and does not make one.
    """
    options = dict(options or {})
    obj = _imported(reference, folder) if ":" in reference else _registered(reference)
    if isinstance(obj, Stage) and not isinstance(obj, type):
        if options:
            raise TypeError(f"{reference!r} is already a stage and takes no options")
        return obj
    if not callable(obj):
        raise TypeError(f"{reference!r} is neither a stage nor a class or function that makes one")
    built = obj(**options)
    if not isinstance(built, Stage):
        raise TypeError(f"{reference!r} made {type(built).__name__}, which is not a stage")
    return built
