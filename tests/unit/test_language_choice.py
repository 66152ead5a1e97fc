"""Which language a run speaks (SPEC §5, "Language"): ``--lang``, then
``SEEKERS_LANG``, then the locale as the C library reads it; English unless
Japanese is asked for. A message the catalog does not hold reads as its
English message id in every language."""

from __future__ import annotations

import pytest

from domain import i18n


@pytest.mark.parametrize(
    ("given", "environ", "expected"),
    [
        (None, {}, "en"),
        ("ja", {}, "ja"),
        ("EN", {"SEEKERS_LANG": "ja"}, "en"),
        (None, {"SEEKERS_LANG": "ja", "LC_ALL": "en_US.UTF-8"}, "ja"),
        (None, {"LC_ALL": "ja_JP.UTF-8", "LANG": "en_US.UTF-8"}, "ja"),
        (None, {"LC_ALL": "C", "LANG": "ja_JP.UTF-8"}, "en"),
        (None, {"LC_MESSAGES": "ja_JP.eucJP", "LANG": "C"}, "ja"),
        (None, {"LANG": "ja_JP.UTF-8"}, "ja"),
        (None, {"LANG": "fr_FR.UTF-8"}, "en"),
        ("  ", {"SEEKERS_LANG": " ", "LANG": "ja"}, "ja"),
    ],
)
def test_the_first_setting_given_decides(
    given: str | None, environ: dict[str, str], expected: str
) -> None:
    assert i18n.choose(given, environ) == expected


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        i18n.activate("fr")


def test_a_message_the_catalog_does_not_hold_is_its_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANGUAGE", "en")
    try:
        i18n.activate("ja")
        assert i18n.language() == "ja"
        assert i18n._("a message no catalog holds {n}") == (
            "a message no catalog holds {n}"
        )
        assert i18n.ngettext("{n} thing never said", "{n} things never said", 3) == (
            "{n} things never said"
        )
        assert i18n.N_("paused") == "paused"
    finally:
        i18n.activate("en")
