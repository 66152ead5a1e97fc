"""Importing an agency's existing records (``seekers import``, SPEC §5).

A file holds events, one a line (JSON Lines), or registrations (CSV). Lines
are grouped by ``ref``, the account's id in the old system; each account is
checked whole and goes in whole or not at all. Histories are recorded as
they happened, without asking today's rules (``Seeker.record_imported``);
``seekers audit replay`` lists what those rules would refuse.

The account id is ``uuid5(IMPORT_NAMESPACE, ref)``, so a rerun finds the
accounts it wrote: an existing account's first ``version`` lines must match
its stored events (same type, time, actor and fields), and are skipped as
already in; further lines continue its stream. A line identical to an
earlier line of its account (every field, the time included) is the same
record exported twice: it is skipped as already in too, and reported, so
that positions stay the same from one run to the next.

Every field is read as people type it (NFKC, ``domain.typed``): full-width
letters, digits, ``＠`` and ``－`` count as ASCII, half-width katakana as
full-width, and dates may be written ``令和8年2月2日`` (``domain.eras``). The
one exception is ``ref``: it is the old system's key and the account id is
derived from it for good, so it is taken byte for byte (a ref imported
before normalization existed still names the same account).

No printing, no click: the use case returns an ``ImportReport``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.persistence import IntegrityError

from domain import events
from domain.errors import BadValue, Conflict
from domain.glossary import label, policy_name
from domain.guards import WITHDRAWAL_TIMINGS, withdrawal_timing
from domain.i18n import _, language
from domain.parse_errors import where_json_fails
from domain.policy import CHANNELS, PRESETS, WITHDRAWAL_REASONS
from domain.refusals import moment
from domain.seeker import (
    CONTACT_CHANNELS,
    CONTACT_OUTCOMES,
    DECLINE_CHANNELS,
    LAST_MINUTE_HOURS,
    OUTCOMES,
    PURGE_REASONS,
    ROUTES,
    Seeker,
)
from domain.timerules import (
    FUTURE_TOLERANCE,
    days_between,
    parse_date,
    parse_instant,
    utcnow,
)
from domain.typed import as_typed, as_typed_fields, is_one_line
from domain.values import PersonalData
from privacy.vault import normalise_email
from services.ledger import SeekerLedger, _registration_personal_data

IMPORT_NAMESPACE = UUID("6f1d3c2a-9b4e-5a7d-8c3f-2e1b0a9d8c7b")
"""Fixed for good: the same ``ref`` always names the same account."""
SAVE_BATCH = 200
"""Accounts saved per transaction."""
CSV_HEADER = (
    "ref",
    "policy",
    "name",
    "email",
    "birth_date",
    "phone",
    "channel",
    "advisor",
    "occurred_at",
    "actor",
)
CSV_OPTIONAL = ("name_kana",)
"""Columns a CSV may add after ``CSV_HEADER`` (files written before them
still import as they are)."""
COMMON = ("ref", "type", "occurred_at", "actor")
REGISTRATION = (
    "policy",
    "name",
    "name_kana",
    "email",
    "birth_date",
    "phone",
    "channel",
    "advisor",
    "note",
)
ALLOWED_VALUES: dict[tuple[str, str], tuple[str | None, ...]] = {
    ("Applied", "route"): ROUTES,
    ("InterviewDeclined", "channel"): DECLINE_CHANNELS,
    ("ApplicationClosed", "outcome"): (*OUTCOMES, "declined_on_withdrawal"),
    ("ContactAttempted", "channel"): CONTACT_CHANNELS,
    ("ContactAttempted", "outcome"): CONTACT_OUTCOMES,
    ("WithdrawalRequested", "channel"): CHANNELS,
    ("WithdrawalRequested", "reason"): (*WITHDRAWAL_REASONS, None),
    ("Withdrawn", "timing"): WITHDRAWAL_TIMINGS,
    ("Reinstated", "mode"): ("self_service", "assisted"),
    ("Purged", "reason"): (*PURGE_REASONS, "erased_on_withdrawal"),
}
EVENT_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in events.EVENT_CLASSES}


class BadLine(Exception):
    """Why one line cannot go in (the message of ``line N: why``)."""


@dataclass(frozen=True)
class Rejection:
    line: int
    ref: str | None
    why: str


@dataclass(frozen=True)
class Duplicate:
    line: int
    same_as: int
    ref: str


@dataclass
class ImportReport:
    """What an import did (or, dry, would do)."""

    dry_run: bool = False
    lines: int = 0
    accounts: int = 0
    """Accounts written to: new ones and continued ones."""
    new_accounts: int = 0
    continued_accounts: int = 0
    events: int = 0
    """Events imported."""
    already: int = 0
    """Lines already in the store, or repeating an earlier line (skipped)."""
    rejected: int = 0
    """Lines not imported: the bad ones and every other line of their accounts."""
    rejections: list[Rejection] = field(default_factory=list)
    """The bad lines, each with why."""
    duplicates: list[Duplicate] = field(default_factory=list)
    """Lines of imported accounts that repeat an earlier line (skipped)."""
    ids: dict[str, UUID] = field(default_factory=dict)
    """Account id of every ref written to."""

    @property
    def ok(self) -> bool:
        return self.rejected == 0


@dataclass
class _Line:
    number: int
    ref: str | None
    record: dict[str, Any] | None
    problem: str | None = None


def account_id(ref: str) -> UUID:
    return uuid5(IMPORT_NAMESPACE, ref)


# -- reading the file ---------------------------------------------------------

_REF = re.compile(r'"ref"\s*:\s*"((?:[^"\\]|\\.)*)"')


def jsonl_lines(text: str) -> list[str]:
    """The lines of a JSON Lines file: ends at ``\n`` (``\r\n`` too) only.

    Not ``str.splitlines``, which also breaks at U+2028, U+2029 and U+0085:
    JSON allows them raw inside a string (Python's ``json.dumps`` with
    ``ensure_ascii=False`` writes U+2028 so), and a note holding one was
    split into two lines that were not JSON."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def read_jsonl(lines: Iterable[str]) -> list[_Line]:
    """One event a line; blank lines are skipped. A line that is not JSON
    still names its account when its ``ref`` can be found in it."""
    parsed: list[_Line] = []
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except (ValueError, RecursionError) as error:
            found = _REF.search(text)
            ref = json.loads(f'"{found.group(1)}"') if found else None
            parsed.append(
                _Line(
                    number,
                    ref,
                    None,
                    _("not JSON: {error}").format(error=where_json_fails(error)),
                )
            )
            continue
        if not isinstance(record, dict):
            parsed.append(_Line(number, None, None, _("not a JSON object")))
            continue
        record = {
            key: value if key == "ref" else as_typed_fields(value)
            for key, value in record.items()
        }
        ref = record.get("ref")
        if not isinstance(ref, str) or not ref.strip():
            why = (
                _("missing field {field!r}")
                if ref is None
                else _("field {field!r} must be a non-empty string")
            ).format(field="ref")
            parsed.append(_Line(number, None, None, why))
            continue
        parsed.append(_Line(number, ref, record))
    return parsed


