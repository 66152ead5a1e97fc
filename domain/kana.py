"""The reading of a name in katakana (フリガナ), as people type it.

Japanese forms ask for a name's reading beside the name, because kanji alone
do not say how a name is pronounced, nor how it sorts: 山田 may be ヤマダ or
ヤマタ. People type the reading in katakana or in hiragana, full-width or
half-width (NFKC, applied at every boundary, has already made half-width
katakana full-width), with a space or a middle dot between the family name
and the given name, or nothing.

A reading is kept in katakana, its parts separated by one space, and is
found by the whole reading or by any one of its parts: ``ヤマダ``, ``タロウ``,
``やまだ たろう`` and ``ヤマダタロウ`` all find ``ヤマダ タロウ``. A reading
typed as one run (``ヤマダタロウ``) is one part: nothing here can tell where
the family name ends.
"""

from __future__ import annotations

import re

from domain.errors import BadValue
from domain.i18n import _

HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)} | {
    0x309D: 0x30FD,  # ゝ ヽ
    0x309E: 0x30FE,  # ゞ ヾ
}
"""Hiragana and its iteration marks, one code point below their katakana."""

KATAKANA = re.compile(r"[\u30A1-\u30FA][\u30A1-\u30FA\u30FC\u30FD\u30FE]*")
"""A part of a reading: a katakana letter, then katakana, the long-vowel
mark ー or the iteration marks (neither of which starts a word)."""

SEPARATORS = re.compile(r"[\s\u30FB]+")
"""Between the parts of a reading: spaces (the ideographic one is a space
after NFKC) and the middle dot ・."""


def reading(text: str) -> str:
    """``text`` as a stored reading: katakana, parts separated by one space.

    Raises ``BadValue`` for anything that is not kana (kanji, Latin letters,
    digits): a reading says how the name sounds, it does not repeat it.
    """
    parts = _parts(text)
    if not parts:
        raise BadValue(_("the reading of the name must not be empty"))
    return " ".join(parts)


def search_keys(stored: str) -> list[str]:
    """What a stored reading is found by: the whole (parts joined without a
    separator) and each part, each once."""
    parts = _parts(stored)
    return list(dict.fromkeys(["".join(parts), *parts]))


def query_key(text: str) -> str:
    """What someone looking for a reading typed, as one search key."""
    return "".join(reading(text).split(" "))


def _parts(text: str) -> list[str]:
    parts = SEPARATORS.split(text.translate(HIRAGANA_TO_KATAKANA).strip())
    parts = [part for part in parts if part]
    for part in parts:
        if not KATAKANA.fullmatch(part):
            raise BadValue(
                _(
                    "the reading of a name is written in katakana or hiragana: "
                    "{given!r}"
                ).format(given=text)
            )
    return parts
