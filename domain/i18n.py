"""The language of every human-readable line (SPEC §5, "Language").

One gettext catalog (``domain/locale/<lang>/LC_MESSAGES/seekers.po``,
compiled to ``.mo`` by ``make``) holds every message in Japanese; the
message ids are the English texts, so English needs no catalog. Messages
are marked where they are written, in whatever layer (``_("…")``, with
``str.format`` fields named, never positional, so a translation may reorder
them), and looked up when they are made: the CLI chooses the language
(``--lang``, ``SEEKERS_LANG``, the locale) before anything is said.

This is not printing: the domain still returns and raises texts, it only
asks which words to use. ``--json`` output keeps its codes, ids and field
names whatever the language.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from pathlib import Path

DOMAIN = "seekers"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "ja")
DEFAULT = "en"
LANG_ENV = "SEEKERS_LANG"
LOCALE_ENVS = ("LC_ALL", "LC_MESSAGES", "LANG")

_active: gettext.NullTranslations = gettext.NullTranslations()
_language = DEFAULT


def choose(given: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """``--lang`` if given, else ``SEEKERS_LANG``, else the locale: the first
    of ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that is set decides (as the C
    library does); ``ja`` or ``ja_JP.UTF-8`` gives Japanese, anything else
    English."""
    for value in (given, environ.get(LANG_ENV)):
        if value and value.strip():
            return value.strip().lower()
    for name in LOCALE_ENVS:
        value = environ.get(name, "").strip()
        if value:
            return "ja" if value.lower().startswith("ja") else DEFAULT
    return DEFAULT


def activate(language: str) -> None:
    """Speak ``language`` from now on (``en`` or ``ja``), click's own
    messages included: click asks the standard ``gettext`` module, whose
    default domain is pointed at this catalog."""
    global _active, _language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    _language = language
    _active = gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True
    )
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = language  # what gettext.gettext reads, for click


def language() -> str:
    """The language chosen for this run."""
    return _language


def _(message: str) -> str:
    """``message`` in the chosen language."""
    return _active.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form for ``count`` in the chosen language (Japanese has one)."""
    return _active.ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """``message`` in the chosen language, as ``context`` means it: one
    English word may need two Japanese ones (``withdrawn``: an account
    退会済み, an application's close outcome 辞退)."""
    return _active.pgettext(context, message)


def NC_(context: str, message: str) -> str:
    """``N_`` with a context: marks ``message`` for ``pgettext(context, …)``."""
    return message


def N_(message: str) -> str:
    """Marks ``message`` for the catalog without translating it now (a
    constant, a table of labels): ``_`` translates it where it is shown."""
    return message