def read_csv(text: str) -> list[_Line]:
    """Registrations, one a row, under the header ``CSV_HEADER`` (and
    ``CSV_OPTIONAL``, if given)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    parsed: list[_Line] = []
    header: list[str] | None = None
    for row in reader:
        number = reader.line_num
        if header is None:
            header = [cell.strip() for cell in row]
            extra = tuple(header[len(CSV_HEADER) :])
            if tuple(header[: len(CSV_HEADER)]) != CSV_HEADER or extra not in (
                (),
                CSV_OPTIONAL,
            ):
                raise BadValue(
                    _(
                        "line {line}: the CSV header must be {header} "
                        "(then {optional}, if given)"
                    ).format(
                        line=number,
                        header=",".join(CSV_HEADER),
                        optional=",".join(CSV_OPTIONAL),
                    )
                )
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            ref = row[0].strip() if row and row[0].strip() else None
            parsed.append(
                _Line(
                    number,
                    ref,
                    None,
                    _("{count} columns, not {expected}").format(
                        count=len(row), expected=len(header)
                    ),
                )
            )
            continue
        record: dict[str, Any] = {"type": "Registered"}
        for key, cell in zip(header, row, strict=True):
            value = cell if key == "ref" else as_typed(cell)
            if value.strip():
                record[key] = value.strip()
        ref = record.get("ref")
        if not ref:
            parsed.append(
                _Line(
                    number, None, None, _("missing field {field!r}").format(field="ref")
                )
            )
            continue
        parsed.append(_Line(number, ref, record))
    return parsed


# -- the use case ---------------------------------------------------------------


def import_records(
    ledger: SeekerLedger | None,
    lines: Sequence[_Line],
    *,
    actor_default: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import the lines read by ``read_jsonl`` or ``read_csv``.

    ``ledger`` is ``None`` for a dry run on a store that does not exist yet
    (nothing is in it). ``actor_default`` stands in for a line's missing
    ``actor`` (the CSV column may be left empty); without it a missing actor
    is a bad line.
    """
    report = ImportReport(dry_run=dry_run, lines=len(lines))
    clock = now or utcnow()
    accounts: dict[str, list[_Line]] = {}
    for line in lines:
        if line.ref is None:
            assert line.problem is not None
            report.rejections.append(Rejection(line.number, None, line.problem))
            report.rejected += 1
            if progress:
                progress(1)
            continue
        accounts.setdefault(line.ref, []).append(line)
    claimed: dict[tuple[str, str], str] = {}
    new: list[Seeker] = []
    continued: list[Seeker] = []
    for ref, account_lines in accounts.items():
        importer = _Account(ledger, ref, clock, actor_default)
        try:
            for line in account_lines:
                importer.take(line)
            importer.claim_email(claimed)
        except BadLine as problem:
            report.rejections.append(Rejection(importer.current, ref, str(problem)))
            report.rejected += len(account_lines)
        else:
            report.already += importer.already
            report.duplicates.extend(
                Duplicate(line, same_as, ref) for line, same_as in importer.duplicates
            )
            seeker = importer.seeker
            fresh = len(seeker.pending_events) if seeker is not None else 0
            if seeker is not None and fresh:
                report.events += fresh
                report.accounts += 1
                report.ids[ref] = seeker.id
                if importer.stored_version:
                    report.continued_accounts += 1
                    continued.append(seeker)
                else:
                    report.new_accounts += 1
                    new.append(seeker)
        if progress:
            progress(len(account_lines))
        if len(new) + len(continued) >= SAVE_BATCH:
            _save(ledger, new, continued, dry_run)
            new, continued = [], []
    _save(ledger, new, continued, dry_run)
    report.rejections.sort(key=lambda rejection: rejection.line)
    report.duplicates.sort(key=lambda duplicate: duplicate.line)
    return report


