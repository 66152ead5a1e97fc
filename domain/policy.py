"""Policies are data: the rulebook of SPEC section 3 as values.

A seeker keeps the policy they registered under, so the whole policy is
recorded in their ``Registered`` event; replaying an account never depends on
a preset or a file that may have changed since.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import PolicyFileError
from domain.i18n import N_, _
from domain.parse_errors import where_toml_fails
from domain.typed import as_typed

CHANNELS = ("web", "counter", "phone", "email", "form", "app")
WITHDRAWAL_REASONS = (
    "job_found",
    "search_ended",
    "other_agency",
    "advisor_mismatch",
    "no_suitable_jobs",
    "other",
)


@dataclass(frozen=True)
class Policy:
    """One agency's rules for accounts registered under it."""

    name: str
    timezone: str
    withdrawal_channels: tuple[str, ...]
    """Channels for ``request-withdrawal`` while no advisor is assigned."""
    withdrawal_channels_with_advisor: tuple[str, ...]
    """Channels for ``request-withdrawal`` once an advisor is assigned."""
    identity_check_channels: tuple[str, ...]
    """Withdrawal channels that need the full name and birth date to match."""
    withdrawal_reason_required: bool
    self_application_blocks_withdrawal: bool
    pausing: bool
    advisors: bool
    self_reinstatement_days: int | None
    assisted_reinstatement: bool
    erase_on_withdrawal: bool
    retention_years: int | None
    registration_validity_months: int | None
    """Lapse at the end of the Nth month after the month of the last activity."""
    unreachable_grace_days: int

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def channels_for_withdrawal(self, *, has_advisor: bool) -> tuple[str, ...]:
        if has_advisor and self.advisors:
            return self.withdrawal_channels_with_advisor
        return self.withdrawal_channels

    def alternatives_to_withdrawal(self, reason: str | None) -> list[str]:
        """What the agencies suggest instead of leaving, for these reasons (in
        English, as ``--json`` gives them; ``_`` shows them to people)."""
        if reason == "advisor_mismatch" and self.advisors:
            return [N_("change advisor (cancel-withdrawal, then change-advisor)")]
        if reason == "no_suitable_jobs":
            pause = [N_("pause the service (cancel-withdrawal, then pause)")]
            widen = [N_("widen the search: other job types, areas or conditions")]
            return (pause if self.pausing else []) + widen
        return []

    def to_dict(self) -> dict[str, Any]:
        """Plain data (tuples as lists), as events and policy files hold it.

        Every field is a scalar or a tuple of strings, so a shallow copy is
        a full one (``dataclasses.asdict`` deep-copies: a third of the cost
        of a registration).
        """
        data = {}
        for field in fields(self):
            value = getattr(self, field.name)
            data[field.name] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "policy") -> Policy:
        """Build a policy from plain data, refusing unknown keys and bad values."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise PolicyFileError(
                _("{source}: unknown key(s): {keys}").format(
                    source=source, keys=", ".join(unknown)
                )
            )
        missing = sorted(
            name for name in known if name not in data and name not in _OPTIONAL
        )
        if missing:
            raise PolicyFileError(
                _("{source}: missing key(s): {keys}").format(
                    source=source, keys=", ".join(missing)
                )
            )
        values = {name: _check(source, name, data.get(name)) for name in known}
        if values["withdrawal_channels_with_advisor"] is None:
            values["withdrawal_channels_with_advisor"] = values["withdrawal_channels"]
        return cls(**values)


POLICY_CACHE = 16
"""Distinct policies remembered (an agency has a handful of presets)."""


class Policies:
    """The policies a log registers accounts under, each built once.

    Every ``Registered`` event carries its policy as plain data; building
    and checking a ``Policy`` from it costs more than replaying the rest of
    the account, so the last few are kept, keyed by ``repr`` of the data
    (exact: ``True``, ``1`` and ``1.0`` are different keys). Bounded, so
    memory does not grow with the log.
    """

    def __init__(self, size: int = POLICY_CACHE) -> None:
        self.size = size
        self._built: dict[str, Policy] = {}

    def __call__(self, data: Any) -> Policy:
        key = repr(data)
        policy = self._built.get(key)
        if policy is None:
            policy = Policy.from_dict(data)
            if len(self._built) >= self.size:
                del self._built[next(iter(self._built))]  # the oldest
            self._built[key] = policy
        return policy

    def __len__(self) -> int:
        return len(self._built)


RECORDED = Policies(size=64)
"""The policies accounts were registered under, as the aggregate rebuilds
them at every load (``Seeker`` from its ``Registered`` event): built and
checked once per distinct policy, a tenth of a command's own time."""


_OPTIONAL = {
    "self_reinstatement_days",
    "retention_years",
    "registration_validity_months",
    "withdrawal_channels_with_advisor",
}
_CHANNEL_LISTS = {
    "withdrawal_channels",
    "withdrawal_channels_with_advisor",
    "identity_check_channels",
}
_FLAGS = {
    "withdrawal_reason_required",
    "self_application_blocks_withdrawal",
    "pausing",
    "advisors",
    "assisted_reinstatement",
    "erase_on_withdrawal",
}
_COUNTS = {
    # The largest value that still keeps every due date on the calendar.
    "self_reinstatement_days": 3650,
    "retention_years": 100,
    "registration_validity_months": 120,
    "unreachable_grace_days": 3650,
}


