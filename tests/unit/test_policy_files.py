"""SPEC §3 policy files (TOML): the same keys as the presets, optionally
``based_on`` one; unknown keys and invalid values are a clear error at load
time.

Only I/O: the policy files written to ``tmp_path``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from domain.errors import PolicyFileError
from domain.policy import PRESETS, RECORDED, Policy, load_policy
from tests.unit.aggregates import (
    register,
    tokyo,
)

# ---------------------------------------------------------------------------
# Policy files.
# ---------------------------------------------------------------------------

FULL_POLICY = """\
name = "smallagency"
timezone = "Europe/London"
withdrawal_channels = ["web", "email"]
withdrawal_channels_with_advisor = ["phone"]
identity_check_channels = ["phone"]
withdrawal_reason_required = true
self_application_blocks_withdrawal = false
pausing = true
advisors = true
self_reinstatement_days = 14
assisted_reinstatement = true
erase_on_withdrawal = false
retention_years = 2
registration_validity_months = 6
unreachable_grace_days = 45
"""


def write(tmp_path: Path, text: str, name: str = "agency.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_policy_file_based_on_a_preset_overrides_only_its_keys(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        'based_on = "workport"\nname = "myagency"\nretention_years = 2\n',
    )

    policy = load_policy(path)

    assert policy.name == "myagency"
    assert policy.retention_years == 2
    expected = dataclasses.replace(
        PRESETS["workport"], name="myagency", retention_years=2
    )
    assert policy == expected


def test_policy_file_with_every_key(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, FULL_POLICY))

    assert policy == Policy(
        name="smallagency",
        timezone="Europe/London",
        withdrawal_channels=("web", "email"),
        withdrawal_channels_with_advisor=("phone",),
        identity_check_channels=("phone",),
        withdrawal_reason_required=True,
        self_application_blocks_withdrawal=False,
        pausing=True,
        advisors=True,
        self_reinstatement_days=14,
        assisted_reinstatement=True,
        erase_on_withdrawal=False,
        retention_years=2,
        registration_validity_months=6,
        unreachable_grace_days=45,
    )


def test_policy_file_policy_round_trips_through_the_registered_event(
    tmp_path: Path,
) -> None:
    policy = load_policy(write(tmp_path, FULL_POLICY))
    seeker = register(policy, tokyo(2025, 1, 5, 10, 0))

    assert seeker.policy == policy


def test_presets_load_by_name() -> None:
    for name, preset in PRESETS.items():
        assert load_policy(name) is preset


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (FULL_POLICY + "colour = 'blue'\n", "unknown key(s): colour"),
        ('based_on = "workport"\nname = "x"\nrentention_years = 2\n', "rentention"),
        (
            FULL_POLICY.replace("retention_years = 2", 'retention_years = "two"'),
            "retention_years",
        ),
        (FULL_POLICY.replace("pausing = true", 'pausing = "yes"'), "pausing"),
        (FULL_POLICY.replace("pausing = true", "pausing = 1"), "pausing"),
        (
            FULL_POLICY.replace(
                'withdrawal_channels = ["web", "email"]',
                'withdrawal_channels = ["fax"]',
            ),
            "withdrawal_channels",
        ),
        (
            FULL_POLICY.replace(
                'withdrawal_channels = ["web", "email"]', 'withdrawal_channels = "web"'
            ),
            "withdrawal_channels",
        ),
        (
            FULL_POLICY.replace(
                "unreachable_grace_days = 45", "unreachable_grace_days = 0"
            ),
            "unreachable_grace_days",
        ),
        (
            FULL_POLICY.replace(
                "self_reinstatement_days = 14", "self_reinstatement_days = 1.5"
            ),
            "self_reinstatement_days",
        ),
        (
            FULL_POLICY.replace(
                "self_reinstatement_days = 14", "self_reinstatement_days = true"
            ),
            "self_reinstatement_days",
        ),
        (FULL_POLICY.replace('name = "smallagency"', "name = 7"), "name"),
        (
            FULL_POLICY.replace(
                'timezone = "Europe/London"', 'timezone = "Mars/Olympus"'
            ),
            "timezone",
        ),
        (
            FULL_POLICY.replace('timezone = "Europe/London"', "timezone = 9"),
            "timezone",
        ),
        (FULL_POLICY.replace("pausing = true\n", ""), "missing key(s): pausing"),
        ('based_on = "indeed"\nname = "x"\n', "based_on"),
        ('based_on = "workport"\n', "taken by a preset"),
        (FULL_POLICY.replace('"smallagency"', '"hellowork"'), "taken by a preset"),
    ],
    ids=[
        "unknown-key",
        "misspelt-key-with-based-on",
        "count-as-string",
        "flag-as-string",
        "flag-as-integer",
        "unknown-channel",
        "channels-not-a-list",
        "count-zero",
        "count-as-float",
        "count-as-bool",
        "name-not-a-string",
        "bad-timezone",
        "timezone-not-a-string",
        "missing-key",
        "unknown-preset",
        "name-clash-via-based-on",
        "name-clash",
    ],
)
def test_policy_file_errors_are_clear(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(PolicyFileError) as error:
        load_policy(path)

    message = str(error.value)
    assert fragment in message
    assert "\n" not in message


def test_missing_policy_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"

    with pytest.raises(PolicyFileError, match="not found") as error:
        load_policy(str(path))

    assert str(path) in str(error.value)


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "name = \n[[[")

    with pytest.raises(PolicyFileError, match="not valid TOML"):
        load_policy(path)


def test_unknown_policy_name_is_a_clear_error() -> None:
    with pytest.raises(PolicyFileError, match="unknown policy 'indeed'"):
        load_policy("indeed")


@pytest.mark.parametrize("based_on", ['["workport"]', "{ preset = 'workport' }"])
def test_based_on_that_is_not_a_preset_name_is_a_clear_error(
    tmp_path: Path, based_on: str
) -> None:
    path = write(tmp_path, f'based_on = {based_on}\nname = "x"\n')

    with pytest.raises(PolicyFileError, match="based_on"):
        load_policy(path)


@pytest.mark.parametrize(
    "key",
    [
        "retention_years",
        "self_reinstatement_days",
        "unreachable_grace_days",
        "registration_validity_months",
    ],
)
def test_counts_beyond_the_calendar_are_refused_at_load_time(
    tmp_path: Path, key: str
) -> None:
    path = write(tmp_path, f'based_on = "hellowork"\nname = "x"\n{key} = 10000000\n')

    with pytest.raises(PolicyFileError, match=key):
        load_policy(path)


@pytest.mark.parametrize(
    ("key", "limit"),
    [
        ("retention_years", 100),
        ("self_reinstatement_days", 3650),
        ("unreachable_grace_days", 3650),
        ("registration_validity_months", 120),
    ],
)
def test_counts_up_to_their_limit_load_and_one_more_is_refused(
    tmp_path: Path, key: str, limit: int
) -> None:
    at_limit = write(tmp_path, f'based_on = "hellowork"\nname = "x"\n{key} = {limit}\n')
    assert getattr(load_policy(at_limit), key) == limit
    beyond = tmp_path / "beyond.toml"
    beyond.write_text(f'based_on = "hellowork"\nname = "y"\n{key} = {limit + 1}\n')
    with pytest.raises(PolicyFileError, match=f"{key} must be a whole number from 1"):
        load_policy(str(beyond))


def test_a_recorded_policy_is_built_once_and_still_checked() -> None:
    recorded = PRESETS["workport"].to_dict()
    first = RECORDED(recorded)
    assert first == PRESETS["workport"]
    assert RECORDED(dict(recorded)) is first  # equal data: the same policy
    changed = {**recorded, "unreachable_grace_days": 45}
    other = RECORDED(changed)
    assert other is not first and other.unreachable_grace_days == 45
    with pytest.raises(PolicyFileError):
        RECORDED({**recorded, "unreachable_grace_days": -1})
