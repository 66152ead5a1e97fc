"""Input as people type it (SPEC §5): one form for every text.

A Japanese keyboard gives full-width letters, digits, ``＠``, ``．``, ``－``
and the ideographic space as readily as ASCII, and old systems export
half-width katakana. Unicode NFKC folds each of them into the one form a
check or a comparison expects (``ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ`` is
``taro@example.jp``, ``ﾔﾏﾀﾞ`` is ``ヤマダ``) and leaves ASCII, kanji and
full-width kana as they are, so text written before this normalization
existed keeps comparing equal to itself.

Applied once at each boundary: the CLI's text options (``cli.params``) and
every field of an import file (``services.importing``); the date parser
applies it too, so the domain reads ``令和８年２月２日`` whoever calls it.
Paths, database URLs and stored event bytes are never passed through it.
"""

from __future__ import annotations

import unicodedata
from typing import Any


def as_typed(text: str) -> str:
    """``text`` in NFKC: full-width ASCII as ASCII, half-width kana as full-width."""
    return unicodedata.normalize("NFKC", text)


DASHES = str.maketrans(dict.fromkeys("\u2010\u2012\u2013\u2014\u2015\u2212\u30fc", "-"))
"""Dashes NFKC leaves alone but people type between a phone number's
digits: hyphens and dashes (‐ ‒ – — ―), the minus sign (−), and the
katakana long-vowel mark (ー, which a Japanese IME gives for the ``-`` key
in kana mode; half-width ｰ is ー after NFKC)."""


def phone_as_typed(text: str) -> str:
    """A phone number in NFKC with every dash as ``-``: ``０９０ー１２３４ー５６７８``
    is ``090-1234-5678``. Only for phone numbers: in a name, ー is a letter."""
    return as_typed(text).translate(DASHES)


LINE_BREAKS = frozenset("\n\r\t\v\f\x1c\x1d\x1e\x85\u2028\u2029")
"""What ends a line somewhere (``str.splitlines`` splits on each), and tab."""


def is_one_line(text: str) -> bool:
    """Whether ``text`` stays on one line wherever it is shown: who acted is
    a cell of the audit trail, and a line break in it would draw a row of
    its own there (an event that never happened)."""
    return LINE_BREAKS.isdisjoint(text)


def as_typed_fields(value: Any) -> Any:
    """Every string in a decoded JSON value in NFKC (keys are left alone:
    they are the format's field names, not what someone typed)."""
    if isinstance(value, str):
        return as_typed(value)
    if isinstance(value, dict):
        return {key: as_typed_fields(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_typed_fields(item) for item in value]
    return value