def _save(
    ledger: SeekerLedger | None,
    new: list[Seeker],
    continued: list[Seeker],
    dry_run: bool,
) -> None:
    if dry_run or ledger is None:
        return
    if new:
        ledger.save_new_accounts(new)
    if continued:
        try:
            ledger.save(*continued)
        except IntegrityError:
            raise Conflict(
                _(
                    "an imported account changed while the import ran; run the "
                    "import again (what is already in is skipped)"
                )
            ) from None
        erased = [seeker.id for seeker in continued if seeker.is_erased]
        if erased and ledger.vault is not None:
            ledger.vault.destroy_keys(erased)


class _Account:
    """One account's lines: matched against what is stored, then recorded."""

    def __init__(
        self,
        ledger: SeekerLedger | None,
        ref: str,
        now: datetime,
        actor_default: str | None,
    ) -> None:
        self.ledger = ledger
        self.ref = ref
        self.id = account_id(ref)
        self.now = now
        self.actor_default = actor_default
        self.stored: list[Any] = list(ledger.events.get(self.id)) if ledger else []
        self.stored_version = len(self.stored)
        self.purged = any(type(e).__name__ == "Purged" for e in self.stored)
        self.seeker: Seeker | None = None
        self.position = 0
        self.already = 0
        self.current = 0
        self.email: tuple[str, str] | None = None
        self.seen: dict[str, int] = {}
        self.duplicates: list[tuple[int, int]] = []

    def take(self, line: _Line) -> None:
        self.current = line.number
        if line.problem is not None:
            raise BadLine(line.problem)
        assert line.record is not None
        same = json.dumps(line.record, sort_keys=True, ensure_ascii=False)
        if same in self.seen:
            self.duplicates.append((line.number, self.seen[same]))
            self.already += 1
            return
        self.seen[same] = line.number
        kind, fields = self._fields(line.record)
        previous = self.seeker.last_occurred_at if self.seeker else None
        if previous is not None and fields["occurred_at"] < previous:
            raise BadLine(
                _(
                    "time goes backwards for ref {ref!r}: {at} is before {previous}"
                ).format(
                    ref=self.ref,
                    at=_shown(fields["occurred_at"], self.seeker),
                    previous=_shown(previous, self.seeker),
                )
            )
        if self.position < self.stored_version:
            stored = self.stored[self.position]
            _match(stored, kind, fields, self.position + 1, self.purged)
            self.seeker = stored.mutate(self.seeker)
            self.already += 1
        else:
            try:
                self.seeker = Seeker.record_imported(self.seeker, kind, fields)
            except BadValue as error:
                raise BadLine(str(error)) from None
        self.position += 1

    def claim_email(self, claimed: dict[tuple[str, str], str]) -> None:
        """One live account per email and policy: in the store, in the file."""
        if self.email is None or self.seeker is None or self.seeker.is_erased:
            return
        if self.email in claimed:
            raise BadLine(
                _(
                    "email already registered under policy {policy} "
                    "(ref {ref!r} in this file)"
                ).format(policy=policy_name(self.email[0]), ref=claimed[self.email])
            )
        claimed[self.email] = self.ref

    # -- one line's fields ---------------------------------------------

    def _fields(self, record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        kind = record.get("type")
        if kind is None:
            raise BadLine(_("missing field {field!r}").format(field="type"))
        if not isinstance(kind, str):
            raise BadLine(
                _("field {field!r} must be an event name").format(field="type")
            )
        event_class = EVENT_TYPES.get(kind)
        if event_class is None:
            raise BadLine(_("unknown event type {type!r}").format(type=kind))
        if kind == "Registered":
            if self.seeker is not None:
                raise BadLine(
                    _("ref {ref!r} is already registered").format(ref=self.ref)
                )
            return kind, self._registration(record)
        if self.seeker is None:
            raise BadLine(
                _(
                    "the first line of ref {ref!r} must be {registered}, not {type}"
                ).format(
                    ref=self.ref, registered=_event("Registered"), type=_event(kind)
                )
            )
        seeker = self.seeker
        annotations = _event_fields(event_class)
        allowed = set(COMMON) | set(annotations)
        if "personal" in annotations:
            allowed = (allowed - {"personal"}) | {"note"}
        _no_unknown(record, allowed, kind)
        zone = seeker.policy.zone
        at = self._time(record, zone)
        fields: dict[str, Any] = {"occurred_at": at, "actor": self._actor(record)}
        for name, annotation in annotations.items():
            if name == "personal":
                note = _optional_text(record, "note")
                if note and seeker.is_erased and self.position >= self.stored_version:
                    raise BadLine(
                        _(
                            "{type}: the account is purged; a note cannot be kept"
                        ).format(type=_event(kind))
                    )
                fields[name] = PersonalData(notes=note) if note else None
                continue
            if name in record:
                value = _typed(record, name, annotation, zone)
            else:
                value = _derived(seeker, kind, name, fields, annotation)
            if name == "application_id":
                value = _application(seeker, kind, value)
            allowed_values = ALLOWED_VALUES.get((kind, name))
            if allowed_values is not None and value not in allowed_values:
                shown = ", ".join(str(v) for v in allowed_values if v is not None)
                raise BadLine(
                    _("{type}: {field} must be one of {values}: {value!r}").format(
                        type=_event(kind), field=name, values=shown, value=value
                    )
                )
            fields[name] = value
        return kind, fields

    def _registration(self, record: dict[str, Any]) -> dict[str, Any]:
        _no_unknown(record, set(COMMON) | set(REGISTRATION), "Registered")
        named = _text(record, "policy")
        policy = PRESETS.get(named)
        if policy is None:
            raise BadLine(
                _("unknown policy {policy!r} (presets: {presets})").format(
                    policy=named, presets=", ".join(PRESETS)
                )
            )
        at = self._time(record, policy.zone)
        born = _text(record, "birth_date")
        try:
            birth_date = parse_date(born)
            personal = _registration_personal_data(
                _text(record, "name"),
                _text(record, "email"),
                birth_date,
                _optional_text(record, "phone"),
                _optional_text(record, "name_kana"),
            )
        except BadValue as error:
            raise BadLine(str(error)) from None
        if birth_date >= at.astimezone(policy.zone).date():
            raise BadLine(
                _("birth date {date} is not before the registration").format(
                    date=_day(birth_date)
                )
            )
        channel = _optional_text(record, "channel")
        if channel is not None and channel not in CHANNELS:
            raise BadLine(
                _("channel must be one of {channels}: {channel!r}").format(
                    channels=", ".join(CHANNELS), channel=channel
                )
            )
        advisor = _optional_text(record, "advisor")
        note = _optional_text(record, "note")
        if note:
            personal = replace(personal, notes=note)
        assert personal.email is not None
        self.email = (policy.name, normalise_email(personal.email))
        if self.stored_version == 0 and self.ledger is not None:
            for held_under, holder in self.ledger.find_by_email(personal.email):
                if held_under == policy.name and holder != self.id:
                    raise BadLine(
                        _(
                            "email already registered under policy {policy} "
                            "(seeker {seeker})"
                        ).format(policy=policy_name(policy.name), seeker=holder)
                    )
        return {
            "id": self.id,
            "occurred_at": at,
            "actor": self._actor(record),
            "policy": policy.to_dict(),
            "personal": personal,
            "channel": channel,
            "advisor": advisor.strip() if advisor else None,
        }

    def _time(self, record: dict[str, Any], zone: Any) -> datetime:
        text = _text(record, "occurred_at")
        try:
            at = parse_instant(text, zone)
        except BadValue as error:
            raise BadLine(f"occurred_at: {error}") from None
        if at > self.now + FUTURE_TOLERANCE:
            raise BadLine(_("occurred_at is in the future: {value}").format(value=text))
        return at

    def _actor(self, record: dict[str, Any]) -> str:
        if "actor" not in record and self.actor_default:
            return self.actor_default
        actor = _text(record, "actor")
        if not is_one_line(actor):
            raise BadLine(
                _(
                    "field 'actor' is one line, without tabs or line breaks: {given!r}"
                ).format(given=actor)
            )
        return actor


def _shown(instant: datetime, seeker: Seeker | None) -> str:
    """An instant on the account's policy clock (UTC before the account
    exists): ISO 8601 in English, as people write it in Japanese
    (``domain.refusals.moment``)."""
    return moment(instant, seeker.policy.zone if seeker else ZoneInfo("UTC"))


def _event(kind: str) -> str:
    """An event type as people call it (``Applied``: 応募); the file's
    ``type`` field holds the code."""
    return label("event", kind)


def _day(day: date) -> str:
    """A date: ISO 8601 in English, ``1990年1月1日`` in Japanese."""
    if language() == "ja":
        from domain.dates_for_people import era_wanted, format_date  # Babel

        return format_date(day, era=era_wanted())
    return day.isoformat()


def _event_fields(event_class: type[Any]) -> dict[str, str]:
    """The event's own fields (its class annotations, as text), beyond
    ``occurred_at`` and ``actor``."""
    fields: dict[str, str] = {}
    for klass in reversed(event_class.__mro__):
        if klass.__module__ != events.__name__:
            continue
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            text = str(annotation)
            if text.startswith("ClassVar") or name in ("occurred_at", "actor"):
                continue
            fields[name] = text
    return fields


def _no_unknown(record: dict[str, Any], allowed: set[str], kind: str) -> None:
    unknown = sorted(set(record) - allowed)
    if unknown:
        raise BadLine(
            _("unknown field {field!r} for {type}").format(
                field=unknown[0], type=_event(kind)
            )
        )


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if value is None:
        raise BadLine(_("missing field {field!r}").format(field=name))
    if not isinstance(value, str) or not value.strip():
        raise BadLine(
            _("field {field!r} must be a non-empty string").format(field=name)
        )
    return value


def _optional_text(record: dict[str, Any], name: str) -> str | None:
    if record.get(name) is None:
        return None
    return _text(record, name)


def _typed(record: dict[str, Any], name: str, annotation: str, zone: Any) -> Any:
    value = record[name]
    if annotation == "str":
        return _text(record, name)
    if annotation == "str | None":
        return _optional_text(record, name)
    if annotation == "bool":
        if not isinstance(value, bool):
            raise BadLine(_("field {field!r} must be true or false").format(field=name))
        return value
    if annotation == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadLine(
                _("field {field!r} must be a whole number").format(field=name)
            )
        return value
    if annotation == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadLine(_("field {field!r} must be a number").format(field=name))
        return float(value)
    if annotation == "datetime":
        try:
            return parse_instant(_text(record, name), zone)
        except BadValue as error:
            raise BadLine(f"{name}: {error}") from None
    raise AssertionError(f"no reader for {annotation}")  # pragma: no cover


def _derived(
    seeker: Seeker, kind: str, name: str, fields: dict[str, Any], annotation: str
) -> Any:
    """A field the legacy line left out, from the account as it stands."""
    at: datetime = fields["occurred_at"]
    if kind == "Applied" and name == "application_id":
        return f"A{len(seeker.applications) + 1}"
    if kind == "InterviewScheduled" and name == "round_number":
        return 1
    if kind == "InterviewScheduled" and name == "final":
        return False
    if kind == "InterviewDeclined" and name == "notice_hours":
        application = _find_application(seeker, fields.get("application_id"))
        if application is None or application.interview_at is None:
            raise BadLine(
                _(
                    "{type}: missing field 'notice_hours' and no interview "
                    "scheduled to derive it from"
                ).format(type=_event(kind))
            )
        return round((application.interview_at - at).total_seconds() / 3600, 2)
    if kind == "InterviewDeclined" and name == "last_minute":
        return fields["notice_hours"] < LAST_MINUTE_HOURS
    if kind == "Withdrawn" and name == "timing":
        return withdrawal_timing(seeker)
    if kind == "Reinstated" and name == "days_after_withdrawal":
        if seeker.withdrawn_at is None:
            raise BadLine(
                _(
                    "{type}: missing field 'days_after_withdrawal' and the "
                    "account was never withdrawn"
                ).format(type=_event(kind))
            )
        return days_between(seeker.withdrawn_at, at, seeker.policy.zone)
    if kind == "WithdrawalRequested" and name in ("erase_data", "identity_checked"):
        return False
    if kind == "Lapsed" and name == "reason":
        return "imported"
    if annotation.endswith("| None"):
        return None
    raise BadLine(
        _("{type}: missing field {field!r}").format(type=_event(kind), field=name)
    )


def _find_application(seeker: Seeker, application_id: Any) -> Any:
    if not isinstance(application_id, str):
        return None
    for application in seeker.applications:
        if application.id == application_id.strip().upper():
            return application
    return None


def _application(seeker: Seeker, kind: str, application_id: str) -> str:
    normal = application_id.strip().upper()
    if kind == "Applied":
        expected = f"A{len(seeker.applications) + 1}"
        if normal != expected:
            raise BadLine(
                _("{type}: application_id must be {expected}, not {given}").format(
                    type=_event(kind), expected=expected, given=normal
                )
            )
        return normal
    if _find_application(seeker, normal) is None:
        raise BadLine(
            _("{type}: no application {application} on this account").format(
                type=_event(kind), application=normal
            )
        )
    return normal


def _match(
    stored: Any, kind: str, fields: dict[str, Any], version: int, purged: bool
) -> None:
    """A line already in must say what the stored event says (personal data
    only where it can still be read: a purge seals it away for good). The
    stored side is compared as typed too: an import of the same file before
    normalization existed stored its fields as they were written."""
    stored_kind = type(stored).__name__
    if stored_kind != kind:
        raise BadLine(
            _(
                "does not match the stored event {version} ({stored}, not {type})"
            ).format(version=version, stored=_event(stored_kind), type=_event(kind))
        )
    for name, value in fields.items():
        if name == "id":
            continue
        held = getattr(stored, name, None)
        if name == "policy":
            held, value = (held or {}).get("name"), value.get("name")
        elif name == "personal":
            if held is None and (value is None or purged):
                continue
            held = held.to_dict() if isinstance(held, PersonalData) else held
            value = value.to_dict() if isinstance(value, PersonalData) else value
        if as_typed_fields(held) != value:
            raise BadLine(
                _(
                    "does not match the stored event {version} "
                    "({type}: {field} differs)"
                ).format(version=version, type=_event(kind), field=name)
            )
