"""The front doors: the command line (``cli``), the flake8 plugin, the daemon and the
console entry point. Nothing imports them but each other, top-down:
``entry`` -> ``daemon`` -> ``cli``."""
