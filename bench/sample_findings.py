"""Draw a seeded random sample of findings to judge by hand (issue 16's precision check).

    python bench/compare_findings.py record /tmp/now.json saleor readthedocs.org paperless-ngx kitsune
    python bench/sample_findings.py /tmp/now.json --size 60 --seed 16 --trees /path/to/trees > sample.md

Reads a record made by ``compare_findings.py record`` and samples, with ``random.Random(seed)``,
``size`` findings from the default selection of every tree together (each finding equally
likely, so a code's share of the sample follows its share of the findings). Prints a
Markdown table to fill in: verdict (real / debatable / wrong) and the reason. With
``--trees``, each row also shows the source line (read from ``TREES/<tree>/<file>``), and,
for CLY101, where the task is sent in the tree (``.delay(``/``.apply_async(``/``.s(``/
``.si(`` on its function name, or its generated name in a string), which the judgement
of CLY101 rests on (see ``bench/judged/README.md``).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
from pathlib import Path
from typing import Any


def draw(record: dict[str, list[dict[str, Any]]], size: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    pool = [
        (key.split(" [", 1)[0], finding)
        for key in sorted(record)
        if key.endswith("[default]")
        for finding in sorted(record[key], key=lambda f: (f["filename"], f["line"], f["column"], f["code"]))
    ]
    return random.Random(seed).sample(pool, min(size, len(pool)))


def sent_at(tree: Path, finding: dict[str, Any]) -> str:
    """Where a CLY101 task is sent in the tree: the first three places, or `nowhere`."""
    match = re.search(r"task `(\w+)`.*generates `([\w.]+)`", finding["message"])
    if match is None:
        return ""
    function, generated = match.groups()
    pattern = rf"\b{function}\.(delay|apply_async|s|si|signature|delay_on_commit|apply_async_on_commit)\(|['\"]{re.escape(generated)}['\"]"
    proc = subprocess.run(
        ["grep", "-rInE", "--include=*.py", "--include=*.yaml", "--include=*.yml", "--include=*.json", pattern, "."],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    hits = [line.split(":", 2)[0].lstrip("./") + ":" + line.split(":", 2)[1] for line in proc.stdout.splitlines()]
    return ", ".join(hits[:3]) + (f" (+{len(hits) - 3})" if len(hits) > 3 else "") if hits else "nowhere"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record", type=Path)
    parser.add_argument("--size", type=int, default=60)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--trees", type=Path, help="directory holding the trees, for source lines")
    args = parser.parse_args()
    record = json.loads(args.record.read_text())
    sample = draw(record, args.size, args.seed)
    print("| # | tree | where | code | message | source line | sent at | verdict | reason |")
    print("|---|---|---|---|---|---|---|---|---|")
    for number, (tree, finding) in enumerate(sample, 1):
        where = f"{finding['filename'].lstrip('./')}:{finding['line']}"
        source = sent = ""
        if args.trees is not None:
            path = args.trees / tree / finding["filename"]
            try:
                source = path.read_text(errors="replace").splitlines()[finding["line"] - 1].strip()
            except (OSError, IndexError):
                source = "?"
            if finding["code"] == "CLY101":
                sent = sent_at(args.trees / tree, finding)
        message = finding["message"].replace("|", "\\|")
        source = source.replace("|", "\\|")
        print(f"| {number} | {tree} | `{where}` | {finding['code']} | {message} | `{source}` | {sent} |  |  |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
