"""Beside the front doors: output formats (``formats``), rule documentation (``docs``) and
the one-line summary (``summary``). They render findings and rules and know nothing of
argv. Nothing is imported here: ``summary`` must stay importable without libcst."""
