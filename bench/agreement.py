"""Do the two readers of the one recogniser agree? The per-file context (libcst) and the
project index (``ast``) on every Python file of a tree.

    python bench/agreement.py TREE [TREE ...]

For each file, compares the tasks both find (function, registered name, whether the name
is explicit, the option names, whether options come through ``**kwargs`` neither can see,
and the app they register on) and the settings the file sets for the whole project. Prints each disagreement; exit 1 on any.
``tests/test_recogniser.py`` runs the same comparison on every fixture and rule example.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from celery_lint.config import Settings, load_settings, relative_posix
from celery_lint.model.apps import AppLocator
from celery_lint.model.context import FileContext
from celery_lint.model.recognise import INDEXED_SETTINGS, project_setting
from celery_lint.model.extract import extract
from celery_lint.model.source import decode_source, parse_module
from celery_lint.run.files import discover

Task = tuple[str, Any, bool, tuple[str, ...], bool, Any]


def context_settings(ctx: FileContext, rel: str) -> list[str]:
    """The indexed settings the context's facts say this file sets for the whole project:
    ``app.conf``/``Celery(...)`` ones, and module-level names in settings modules."""
    keys = set()
    for key in ctx.file_config:
        name = ctx.setting_names.get(key)
        if name is None and key in INDEXED_SETTINGS:
            keys.add(key)
        elif name is not None and project_setting(name, rel) is not None:
            keys.add(key)
    return sorted(keys)


def context_facts(path: str, settings: Settings) -> dict[str, list[Any]] | None:
    """Tasks and settings as the per-file context (libcst) sees them; None: libcst cannot read it."""
    try:
        text = decode_source(Path(path).read_bytes())
        module = parse_module(text)
    except Exception:  # noqa: BLE001 - a file libcst cannot read: nothing to compare
        return None
    ctx = FileContext(path, settings, AppLocator(settings.src_roots()))
    ctx.read(module)
    tasks = sorted(
        (
            t.name,
            t.registered_name,
            "name" in t.options or "name" in t.spread,
            tuple(sorted({*t.options, *t.spread} - {"name"})),
            t.opaque_options,
            t.app,
        )
        for t in ctx.tasks
    )
    return {"tasks": tasks, "settings": context_settings(ctx, relative_posix(path, settings.project_root))}


def index_facts(path: str, settings: Settings) -> dict[str, list[Any]] | None:
    """Tasks and settings as the project index (``ast``) sees them; None: unreadable."""
    facts = extract(path, settings, AppLocator(settings.src_roots()))
    if facts is None:
        return None
    tasks = sorted((t.function, t.name, t.explicit, tuple(sorted(t.options)), t.opaque, t.app) for t in facts.tasks)
    return {"tasks": tasks, "settings": sorted(facts.settings)}


def disagreements(path: str, settings: Settings) -> list[str]:
    """What the two readers see differently in one file (empty: they agree)."""
    here = context_facts(path, settings)
    there = index_facts(path, settings)
    if here is None or there is None:
        return []
    rel = relative_posix(path, settings.project_root)
    return [f"{rel}: {kind}: context {here[kind]} != index {there[kind]}" for kind in here if here[kind] != there[kind]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", type=Path, nargs="+")
    args = parser.parse_args()
    differ = 0
    for tree in args.trees:
        settings = load_settings(tree.resolve())
        files = tasks = 0
        for path in discover([str(tree.resolve())], settings):
            found = disagreements(path, settings)
            index = index_facts(path, settings)
            files += 1
            tasks += len(index["tasks"]) if index else 0
            for line in found:
                print(line)
            differ += len(found)
        print(f"{tree.name}: {files} files, {tasks} tasks in the index, {differ} files disagree")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
