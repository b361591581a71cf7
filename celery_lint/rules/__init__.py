"""The rule catalogue: one module per rule, discovered by name (``CLY101_task_without_name``)."""

from __future__ import annotations

import importlib
import pkgutil

from .base import Example, Rule


def _discover() -> tuple[type[Rule], ...]:
    found: list[type[Rule]] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("CLY"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        rules = [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module.__name__
        ]
        if len(rules) != 1 or not info.name.startswith(rules[0].code + "_"):
            raise ImportError(f"{info.name} must define exactly one Rule whose code starts the module name")
        found.append(rules[0])
    return tuple(sorted(found, key=lambda r: r.code))


#: Every rule, sorted by code.
ALL_RULES: tuple[type[Rule], ...] = _discover()
RULES_BY_CODE: dict[str, type[Rule]] = {r.code: r for r in ALL_RULES}
FILE_NOT_PARSED: type[Rule] = RULES_BY_CODE["CLY000"]

__all__ = ["ALL_RULES", "FILE_NOT_PARSED", "RULES_BY_CODE", "Example", "Rule"]