def _check(source: str, key: str, value: Any) -> Any:
    def bad(expected: str) -> PolicyFileError:
        return PolicyFileError(
            _("{source}: {key} must be {expected}, not {given!r}").format(
                source=source, key=key, expected=expected, given=value
            )
        )

    if key == "name":
        if (
            not isinstance(value, str)
            or not value.strip()
            or "/" in value
            or len(value) > MAX_NAME
            or not value.isprintable()
        ):
            raise bad(
                _("a printable name of at most {limit} characters").format(
                    limit=MAX_NAME
                )
            )
        return value.strip()
    if key == "timezone":
        if not isinstance(value, str):
            raise bad(_("an IANA time zone name such as 'Asia/Tokyo'"))
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise bad(_("an IANA time zone name such as 'Asia/Tokyo'")) from None
        return value
    if key in _CHANNEL_LISTS:
        if value is None and key == "withdrawal_channels_with_advisor":
            return None  # filled in from withdrawal_channels below
        if not isinstance(value, list | tuple) or any(c not in CHANNELS for c in value):
            raise bad(
                _("a list of channels from {channels}").format(
                    channels=", ".join(CHANNELS)
                )
            )
        return tuple(value)
    if key in _FLAGS:
        if not isinstance(value, bool):
            raise bad(_("true or false"))
        return value
    if key in _COUNTS:
        if value is None and key in _OPTIONAL:
            return None
        limit = _COUNTS[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 1 <= value <= limit
        ):
            raise bad(_("a whole number from 1 to {limit}").format(limit=limit))
        return value
    raise PolicyFileError(
        _("{source}: unknown key: {key}").format(source=source, key=key)
    )  # pragma: no cover


PRESETS: dict[str, Policy] = {
    "hellowork": Policy(
        name="hellowork",
        timezone="Asia/Tokyo",
        withdrawal_channels=("web", "counter"),
        withdrawal_channels_with_advisor=("web", "counter"),
        identity_check_channels=(),
        withdrawal_reason_required=False,
        self_application_blocks_withdrawal=True,
        pausing=False,
        advisors=False,
        self_reinstatement_days=30,
        assisted_reinstatement=True,
        erase_on_withdrawal=False,
        retention_years=5,
        registration_validity_months=2,
        unreachable_grace_days=30,
    ),
    "pasona": Policy(
        name="pasona",
        timezone="Asia/Tokyo",
        withdrawal_channels=("web",),
        withdrawal_channels_with_advisor=("email", "phone"),
        identity_check_channels=("email", "phone"),
        withdrawal_reason_required=True,
        self_application_blocks_withdrawal=False,
        pausing=False,
        advisors=True,
        self_reinstatement_days=None,
        assisted_reinstatement=False,
        erase_on_withdrawal=True,
        retention_years=None,
        registration_validity_months=None,
        unreachable_grace_days=30,
    ),
    "workport": Policy(
        name="workport",
        timezone="Asia/Tokyo",
        withdrawal_channels=("phone", "email", "form", "app"),
        withdrawal_channels_with_advisor=("phone", "email", "form", "app"),
        identity_check_channels=(),
        withdrawal_reason_required=True,
        self_application_blocks_withdrawal=False,
        pausing=True,
        advisors=True,
        self_reinstatement_days=None,
        assisted_reinstatement=True,
        erase_on_withdrawal=False,
        retention_years=3,
        registration_validity_months=None,
        unreachable_grace_days=30,
    ),
}


MAX_POLICY_FILE = 64 * 1024
"""A policy is a couple of dozen keys; anything larger is not one."""
MAX_NAME = 64


def load_policy(name_or_path: str) -> Policy:
    """A preset by name (as typed: ``ｗｏｒｋｐｏｒｔ`` is ``workport``), or a
    policy from a TOML file (its path taken byte for byte).

    A file may say ``based_on = "<preset>"`` and then give only the keys it
    changes; otherwise it must give every key.
    """
    preset = as_typed(name_or_path).strip()
    if preset in PRESETS:
        return PRESETS[preset]
    path = Path(name_or_path)
    if path.suffix != ".toml":
        raise PolicyFileError(
            _(
                "unknown policy {given!r} (presets: {presets}; or a path to a "
                ".toml file)"
            ).format(given=name_or_path, presets=", ".join(PRESETS))
        )
    import tomllib  # only for policy files: 6 ms of every CLI run otherwise

    try:
        if path.stat().st_size > MAX_POLICY_FILE:
            raise PolicyFileError(
                _(
                    "{path}: {size} bytes; a policy file is at most {limit} bytes"
                ).format(path=path, size=path.stat().st_size, limit=MAX_POLICY_FILE)
            )
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise PolicyFileError(
            _("{path}: nested too deeply to be a policy").format(path=path)
        ) from None
    except FileNotFoundError:
        raise PolicyFileError(
            _("policy file not found: {path}").format(path=path)
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyFileError(
            _("cannot read policy file {path}: {error}").format(path=path, error=error)
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise PolicyFileError(
            _("{path}: not valid TOML: {error}").format(
                path=path, error=where_toml_fails(error)
            )
        ) from None
    base_name = data.pop("based_on", None)
    if base_name is not None:
        if not isinstance(base_name, str) or base_name not in PRESETS:
            raise PolicyFileError(
                _("{path}: based_on must be one of {presets}, not {given!r}").format(
                    path=path, presets=", ".join(PRESETS), given=base_name
                )
            )
        data = {**PRESETS[base_name].to_dict(), **data}
    policy = Policy.from_dict(data, source=str(path))
    if policy.name.casefold() in PRESETS:
        raise PolicyFileError(
            _("{path}: name {name!r} is taken by a preset").format(
                path=path, name=policy.name
            )
        )
    return policy
