"""How many files the prefilter lets through on a tree, and why.

    python bench/prefilter.py /path/to/tree

For each combination of needles found, the number of files and bytes parsed. Fetches
nothing and lints nothing: it only runs the prefilter.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

from celery_lint.config.settings import load_settings
from celery_lint.engine.core import Engine, decode_source, SourceError
from celery_lint.run.files import discover


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", type=Path)
    tree = parser.parse_args().tree.resolve()
    settings = load_settings(tree)
    engine = Engine(settings)
    total = total_bytes = parsed = parsed_bytes = 0
    reasons: collections.Counter[tuple[str, ...]] = collections.Counter()
    for path in discover([str(tree)], settings):
        data = Path(path).read_bytes()
        total += 1
        total_bytes += len(data)
        try:
            text = decode_source(data)
        except SourceError:
            continue
        active = engine.active_rules(text, path)
        if active:
            parsed += 1
            parsed_bytes += len(data)
            reasons[tuple(sorted({n for r in active for n in r.needles if n in text}))] += 1
    print(f"{tree}: {parsed} of {total} files parsed ({parsed / max(total, 1):.1%}), "
          f"{parsed_bytes / 1e6:.1f} of {total_bytes / 1e6:.1f} MB ({parsed_bytes / max(total_bytes, 1):.1%})")
    for needles, count in reasons.most_common():
        print(f"  {count:5d}  {', '.join(needles)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
