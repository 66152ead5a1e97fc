"""Which language a run speaks (SPEC §5, "Language"): ``--lang``, then
``SEEKERS_LANG``, then the locale as the C library reads it; English unless
Japanese is asked for. The catalog itself is issue #21's next step: until it
exists, every language reads the English message ids."""

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


def test_without_a_catalog_the_message_ids_are_the_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANGUAGE", "en")
    try:
        i18n.activate("ja")
        assert i18n.language() == "ja"
        assert i18n._("policy {policy} does not offer pausing") == (
            "policy {policy} does not offer pausing"
        )
        assert i18n.ngettext("{n} event", "{n} events", 3) == "{n} events"
        assert i18n.N_("paused") == "paused"
    finally:
        i18n.activate("en")
