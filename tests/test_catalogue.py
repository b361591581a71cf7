"""The implemented rules match the catalogue (../shared/RULES.md), the public contract."""

from __future__ import annotations

import re

import pytest

from celery_lint.rules.catalogue import BY_CODE, CATALOGUE
from celery_lint.rules import ALL_RULES, Rule

from tests.conftest import REPO

RULES_MD = REPO.parent / "shared" / "RULES.md"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_rule_matches_its_catalogue_row(rule: type[Rule]) -> None:
    entry = BY_CODE[rule.code]
    assert rule.name == entry.name
    assert ("on" if rule.default_enabled else "off") == entry.default
    assert rule.scope == entry.scope
    catalogue_fix = entry.fix.split()[0].rstrip("*:")
    assert (rule.fix or "-") == catalogue_fix


def test_names_are_unique_kebab_case() -> None:
    names = [e.name for e in CATALOGUE]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", n) for n in names)


@pytest.mark.skipif(not RULES_MD.exists(), reason="../shared/RULES.md is not beside this checkout")
def test_catalogue_matches_rules_md() -> None:
    rows = []
    for line in RULES_MD.read_text().splitlines():
        match = re.match(r"\| (CLY\d{3}) \| ([a-z-]+) \| (on|off) \| (file\+?|project) \| (.*?) \|$", line.strip())
        if match:
            rows.append(match.groups())
    assert tuple(tuple(e) for e in CATALOGUE) == tuple(rows)
