"""Time one changed file through pre-commit, against pre-commit's own floor.

Fetches nothing. ``TREE`` is a git checkout (saleor/saleor, say) and ``FILE`` one of its
files. The hook repo is this repository's committed HEAD (pre-commit installs it on the
first run, outside the timing). Each round runs, in alternation, and appends a new
trailing comment to FILE before each run and stages it (``git add``, outside the
timing), so every run lints a changed file, as a commit does: an unstaged edit would be
stashed by pre-commit, and the hook would lint the committed text, whose result is
cached (the index and the original are restored at the end):

- ``hook``: the celery-lint hook as shipped (``celery-lint``, in the hook's own process);
- ``hook, args: [--daemon]``: the same hook with the daemon opted in (its server is
  started before the timing, in a temporary socket directory);
- ``python no-op``: a ``language: python`` hook running ``python -c pass`` (pre-commit's
  floor for any Python hook);
- ``system no-op``: a ``language: system`` hook running ``true`` (pre-commit alone);
- ``served, direct``: ``celery-lint --daemon FILE`` from the hook's environment, without
  pre-commit (celery-lint's own part).

    python bench/hook.py /path/to/saleor saleor/order/tasks.py --rounds 12

Prints min, median and max of each, and the hook's median minus each floor.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import celery_lint_hook_repo, no_op_hook  # bench/bench.py, beside this script

CI_MARKERS = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "TF_BUILD", "BUILDKITE", "TEAMCITY_VERSION")


def config_text() -> str:
    return (
        "repos:\n"
        + celery_lint_hook_repo()
        + "-   repo: local\n    hooks:\n"
        + no_op_hook("python-no-op", "python -c pass", "python")
        + no_op_hook("system-no-op", "'true'", "system")
    )


def run(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"failed with status {proc.returncode}: {' '.join(command)}\n{proc.stderr.decode()}")
    return elapsed


def hook_executable(home: Path) -> str:
    """The ``celery-lint`` that pre-commit installed for the hook (newest environment)."""
    found = sorted(glob.glob(str(home / "repo*" / "py_env-*" / "bin" / "celery-lint")), key=os.path.getmtime)
    if not found:
        raise SystemExit(f"no celery-lint hook environment under {home}")
    return found[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", type=Path)
    parser.add_argument("file", help="a file of TREE, relative to it")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--pre-commit", default="pre-commit")
    parser.add_argument("--pre-commit-home", type=Path, help="PRE_COMMIT_HOME (default: pre-commit's own)")
    args = parser.parse_args()
    tree = args.tree.resolve()
    changed = tree / args.file
    original = changed.read_bytes()
    work = Path(tempfile.mkdtemp(prefix="celery-lint-hook-bench-"))
    config = work / "pre-commit-config.yaml"
    config.write_text(config_text())
    env = {k: v for k, v in os.environ.items() if k not in CI_MARKERS}
    env["CELERY_LINT_DAEMON_DIR"] = str(work / "daemon")
    if args.pre_commit_home:
        env["PRE_COMMIT_HOME"] = str(args.pre_commit_home)
    home = Path(env.get("PRE_COMMIT_HOME") or Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pre-commit")

    def hook(hook_id: str) -> list[str]:
        return [args.pre_commit, "run", "-c", str(config), hook_id, "--files", args.file]

    try:
        # install the environments; the first daemon hook run starts the server, the second waits for it
        for hook_id in ("python-no-op", "system-no-op", "celery-lint-in-process", "celery-lint-daemon", "celery-lint-daemon"):
            run(hook(hook_id), tree, env)
            time.sleep(2 if hook_id == "celery-lint-daemon" else 0)
        commands = {
            "hook (celery-lint)": hook("celery-lint-in-process"),
            "hook, args: [--daemon]": hook("celery-lint-daemon"),
            "python no-op hook": hook("python-no-op"),
            "system no-op hook": hook("system-no-op"),
            "in-process, direct": [hook_executable(home), args.file],
            "served, direct": [hook_executable(home), "--daemon", args.file],
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                changed.write_bytes(original + f"# bench edit {time.time_ns()}\n".encode())
                subprocess.run(["git", "add", "--", args.file], cwd=tree, check=True)
                samples[name].append(run(command, tree, env))
    finally:
        subprocess.run(["git", "reset", "-q", "--", args.file], cwd=tree)
        changed.write_bytes(original)
        subprocess.run([sys.executable, "-m", "celery_lint.doors.daemon", "--stop"], env=env, capture_output=True)

    print(f"{args.file} in {tree}, {args.rounds} rounds in alternation")
    print(f"{'':<30} {'min s':>7} {'median s':>9} {'max s':>7}")
    for name, values in samples.items():
        print(f"{name:<30} {min(values):>7.3f} {statistics.median(values):>9.3f} {max(values):>7.3f}")
    medians = {name: statistics.median(values) for name, values in samples.items()}
    shipped = medians["hook (celery-lint)"]
    daemon = medians["hook, args: [--daemon]"]
    floor = medians["python no-op hook"]
    print()
    print(f"hook - python no-op = {shipped - floor:+.3f} s; hook / python no-op = {shipped / floor:.2f}x (target: at most 2x)")
    print(f"daemon hook - python no-op = {daemon - floor:+.3f} s; the daemon saves {shipped - daemon:.3f} s per run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
