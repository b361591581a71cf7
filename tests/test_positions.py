"""libcst's private API, kept in ``celery_lint/engine/positions.py``: it must work on every
libcst release ``pyproject.toml`` allows (CI runs the suite on the lowest and the highest),
and it must give exactly what the public ``PositionProvider`` gives."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from celery_lint.engine import positions

REPO = Path(__file__).resolve().parents[1]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])


def test_installed_libcst_is_within_the_tested_bounds() -> None:
    spec = re.search(r'"libcst>=([\d.]+),<([\d.]+)"', (REPO / "pyproject.toml").read_text())
    assert spec is not None, "pyproject.toml must bound libcst from both sides"
    installed = _version(version("libcst"))
    assert _version(spec.group(1)) <= installed < _version(spec.group(2))


def test_the_fast_path_works_on_this_libcst() -> None:
    """Fails on a libcst whose private pieces changed: widen the bound only after this passes."""
    positions._FAST_PATH.clear()
    assert positions.fast_path_available()


def test_fast_and_public_positions_agree_on_the_fixtures() -> None:
    for path in sorted((REPO / "fixtures").rglob("*.py")):
        module = cst.parse_module(path.read_text())
        nodes: list[cst.CSTNode] = []
        module.visit(positions._Collect(nodes))
        wanted = set(nodes)
        public = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        fast = positions._positions_in_module(module, wanted)
        assert fast == {node: public[node] for node in wanted}, path


def test_a_fast_path_that_breaks_falls_back_to_the_public_api(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    module = cst.parse_module("def f():\n    return app.send_task('a')\n")
    nodes: list[cst.CSTNode] = []
    module.visit(positions._Collect(nodes))
    expected = positions.public_positions(module, set(nodes))

    def changed(*args: object) -> None:
        raise AttributeError("'PositionProvidingCodegenState' object has no attribute '_stack'")

    monkeypatch.setattr(positions, "_FAST_PATH", [True])
    monkeypatch.setattr(positions, "_positions_in_module", changed)
    assert positions.positions_of(module, nodes) == expected
    assert positions._FAST_PATH == [False]


def test_without_the_fast_path_positions_come_from_the_public_api(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    module = cst.parse_module("x = 1\n\n\ndef f():\n    return app.send_task('a')\n")
    nodes: list[cst.CSTNode] = []
    module.visit(positions._Collect(nodes))
    expected = positions.positions_of(module, nodes)
    monkeypatch.setattr(positions, "_FAST_PATH", [False])
    monkeypatch.setattr(positions, "_positions_in_module", None)  # the private path is not used
    assert positions.positions_of(module, nodes) == expected
