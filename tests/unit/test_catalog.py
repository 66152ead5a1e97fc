"""The Japanese catalog (SPEC §5, "Language"): every message our code marks
has a Japanese translation, click's own messages too, and the source
compiles to what the program reads.

The marks are found the way ``pybabel extract`` finds them (Babel's Python
extractor, our keywords), so a new ``_("…")`` without its Japanese fails
here, not in front of a user.
"""

from __future__ import annotations

import io
from pathlib import Path

import click
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from domain import i18n

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (
    "domain",
    "services",
    "adapters",
    "projections",
    "cli",
    "privacy",
    "integrity",
)
PO = i18n.LOCALE_DIR / "ja" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {
    "_": None,
    "N_": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "NC_": ((1, "c"), 2),
}
CLICK_KEYWORDS = {"_": None, "ngettext": (1, 2)}
CLICK_FOR_DEVELOPERS = {
    # click's errors about a command's own definition, or features we do
    # not use (shell completion, colours, Windows, UUID…): never shown to
    # the people running ``seekers``.
    "d",
    "Name '{name}' defined twice",
    "Boolean option {decl!r} cannot use the same flag for true/false.",
    "Could not determine name for option with declarations {decls!r}",
    "No options defined but a name was passed ({name}). Did you mean to "
    "declare an argument instead? Did you mean to pass '--{name}'?",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}",
    "Windows error: {error}",
    "Shell completion is not supported for Bash versions older than 4.4.",
    "Couldn't detect Bash version, shell completion is not supported.",
    "Unknown color {colour!r}",
    "Choice({choices})",
    "Unknown standard stream '{name}'",
}


def _catalog() -> Catalog:
    with PO.open("rb") as source:
        return read_po(source, locale="ja", domain=i18n.DOMAIN)


def _marked(folder: Path, keywords: dict[str, object]) -> set[tuple[str | None, str]]:
    """(context, msgid) of every message marked under ``folder``."""
    found: set[tuple[str | None, str]] = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        folder, method_map=[("**.py", "python")], keywords=keywords
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.add((context, msgid))
    return found


def _missing(marked: set[tuple[str | None, str]]) -> list[tuple[str | None, str]]:
    catalog = _catalog()
    missing = []
    for context, msgid in sorted(marked, key=str):
        entry = catalog.get(msgid, context=context)
        strings = entry.string if entry is not None else ""
        forms = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or entry.fuzzy or not all(forms):
            missing.append((context, msgid))
    return missing


def test_every_message_our_code_marks_is_translated() -> None:
    marked: set[tuple[str | None, str]] = set()
    for folder in SOURCES:
        marked |= _marked(ROOT / folder, KEYWORDS)
    assert ("account state", "withdrawn") in marked  # the extractor sees NC_
    assert (None, "{n} day") in marked  # and ngettext
    assert _missing(marked) == []


def test_every_message_click_shows_a_user_is_translated() -> None:
    marked = _marked(Path(click.__file__).parent, CLICK_KEYWORDS)
    shown = {(c, m) for c, m in marked if m not in CLICK_FOR_DEVELOPERS}
    assert (None, "Usage:") in shown
    assert _missing(shown) == []


def test_the_catalog_is_japanese_with_one_plural_form() -> None:
    catalog = _catalog()
    assert catalog.locale is not None and str(catalog.locale) == "ja"
    assert catalog.plural_forms == "nplurals=1; plural=0;"
    assert catalog.charset == "utf-8"
    problems = [(m.id, errors) for m, errors in catalog.check()]
    assert problems == []


def test_the_source_compiles_to_the_catalog_the_program_reads() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, _catalog())
    compiled.seek(0)
    fresh = read_mo(compiled)
    assert len(fresh) == len(_catalog())
    if not MO.exists():
        pytest.fail(f"{MO} is missing: run `make catalogs`")
    with MO.open("rb") as installed:
        read = read_mo(installed)
    assert _entries(fresh) == _entries(read), (
        f"{MO} is older than {PO.name}: run `make catalogs`"
    )
    assert MO.parents[2] == i18n.LOCALE_DIR


def _entries(catalog: Catalog) -> dict[tuple[str, str | None], str]:
    return {(str(m.id), m.context): str(m.string) for m in catalog if m.id}
