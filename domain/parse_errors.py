"""Where a file stopped being TOML or JSON, in the chosen language.

tomllib and json say what went wrong in English only. English output keeps
their words (operators search for them); Japanese says where the reader
stopped (``2行目、12文字目``), which is what a person needs to find the
mistake, rather than mixing an English sentence into a Japanese line.
"""

from __future__ import annotations

import json
import re

from domain.i18n import _, language

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)$")


def where_toml_fails(error: ValueError) -> str:
    """tomllib's words (``Invalid value (at line 2, column 5)``), or in
    Japanese the place it stopped."""
    if language() == "en":
        return str(error)
    found = _TOML_POSITION.search(str(error))
    if found is None:
        return _("at the end of the file")
    return _("at line {line}, column {column}").format(line=found[1], column=found[2])


def where_json_fails(error: ValueError | RecursionError) -> str:
    """json's words (``Expecting value: line 1 column 1 (char 0)``), or in
    Japanese the place it stopped (a document nested too deeply has none)."""
    if language() == "en":
        return str(error)
    if isinstance(error, json.JSONDecodeError):
        if "\n" not in error.doc:  # one line of a JSON Lines file
            return _("at column {column}").format(column=error.colno)
        return _("at line {line}, column {column}").format(
            line=error.lineno, column=error.colno
        )
    return _("nested too deeply")
