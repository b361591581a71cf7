"""Time the per-file engine alone on a tree's files that pass the prefilter.

    python bench/engine_time.py /path/to/tree [--rounds 5]

Lints the same files with slimming and statement-local positions off (``full``) and on
(``slim``), in alternation, and prints the median seconds of each. No start-up, no
project walk, no workers: just what each parsed file costs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from celery_lint.run.cache import CACHE_DIR_NAME
from celery_lint.run.project import project_index
from celery_lint.config.settings import load_settings
from celery_lint.engine.core import Engine, decode_source
from celery_lint.run.files import discover


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    settings = load_settings(args.tree.resolve())
    index = project_index(settings, settings.project_root / CACHE_DIR_NAME)
    engines = {"full": Engine(settings, index=index, slim=False), "slim": Engine(settings, index=index)}
    texts = []
    for path in discover([str(settings.project_root)], settings):
        try:
            text = decode_source(Path(path).read_bytes())
        except Exception:  # noqa: BLE001
            continue
        if engines["full"].active_rules(text, path):
            texts.append((path, text))
    times: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(args.rounds):
        for name, engine in engines.items():
            start = time.perf_counter()
            for path, text in texts:
                engine.lint_text(text, path)
            times[name].append(time.perf_counter() - start)
    size = sum(len(t) for _, t in texts)
    print(f"{len(texts)} files, {size:,} characters, {args.rounds} rounds")
    for name, values in times.items():
        print(f"{name:<5} median {statistics.median(values):.2f} s  min {min(values):.2f} s")


if __name__ == "__main__":
    main()
