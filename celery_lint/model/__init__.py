"""The model: what Celery code means, decided once for every rule and for the project index.

Celery's own API tables (``celery_api``), the words Celery code cannot be without
(``needles``), literal values (``values``), reading Python sources (``source``), the one
recogniser of apps, tasks, settings and dispatches (``recognise``), the per-file context
the rules share (``context``), the project index (``project`` for its facts and queries,
``index`` for building it), beat schedules and side effects. Imports only ``config``.

Nothing is imported here: ``celery_lint.model.needles`` must stay importable without
libcst (the command line's prefilter).
"""
