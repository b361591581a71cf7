"""Check on a real tree that slimming (``celery_lint/engine/slim.py``) changes no finding.

    python bench/slim_check.py /path/to/tree

Lints every file the prefilter lets through twice, from the full text and from the
slimmed text, with the tree's own settings and project index; prints each file whose
findings differ, the bytes parsed each way, and the lint time each way. Exit 1 on any
difference.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from celery_lint.run.cache import CACHE_DIR_NAME
from celery_lint.run.project import project_index
from celery_lint.config.settings import load_settings
from celery_lint.engine.core import Engine, decode_source
from celery_lint.run.files import discover
from celery_lint.engine.slim import slim_source


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", type=Path)
    root = parser.parse_args().tree.resolve()
    settings = load_settings(root)
    index = project_index(settings, settings.project_root / CACHE_DIR_NAME)
    full = Engine(settings, index=index, slim=False)
    slim = Engine(settings, index=index, slim=True)
    files = differ = findings = 0
    full_bytes = slim_bytes = 0
    full_time = slim_time = 0.0
    for path in discover([str(root)], settings):
        try:
            text = decode_source(Path(path).read_bytes())
        except Exception:  # noqa: BLE001 - unreadable files are CLY000 either way
            continue
        if not full.active_rules(text, path):
            continue
        files += 1
        full_bytes += len(text)
        slim_bytes += len(slim_source(text))
        start = time.perf_counter()
        expected = full.lint_text(text, path)
        full_time += time.perf_counter() - start
        start = time.perf_counter()
        got = slim.lint_text(text, path)
        slim_time += time.perf_counter() - start
        keys = [(f.code, f.line, f.column, f.end_line, f.end_column, f.message) for f in expected.findings]
        findings += len(keys)
        if keys != [(f.code, f.line, f.column, f.end_line, f.end_column, f.message) for f in got.findings]:
            differ += 1
            print(f"DIFFERS {path}")
    print(
        f"{files} files parsed, {findings} findings, {differ} files differ; "
        f"bytes parsed {full_bytes:,} -> {slim_bytes:,} ({slim_bytes / max(full_bytes, 1):.0%}); "
        f"lint time {full_time:.2f} s -> {slim_time:.2f} s"
    )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
