"""The glossary (SPEC §5, "Language"): every code the ledger keeps has one
name for people, in English and, through the catalog, in Japanese; a new
state, reason or channel without its name fails here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields

import pytest

from domain import glossary, i18n
from domain.events import EVENT_CLASSES
from domain.guards import WITHDRAWAL_TIMINGS, known_guards
from domain.history import _NOT_DETAILS
from domain.policy import CHANNELS, PRESETS, WITHDRAWAL_REASONS, Policy
from domain.rules import ACCOUNT, APPLICATION
from domain.seeker import (
    CONTACT_CHANNELS,
    CONTACT_OUTCOMES,
    DECLINE_CHANNELS,
    OUTCOMES,
    PURGE_REASONS,
    ROUTES,
)

DOMAIN_SETS: dict[str, set[str]] = {
    "account state": set(ACCOUNT.states),
    "application state": set(APPLICATION.states),
    "command": set(ACCOUNT.commands) | set(APPLICATION.commands),
    "withdrawal reason": set(WITHDRAWAL_REASONS),
    "channel": set(CHANNELS) | set(CONTACT_CHANNELS) | set(DECLINE_CHANNELS),
    "contact outcome": set(CONTACT_OUTCOMES),
    "application route": set(ROUTES),
    "close outcome": set(OUTCOMES),
    "purge reason": set(PURGE_REASONS),
    "policy": set(PRESETS),
    "event": {kind.__name__ for kind in EVENT_CLASSES},
    "guard": set(known_guards()),
    "event field": {field.name for kind in EVENT_CLASSES for field in fields(kind)}
    - _NOT_DETAILS,
    "rule": {field.name for field in fields(Policy)} - {"name"},
    "withdrawal timing": set(WITHDRAWAL_TIMINGS),
    # Written where they are recorded (domain/seeker.py, domain/deadlines.py),
    # with no constant of their own yet.
    "reinstatement mode": {"self_service", "assisted"},
    "lapse reason": {"manual", "registration_expired", "unreachable_grace"},
    "application outcome": set(OUTCOMES) | {"declined", "declined_on_withdrawal"},
    "recorded purge reason": set(PURGE_REASONS) | {"erased_on_withdrawal"},
}


@pytest.fixture
def japanese(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LANGUAGE", "en")  # restored after activate's change
    i18n.activate("ja")
    yield
    i18n.activate("en")


def test_every_kind_is_read_off_the_domain() -> None:
    assert set(glossary.KINDS) == set(DOMAIN_SETS) == set(glossary.TERMS)


@pytest.mark.parametrize("kind", sorted(DOMAIN_SETS))
def test_every_code_of_the_domain_has_exactly_one_entry(kind: str) -> None:
    terms = glossary.TERMS[kind]
    assert len(terms) == len(set(terms))
    assert set(terms) == DOMAIN_SETS[kind]


@pytest.mark.usefixtures("japanese")
@pytest.mark.parametrize("kind", sorted(DOMAIN_SETS))
def test_every_code_has_its_japanese_name(kind: str) -> None:
    untranslated = [
        value
        for value in DOMAIN_SETS[kind]
        if glossary.label(kind, value) in ("", value)
        or glossary.label(kind, value).isascii()
    ]
    assert untranslated == []


def test_in_english_a_label_is_the_code_as_shown_today() -> None:
    assert glossary.label("account state", "withdrawn") == "withdrawn"
    assert glossary.label("command", "decline-interview") == "decline-interview"


@pytest.mark.usefixtures("japanese")
@pytest.mark.parametrize(
    ("kind", "value", "term"),
    [
        ("account state", "withdrawn", "退会済み"),
        ("account state", "withdrawal_requested", "退会申請中"),
        ("account state", "lapsed", "有効期限切れ"),
        ("account state", "unreachable", "連絡不通"),
        ("account state", "paused", "サービス停止中"),
        ("command", "request-withdrawal", "退会申請"),
        ("command", "withdraw", "退会"),
        ("command", "apply", "応募"),
        ("command", "decline-interview", "面接辞退"),
        ("command", "reinstate", "利用再開"),
        ("command", "purge", "個人情報の削除"),
        ("close outcome", "withdrawn", "辞退"),
        ("channel", "counter", "窓口"),
        ("policy", "hellowork", "ハローワーク"),
        ("rule", "registration_validity_months", "求職登録の有効期限"),
        ("event field", "job", "求人"),
        ("withdrawal timing", "final_stage", "最終選考中"),
    ],
)
def test_the_japanese_follows_the_seeds(kind: str, value: str, term: str) -> None:
    assert glossary.label(kind, value) == term


def test_an_unknown_code_is_refused_not_shown_raw() -> None:
    with pytest.raises(KeyError, match="no glossary entry for account state 'gone'"):
        glossary.label("account state", "gone")
    with pytest.raises(KeyError):
        glossary.label("colour", "red")
