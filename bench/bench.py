"""Benchmark celery-lint against celery-audit and ruff on a tree you provide.

Fetches nothing. Runs each tool on the tree in alternation, N rounds, and prints medians,
the largest process's peak memory, and the ratios the performance targets are written in.

    python bench/bench.py /path/to/saleor --rounds 5 \\
        --audit-config saleor/settings.py --audit-config saleor/celeryconf.py --audit-namespace CELERY

Tools are looked up on PATH (or --celery-lint / --celery-audit / --ruff); a tool that is
missing is skipped and its ratio reported as n/a. ``--scale`` adds runs on the first
quarter and half of the tree's files (sorted), to show how time grows with size.

The other two targets:

- ``--flake8-tree DIR --flake8-plain EXE``: flake8 on DIR with the plugin (``--flake8``,
  default: flake8 on PATH) against a flake8 installed without it (EXE), wall and CPU.
- ``--changed-file REL``: one file of the tree (a git checkout) through pre-commit, with
  this repository's committed HEAD as the hook repo (pre-commit installs it on the first
  run, outside the timing). Before each run the file gets a new trailing comment, staged
  (``git add``), so every run lints a changed file (the index and the original are
  restored at the end). Timed: the hook
  as shipped (in-process), the hook with ``args: [--daemon]`` (its server started outside
  the timing, in a temporary socket directory), pre-commit running a no-op hook on the
  same file (pre-commit's own cost) and ``celery-lint REL`` alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int, float]:
    """Wall seconds, the peak RSS (KiB) of the largest process of ``command``'s tree, and
    CPU seconds (user + system, the process and the children it waited for)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{command[0]} failed with status {os.waitstatus_to_exitcode(status)}: {' '.join(command)}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def celery_lint_hook_repo() -> str:
    """The ``repos:`` entry of a pre-commit config using this repository's committed HEAD."""
    repo = Path(__file__).resolve().parents[1]
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
    return (
        # Each with an alias of its own: `pre-commit run celery-lint` runs every hook whose
        # id or alias is `celery-lint`, both of these (until 2026-12-02 the bench timed them
        # together as "the hook").
        f"-   repo: {repo}\n    rev: {rev}\n    hooks:\n    -   id: celery-lint\n        alias: celery-lint-in-process\n"
        "    -   id: celery-lint\n        alias: celery-lint-daemon\n        args: [--daemon]\n"
    )


def no_op_hook(hook_id: str, entry: str, language: str) -> str:
    """A hook of a ``repo: local`` entry that does nothing (pre-commit's own cost)."""
    return (
        f"    -   id: {hook_id}\n        name: {hook_id}\n        entry: {entry}\n"
        f"        language: {language}\n        types: [python]\n"
    )


def pre_commit_config(directory: Path) -> Path:
    """A pre-commit config using this repository's HEAD as the hook repo, plus a no-op hook."""
    config = directory / "pre-commit-config.yaml"
    config.write_text(
        "repos:\n" + celery_lint_hook_repo() + "-   repo: local\n    hooks:\n" + no_op_hook("no-op", "'true'", "system")
    )
    return config


