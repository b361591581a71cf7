"""The engine: prefilter -> parse once -> one traversal for every enabled rule -> findings, fixes.

Imports the rules, the model and the configuration, never the run or the front doors.
"""

from __future__ import annotations

from .core import Engine, FixOutcome, enabled_rules, is_enabled
from .findings import FileResult, Finding

__all__ = ["Engine", "FileResult", "Finding", "FixOutcome", "enabled_rules", "is_enabled"]
