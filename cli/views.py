"""The JSON shapes of SPEC section 5, built from accounts and their history.

Times are shown in the account's policy time zone, as ISO 8601 with offset.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from domain.glossary import TERMS, label, policy_name
from domain.i18n import NC_, _, language, pgettext

if TYPE_CHECKING:
    from domain.history import HistoryEntry
    from domain.policy import Policy
    from domain.seeker import Seeker
    from domain.values import JobApplication


def iso(value: datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat() if value is not None else None


def plain(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return iso(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(item, zone) for item in value]
    if isinstance(value, dict):
        return {key: plain(item, zone) for key, item in value.items()}
    return value


def application_view(application: JobApplication, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": application.id,
        "job": application.job,
        "route": application.route,
        "status": application.status,
        "applied_at": iso(application.applied_at, zone),
        "interview_at": iso(application.interview_at, zone),
        "interview_round": application.interview_round,
        "final_round": application.final_round,
        "outcome": application.outcome,
    }


def account_view(seeker: Seeker) -> dict[str, Any]:
    zone = seeker.policy.zone
    personal: Any = seeker.personal
    # Still sealed: read by a login that may not open the seekers' keys (the
    # auditor's role): the fields are withheld, not erased.
    sealed = personal is not None and not hasattr(personal, "birth_date")
    if sealed:
        personal = None
    return {
        "id": str(seeker.id),
        "policy": seeker.policy.name,
        "status": seeker.status,
        "status_since": iso(seeker.status_since, zone),
        "version": seeker.version,
        "personal_sealed": sealed,
        "name": personal.name if personal else None,
        "name_kana": personal.name_kana if personal else None,
        "email": personal.email if personal else None,
        "phone": personal.phone if personal else None,
        "birth_date": personal.birth_date.isoformat()
        if personal and personal.birth_date
        else None,
        "registered_at": iso(seeker.registered_at, zone),
        "registration_channel": seeker.registration_channel,
        "advisor": seeker.advisor,
        "last_activity_at": iso(seeker.last_activity_at, zone),
        "registration_lapses_at": iso(seeker.registration_lapses_at, zone),
        "unreachable_since": iso(seeker.unreachable_since, zone),
        "unreachable_lapses_at": iso(seeker.unreachable_lapses_at, zone),
        "contact_attempts": seeker.contact_attempts,
        "withdrawal": {
            "channel": seeker.withdrawal_channel,
            "reason": seeker.withdrawal_reason,
            "erase_requested": seeker.erase_requested,
            "timing": seeker.withdrawal_timing,
            "withdrawn_at": iso(seeker.withdrawn_at, zone),
            "self_reinstatement_deadline": iso(
                seeker.self_reinstatement_deadline, zone
            ),
        },
        "invalid_since": iso(seeker.invalid_since, zone),
        "purge_due_at": iso(seeker.purge_due_at, zone),
        "purged_at": iso(seeker.purged_at, zone),
        "purge_reason": seeker.purge_reason,
        "applications": [application_view(a, zone) for a in seeker.applications],
        "allowed": seeker.allowed_commands(),
    }


def history_entry_view(
    entry: HistoryEntry, zone: ZoneInfo, *, database_logins: bool = False
) -> dict[str, Any]:
    """``database_logins``: the store authenticates who writes (PostgreSQL's
    logins), so a known principal is verified; SQLite's OS user is not."""
    return {
        "version": entry.version,
        "type": entry.type,
        "occurred_at": iso(entry.occurred_at, zone),
        "recorded_at": iso(entry.recorded_at, zone),
        "actor": entry.actor,
        "principal": entry.principal,
        "principal_verified": database_logins and entry.principal is not None,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "backdated": entry.backdated,
        **plain(entry.details, zone),
    }


def actor_text(entry: dict[str, Any]) -> str:
    """Who did it, as ``history`` prints it: the actor, and the login that
    recorded it when that is someone else (``suzuki (via login portal)``)."""
    actor: str = entry["actor"]
    principal = entry.get("principal")
    if principal is None:
        return _("{actor} (login unknown)").format(actor=actor)
    if principal == actor:
        return actor
    return _("{actor} (via login {principal})").format(actor=actor, principal=principal)


HISTORY_COLUMNS = frozenset(
    {
        "version",
        "type",
        "occurred_at",
        "recorded_at",
        "actor",
        "principal",
        "principal_verified",
        "from_state",
        "to_state",
        "backdated",
    }
)
"""The fields of a history entry every rendering shows in columns of its own."""


def details_text(entry: dict[str, Any]) -> str:
    """An event's own fields (``key=value``), as ``history`` prints them; in
    Japanese each field and each coded value by its name for people
    (``応募経路：自己応募``), ids and free text (a job, a name) as recorded."""
    shown = [
        (key, value)
        for key, value in entry.items()
        if key not in HISTORY_COLUMNS and value not in (None, False, [])
    ]
    if language() != "ja":
        return " ".join(f"{key}={value}" for key, value in shown)
    return pgettext("list separator", ", ").join(
        _("{field}: {value}").format(
            field=term("event field", key), value=_detail(entry["type"], key, value)
        )
        for key, value in shown
    )


DETAIL_KINDS: dict[tuple[str | None, str], str] = {
    (None, "policy"): "policy",
    (None, "channel"): "channel",
    (None, "route"): "application route",
    (None, "timing"): "withdrawal timing",
    (None, "mode"): "reinstatement mode",
    ("ApplicationClosed", "outcome"): "application outcome",
    ("ContactAttempted", "outcome"): "contact outcome",
    ("WithdrawalRequested", "reason"): "withdrawal reason",
    ("Lapsed", "reason"): "lapse reason",
    ("Purged", "reason"): "recorded purge reason",
}
"""The glossary kind of an event field's coded values (``None``: any event)."""

DETAIL_COUNTERS = {
    "round_number": "interview round",
    "notice_hours": "hours",
    "days_after_withdrawal": "days",
}
"""The counter of an event field's numbers, in Japanese (``2次``, ``5日``)."""


REPORT_COLUMN_KINDS = {
    "policy": "policy",
    "status": "account state",
    "reason": "withdrawal reason",
    "channel": "channel",
    "timing": "withdrawal timing",
    "mode": "reinstatement mode",
}
"""The glossary kind of the codes each report column holds (the report
tables and the report page name them alike)."""


UNSPECIFIED = NC_("report value", "unspecified")
"""What the withdrawals report counts under when no reason (or channel) was
recorded (``projections.accounts``)."""


def term(kind: str, value: Any) -> str:
    """``value`` (a code of glossary ``kind``) as people call it; as it is
    when the glossary has none (a policy read from a file, a code the
    glossary does not list yet); ``-`` for none."""
    if value is None:
        return "-"
    if value == UNSPECIFIED:
        return pgettext("report value", UNSPECIFIED)
    if kind == "policy":
        return policy_name(str(value))
    return label(kind, value) if value in TERMS.get(kind, ()) else str(value)


def _detail(event: str, key: str, value: Any) -> str:
    """One field's value in a Japanese history line."""
    from domain.dates_for_people import counted, era_wanted, format_iso

    kind = DETAIL_KINDS.get((event, key)) or DETAIL_KINDS.get((None, key))
    if kind is not None:
        return term(kind, value)
    if value is True:
        return pgettext("yes or no", "yes")
    if key in DETAIL_COUNTERS:
        return counted(DETAIL_COUNTERS[key], value)
    if key.endswith("_at") and isinstance(value, str):
        return format_iso(value, era=era_wanted())
    return str(value)


def policy_view(policy: Policy) -> dict[str, Any]:
    return policy.to_dict()
