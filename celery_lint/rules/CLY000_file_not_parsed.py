from __future__ import annotations

from .base import Rule


class FileNotParsed(Rule):
    """A file could not be read, decoded or parsed, so nothing in it was checked.

    ## What it does
    Reports each file the linter could not analyse, with the reason: a syntax error (with
    the parser's line and column), bytes that are not valid in the file's encoding, a NUL
    byte, code nested too deeply for the parser, a file that cannot be read, or a file
    larger than 20 MiB (with its size; such a file is never given to a parser: not when it
    is linted, not when the project index or a helper lookup would read it, not in flake8).

    ## Why is this bad?
    A linter that silently skips a file gives a clean result it has not earned. Every
    file given to celery-lint is either linted or reported with this code; the other files
    are still linted and the exit status is 1.

    ## Example
    ```python
    @shared_task
    def broken(:
        ...
    ```

    ## Use instead
    Fix the file so that Python can compile it, or exclude it (`exclude` in
    `[tool.celery-lint]`).

    ## Options
    - `exclude`: glob patterns of paths not to lint at all.

    ## References
    - [Python: Full grammar specification](https://docs.python.org/3/reference/grammar.html)
    """

    code = "CLY000"
    name = "file-not-parsed"
    needles = ()
    text_pattern = None
