"""Find stages by a registered name or an import path ``package.module:object``."""

from __future__ import annotations

import importlib
from typing import Any, Callable

from uqms.models.stage import Stage

_REGISTRY: dict[str, Callable[..., Stage]] = {}


def register_stage(name: str):
    """Decorator registering a stage class or factory under ``name`` for workflow files."""

    def wrap(factory):
        if name in _REGISTRY and _REGISTRY[name] is not factory:
            raise ValueError(f"a stage is already registered as {name!r}")
        _REGISTRY[name] = factory
        return factory

    return wrap


def registered_stages() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def _load_builtins() -> None:
    importlib.import_module("uqms.test_functions")
    importlib.import_module("uqms.models.site_average")
    importlib.import_module("uqms.models.microkinetics.stages")
    importlib.import_module("uqms.models.reactor.stages")
    importlib.import_module("uqms.models.reactor.site_resolved")


def resolve_stage(reference: str, options: dict[str, Any] | None = None) -> Stage:
    """Build the stage a workflow file refers to.

    Args:
        reference: a registered name (``"ishigami.sines"``) or ``"package.module:object"``;
            the object is a stage, or a class/factory called with ``options``.
        options: keyword arguments for the class or factory.

    Raises:
        LookupError: unknown name, module or attribute.
        TypeError: the object is not a stage and does not make one.
    """
    options = dict(options or {})
    if ":" in reference:
        module_name, _, attribute = reference.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
        except ImportError as error:
            raise LookupError(f"cannot import module {module_name!r}: {error}") from error
        for part in attribute.split("."):
            if not hasattr(obj, part):
                raise LookupError(f"module {module_name!r} has no attribute {attribute!r}")
            obj = getattr(obj, part)
    else:
        _load_builtins()
        if reference not in _REGISTRY:
            raise LookupError(f"no stage registered as {reference!r}; known: {sorted(_REGISTRY)}")
        obj = _REGISTRY[reference]
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