def python_files(tree: Path) -> list[str]:
    skip = {".git", ".venv", "venv", "node_modules", "build", "dist", ".celery_lint_cache"}
    found = []
    for directory, dirnames, filenames in os.walk(tree):
        dirnames[:] = sorted(d for d in dirnames if d not in skip)
        found.extend(os.path.relpath(os.path.join(directory, f), tree) for f in filenames if f.endswith(".py"))
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--celery-lint", default=shutil.which("celery-lint") or "celery-lint")
    parser.add_argument("--celery-audit", default=shutil.which("celery-audit"))
    parser.add_argument("--ruff", default=shutil.which("ruff"))
    parser.add_argument("--audit-config", action="append", default=[], help="celery-audit --config (repeatable)")
    parser.add_argument("--audit-namespace", help="celery-audit --settings-namespace")
    parser.add_argument("--jobs", type=int, help="celery-lint --jobs (default: its own default, all cores)")
    parser.add_argument("--scale", action="store_true", help="also time a quarter and a half of the tree's files")
    parser.add_argument("--flake8-tree", type=Path, help="tree for the flake8 plugin's overhead (readthedocs.org)")
    parser.add_argument("--flake8", default=shutil.which("flake8"), help="flake8 with the celery-lint plugin")
    parser.add_argument("--flake8-plain", help="flake8 installed without the plugin")
    parser.add_argument("--changed-file", help="a file of TREE (relative) to run through pre-commit alone")
    parser.add_argument("--pre-commit", default=shutil.which("pre-commit"), help="pre-commit executable")
    args = parser.parse_args()
    tree = args.tree.resolve()
    cache_dir = Path(tempfile.mkdtemp(prefix="celery-lint-bench-cache-"))
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    lint = [args.celery_lint, "--exit-zero", *jobs]

    commands: dict[str, list[str]] = {
        "celery-lint cold": [*lint, "--no-cache", "."],
        "celery-lint warm": [*lint, "--cache-dir", str(cache_dir), "."],
    }
    if args.celery_audit:
        audit = [args.celery_audit, ".", "--fail-on", "critical"]
        for config in args.audit_config:
            audit += ["--config", config]
        if args.audit_namespace:
            audit += ["--settings-namespace", args.audit_namespace]
        commands["celery-audit"] = audit
    if args.ruff:
        commands["ruff --no-cache"] = [args.ruff, "check", "--no-cache", "--exit-zero", "-q", "."]
    if args.scale:
        files = python_files(tree)
        for label, fraction in (("quarter", 4), ("half", 2)):
            commands[f"celery-lint cold, {label} ({len(files) // fraction} files)"] = [
                *lint,
                "--no-cache",
                *files[: len(files) // fraction],
            ]

    where: dict[str, Path] = {}
    if args.flake8_tree and args.flake8 and args.flake8_plain:
        flake8_tree = args.flake8_tree.resolve()
        for name, executable in (("flake8 with plugin", args.flake8), ("flake8 without plugin", args.flake8_plain)):
            commands[name] = [executable, "--exit-zero", "."]
            where[name] = flake8_tree
    envs: dict[str, dict[str, str]] = {}
    edited: set[str] = set()
    changed = tree / args.changed_file if args.changed_file else None
    original = changed.read_bytes() if changed is not None else b""
    daemon_dir = cache_dir / "daemon"
    if args.changed_file and args.pre_commit:
        config = pre_commit_config(cache_dir)
        base = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "TF_BUILD", "BUILDKITE", "TEAMCITY_VERSION")}
        base["CELERY_LINT_DAEMON_DIR"] = str(daemon_dir)
        hooks = (
            ("pre-commit celery-lint, one changed file", "celery-lint-in-process", {}),
            ("pre-commit celery-lint, args: [--daemon]", "celery-lint-daemon", {}),
            ("pre-commit no-op hook, one file", "no-op", {}),
        )
        for name, hook, extra in hooks:
            commands[name] = [args.pre_commit, "run", "-c", str(config), hook, "--files", args.changed_file]
            envs[name] = {**base, **extra}
            edited.add(name)
        commands["celery-lint, one changed file, in-process"] = [*lint, "--cache-dir", str(cache_dir), args.changed_file]
        edited.add("celery-lint, one changed file, in-process")
        # install the hook environment; the first daemon run starts the server, the second waits for it
        for _ in range(2):
            name = "pre-commit celery-lint, args: [--daemon]"
            timed(commands[name], tree, envs[name])
            time.sleep(3)

    where = {name: where.get(name, tree) for name in commands}
    timed(commands["celery-lint warm"], tree)  # prime the cache
    samples: dict[str, list[tuple[float, int, float]]] = {name: [] for name in commands}
    try:
        for round_number in range(args.rounds):
            for name, command in commands.items():  # in alternation: one of each per round
                if name in edited and changed is not None:
                    changed.write_bytes(original + f"# bench edit {time.time_ns()}\n".encode())
                    # staged, or pre-commit stashes the edit and lints the committed text
                    subprocess.run(["git", "add", "--", args.changed_file], cwd=tree, check=True)
                samples[name].append(timed(command, where[name], envs.get(name)))
            print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        if changed is not None:
            subprocess.run(["git", "reset", "-q", "--", args.changed_file], cwd=tree)
            changed.write_bytes(original)
        if daemon_dir.exists():
            subprocess.run([sys.executable, "-m", "celery_lint.doors.daemon", "--stop"], env={**os.environ, "CELERY_LINT_DAEMON_DIR": str(daemon_dir)}, capture_output=True)
    shutil.rmtree(cache_dir, ignore_errors=True)

    print(f"tree: {tree}  ({len(python_files(tree))} Python files)  rounds: {args.rounds}")
    if args.flake8_tree:
        print(f"flake8 tree: {args.flake8_tree.resolve()}  ({len(python_files(args.flake8_tree.resolve()))} Python files)")
    print(f"{'tool':<48} {'median s':>9} {'min s':>7} {'CPU s':>7} {'peak MiB':>9}")
    medians, cpu = {}, {}
    for name, values in samples.items():
        times = [t for t, _, _ in values]
        peak = max(m for _, m, _ in values) / 1024
        medians[name] = statistics.median(times)
        cpu[name] = statistics.median(c for _, _, c in values)
        print(f"{name:<48} {medians[name]:>9.2f} {min(times):>7.2f} {cpu[name]:>7.2f} {peak:>9.0f}")

    def ratio(a: str, b: str) -> str:
        return f"{medians[a] / medians[b]:.3f}x" if a in medians and b in medians else "n/a"

    def overhead(a: str, b: str, table: dict[str, float]) -> str:
        return f"{(table[a] / table[b] - 1) * 100:+.1f}%" if a in table and b in table else "n/a"

    print()
    print(f"cold / celery-audit     = {ratio('celery-lint cold', 'celery-audit')}   (target <= 0.15x)")
    print(f"warm / ruff --no-cache  = {ratio('celery-lint warm', 'ruff --no-cache')}   (target <= 2x)")
    with_, without = "flake8 with plugin", "flake8 without plugin"
    print(
        f"flake8 plugin overhead  = {overhead(with_, without, medians)} wall, "
        f"{overhead(with_, without, cpu)} CPU   (target <= +10%)"
    )
    one = medians.get("pre-commit celery-lint, one changed file")
    floor = medians.get("pre-commit no-op hook, one file")
    ratio = f"{one / floor:.2f}x the no-op hook" if one is not None and floor else "n/a"
    print(f"one file, pre-commit    = {f'{one:.2f} s' if one is not None else 'n/a'} ({ratio}; target at most 2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
