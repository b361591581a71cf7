"""What the project index knows of a tree's deployment (issue 18's evidence): the worker
command lines, the queues they consume, and what the workers import.

    python bench/deployment.py /path/to/kitsune /path/to/paperless-ngx ...

Builds each tree's project index as a run does (its `[tool.celery-lint]` settings, its
walk, no cache) and prints every `celery worker` command with its app, queues, excluded
queues and whether its queues are literal; the queues CLY409 takes as consumed (or why
it stays silent); whether CLY108 can tell what the workers import (or why not), the
discovery it read, and the task modules no worker imports.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from celery_lint.config.settings import load_settings  # noqa: E402
from celery_lint.run.project import project_index  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="+", type=Path)
    args = parser.parse_args()
    for tree in args.trees:
        settings = load_settings(tree.resolve())
        started = time.perf_counter()
        index = project_index(settings, None)
        took = time.perf_counter() - started
        if index is None:
            print(f"== {tree.name}: project index switched off")
            continue
        print(f"== {tree.name}: index in {took:.2f} s; {len(index.workers)} worker command(s)")
        for worker in index.workers:
            queues = "unknown (not literal)" if not worker.literal else (",".join(worker.queues) if worker.queues is not None else "(no -Q)")
            print(f"  {worker.where()}  app={worker.app}  queues={queues}  exclude={','.join(worker.exclude) or '-'}")
        consumers = index.consumers()
        if consumers.queues is None:
            print(f"  CLY409 silent: {consumers.described}")
        else:
            print(f"  consumed: {', '.join(sorted(consumers.queues))} ({consumers.described})")
        registration = index.registration
        if not registration.known:
            print(f"  CLY108 silent: {registration.reason}")
            continue
        print(f"  workers import {len(registration.reached)} modules; discovery: {'; '.join(registration.sources) or '(none)'}")
        task_modules = sorted({t.module for t in index.tasks if t.module})
        missing = [m for m in task_modules if m not in registration.reached]
        print(f"  task modules: {len(task_modules)}, not imported by a worker: {len(missing)}")
        for module in missing:
            print(f"    {module}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
