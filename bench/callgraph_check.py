"""Check the call graph's two text shortcuts against a full parse, on real trees.

    python bench/callgraph_check.py /path/to/saleor /path/to/readthedocs.org ...

1. *Skimming* (``callgraph.skim``): for every module, each top-level function read from
   the skim must equal the one read from a full ``ast`` parse (``summarise``). Prints how
   many are equal, differ, or are missed (a def the skim does not see, such as one under a
   module-level ``if``).
2. *Transaction snippets* (``callgraph.transaction_snippet``): for every file holding a
   transaction word, the calls read from the cut-out blocks must include every call a full
   parse finds in its transactions that can name a function (not `x.filter().update`;
   the snippet may see more: it is a prefilter). Prints
   how many files were cut, read whole, and missed a call (must be 0).

Reads files only; imports nothing from the trees.
"""

from __future__ import annotations

import argparse
import os

from celery_lint.model.summaries import skim, split_lines, summarise
from celery_lint.model.transactions import snippet_calls, transaction_calls, transaction_snippet
from celery_lint.model.source import decode_source, quiet_ast_parse

_WORDS = ("atomic", "def save(", "def delete(")


def python_files(root: str):  # type: ignore[no-untyped-def]
    for directory, _, names in os.walk(root):
        for name in sorted(names):
            if name.endswith(".py"):
                yield os.path.join(directory, name)


def main(roots: list[str]) -> int:
    equal = differ = missed = 0
    cut = whole = missing_call = 0
    for root in roots:
        for path in python_files(root):
            try:
                with open(path, "rb") as handle:
                    text = decode_source(handle.read())
                tree = quiet_ast_parse(text)
            except Exception:  # noqa: BLE001 - a file Python cannot read is not in question here
                continue
            exact = summarise(tree, path, "m", split_lines(text))
            skimmed = skim(text, path, "m")
            for name in exact._defs:
                if not skimmed.defines(name):
                    missed += 1
                elif skimmed.function(name) == exact.function(name):
                    equal += 1
                else:
                    differ += 1
            if not any(word in text for word in _WORDS):
                continue
            # names through a call's result (`x.objects.filter().update`) never resolve
            full = {name for name in transaction_calls(tree, path, "m") if "(" not in name}
            snippet = transaction_snippet(text)
            if snippet is None:
                whole += 1
                continue
            try:
                part = set(snippet_calls(snippet, path, "m")) if snippet[3] else set()
            except SyntaxError:
                whole += 1
                continue
            cut += 1
            if not full <= part:
                missing_call += 1
                print(f"MISSING {path}: {sorted(full - part)[:5]}")
    print(f"skim: {equal} functions equal, {differ} differ, {missed} missed")
    print(f"transaction snippets: {cut} files cut, {whole} read whole, {missing_call} missing a call")
    return 1 if missing_call else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", help="checkouts of real projects")
    raise SystemExit(main(parser.parse_args().trees))
