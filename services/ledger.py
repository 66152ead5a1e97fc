"""The application service: load an account, run one command, save its events.

Thin by design (no printing, no click): it resolves business time, retries a
save that lost an optimistic-concurrency race once, and rebuilds accounts and
their history as they stood at past times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    PersistenceError,
)

from adapters import requests, transcodings
from adapters.erasure import surviving_keys
from adapters.sealing import (
    PersonalDataUnprotected,
    SealedPersonalDataAsBase64,
    SealingMapper,
    Vault,
)
from adapters.storage import LEDGER_NAME
from domain import kana
from domain.errors import (
    BadValue,
    Conflict,
    OutcomeUnknown,
    Refused,
    SeekerNotFound,
    StorageError,
)
from domain.glossary import label, policy_name
from domain.history import (
    History,
    HistoryEntry,
    event_details,
    stream_policy,
    visible,
    was_purged,
)
from domain.i18n import _
from domain.policy import CHANNELS, Policy
from domain.rules import ACCOUNT_STATES
from domain.seeker import Seeker
from domain.timerules import check_business_time, parse_instant, utcnow
from domain.typed import phone_as_typed
from domain.values import PersonalData

T = TypeVar("T")
Time = str | datetime | None
"""``--at``: an ISO 8601 text in the policy's zone, an instant, or now."""
SNAPSHOT_INTERVAL = 20
"""Events between snapshots: a load replays at most 19 events after one."""


@dataclass(frozen=True)
class Outcome:
    """What a command did: the account after it, and the events it recorded."""

    seeker: Seeker
    events: list[str]
    result: Any = None
    warnings: tuple[str, ...] = ()
    request_id: str | None = None
    replayed: bool = False
    """True when the request had already been recorded: nothing new was."""


class SeekerLedger(Application[UUID]):
    """Seeker Ledger's event-sourced application."""

    name = LEDGER_NAME
    surviving_keys = staticmethod(surviving_keys)
    """Which erased accounts still have key rows (``adapters.erasure``): what
    ``integrity``'s erasure check asks of the store's key tables."""
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Seeker: SNAPSHOT_INTERVAL}

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        vault: Callable[[SeekerLedger], Vault] | None = None,
    ) -> None:
        """``vault`` opens the keys that seal personal data on this store; it
        is called on first need, so commands that never touch personal data
        (lists, reports) work without the master key. Without a vault,
        personal data cannot be stored at all."""
        self._vault_factory = vault
        self._vault: Vault | None = None
        super().__init__(env)
        self.clock = clock

    @property
    def vault(self) -> Vault | None:
        if self._vault is None and self._vault_factory is not None:
            self._vault = self._vault_factory(self)
        return self._vault

    def construct_mapper(self) -> Mapper[UUID]:
        return SealingMapper(self.construct_transcoder(), vault=lambda: self.vault)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in (*transcodings.ALL, SealedPersonalDataAsBase64):
            transcoder.register(transcoding())

    # -- writing ---------------------------------------------------------

    def register(
        self,
        *,
        policy: Policy,
        name: str,
        email: str,
        birth_date: date,
        phone: str | None,
        channel: str | None,
        advisor: str | None,
        actor: str,
        at: str | datetime | None = None,
        seeker_id: UUID | None = None,
        name_kana: str | None = None,
    ) -> Outcome:
        seeker = new_seeker(
            policy=policy,
            name=name,
            email=email,
            birth_date=birth_date,
            phone=phone,
            channel=channel,
            advisor=advisor,
            actor=actor,
            at=at,
            seeker_id=seeker_id,
            clock=self.clock,
            name_kana=name_kana,
        )
        return self.open_account(seeker)

    def open_account(self, seeker: Seeker) -> Outcome:
        """Store a new account made by ``new_seeker``: its data key, its
        email in the blind index (one live account per email and policy),
        its name's reading in the other (any number of accounts), its
        ``Registered`` event."""
        earlier = self.previous_outcome(before_save=True)
        if earlier is not None:
            return earlier
        personal = seeker.personal
        assert personal is not None and personal.email is not None
        vault = self._require_vault()
        self._claim_email(vault, seeker.policy, personal.email, seeker.id)
        try:
            vault.create_key(seeker.id)
            if personal.name_kana is not None:
                vault.index_readings(
                    [(seeker.policy.name, personal.name_kana, seeker.id)]
                )
            with self._request_result(str(seeker.id)):
                self._save(seeker)
        except BaseException:
            if not self._stored(seeker.id):
                vault.release_indexes(seeker.id)
            earlier = self.previous_outcome()
            if earlier is not None:  # committed after all: the reply was lost
                return replace(earlier, replayed=False)
            raise
        return Outcome(
            seeker, ["Registered"], seeker.id, request_id=_current_request_id()
        )

    def save_new_accounts(self, seekers: Sequence[Seeker]) -> None:
        """Save many new accounts at once (simulations and imports).

        Their keys and email entries are created in bulk; accounts already
        purged in memory are shredded right after they are stored. Emails
        are not checked against each other here: the index refuses a clash.
        """
        vault = self._require_vault()
        ids = [seeker.id for seeker in seekers]
        emails, readings = [], []
        for seeker in seekers:
            registered = seeker.pending_events[0] if seeker.pending_events else None
            personal = getattr(registered, "personal", None)
            if not isinstance(personal, PersonalData) or seeker.is_erased:
                continue
            if personal.email:
                emails.append((seeker.policy.name, personal.email, seeker.id))
            if personal.name_kana:
                readings.append((seeker.policy.name, personal.name_kana, seeker.id))
        vault.create_keys(ids)
        try:
            vault.index_emails(emails)
            vault.index_readings(readings)
            self._save(*seekers)
        except BaseException:
            if not self._stored(ids[0]):  # none of the batch went in: no orphans
                vault.destroy_keys(ids)
            raise
        purged = [seeker.id for seeker in seekers if seeker.is_erased]
        if purged:
            vault.destroy_keys(purged)
        for seeker in seekers:
            if seeker.is_erased:
                seeker.personal = None

    def _save(self, *aggregates: Seeker) -> None:
        """Save, telling a failure that may have come after the commit (the
        connection dropped while the server committed) from a refusal."""
        try:
            self.save(*aggregates)
        except IntegrityError:
            raise
        except PersistenceError as error:
            detail = " ".join(str(error).split()) or type(error).__name__
            raise OutcomeUnknown(detail) from error

    def _require_vault(self) -> Vault:
        vault = self.vault
        if vault is None:
            raise PersonalDataUnprotected(
                _("this ledger has no vault: personal data cannot be stored")
            )
        return vault

    def _claim_email(
        self, vault: Vault, policy: Policy, email: str, seeker_id: UUID
    ) -> None:
        """One live account per email and policy (SPEC §7: blind index)."""
        for _attempt in range(2):
            holder = vault.claim_email(policy.name, email, seeker_id)
            if holder is None:
                return
            try:
                earlier = self.get_seeker(holder)
            except SeekerNotFound:
                earlier = None  # a registration that never completed
            if earlier is not None and not earlier.is_erased:
                raise Refused(_duplicate_email_message(earlier), state=None)
            vault.release_indexes(holder)
        raise Conflict(
            _("email index for policy {policy} keeps changing").format(
                policy=policy_name(policy.name)
            )
        )

    def execute(
        self,
        seeker_id: UUID,
        command: Callable[[Seeker, datetime], T],
        *,
        at: str | datetime | None = None,
    ) -> Outcome:
        """Run ``command`` on the account and save what it recorded.

        If another process saved the account first, the store refuses this
        save; the account is reloaded and the command, rules included, runs
        once more before the conflict is reported.
        """
        earlier = self.previous_outcome(before_save=True)
        if earlier is not None:
            return earlier
        for attempt in (1, 2):
            seeker = self.get_seeker(seeker_id)
            occurred_at = self._business_time(
                at, seeker.policy, not_before=seeker.last_occurred_at
            )
            result = command(seeker, occurred_at)
            names = [type(event).__name__ for event in seeker.pending_events]
            if seeker.is_erased:
                self._require_vault()
            try:
                with self._request_result(result):
                    self._save(seeker)
            except IntegrityError:
                # The same request may have been recorded meanwhile: a
                # retried insert whose first attempt did commit, or a twin.
                earlier = self.previous_outcome()
                if earlier is not None:
                    return earlier
                if attempt == 2:
                    raise Conflict(
                        _(
                            "seeker {seeker} changed while this command ran, "
                            "and the retry was overtaken too; try again"
                        ).format(seeker=seeker_id)
                    ) from None
                continue
            warnings = self._shred(seeker) if seeker.is_erased else ()
            return Outcome(seeker, names, result, warnings, _current_request_id())
        raise AssertionError("unreachable")  # pragma: no cover

    # -- idempotent requests (adapters.requests) ---------------------------

    def previous_outcome(self, *, before_save: bool = False) -> Outcome | None:
        """The outcome of the current request if it was already recorded:
        the account as that request left it, and the events it recorded.

        ``before_save``: asked before this run saved anything, when an id
        generated for this run (``Request.fresh``) cannot be recorded yet,
        so the lookup is skipped; after a failed or retried save it is not.
        """
        request = requests.CURRENT.get()
        if request is None or (before_save and request.fresh):
            return None
        record = self._find_request(request.request_id)
        if record is None:
            return None
        if record.command != request.command:
            raise BadValue(
                _(
                    "request id {request} was already used for {command} on "
                    "seeker {seeker}"
                ).format(
                    request=request.request_id,
                    command=record.command,
                    seeker=record.seeker_id,
                )
            )
        seeker_id = UUID(record.seeker_id)
        seeker = self.repository.get(
            seeker_id, version=record.last_version, projector_func=_replay
        )
        assert isinstance(seeker, Seeker)
        if was_purged(self.stream(seeker_id)):
            seeker.personal = None
        result = UUID(record.result) if request.command == "register" else record.result
        return Outcome(
            seeker, record.events, result, request_id=record.request_id, replayed=True
        )

    def _find_request(self, request_id: str) -> requests.RequestRecord | None:
        datastore: Any = getattr(self.recorder, "datastore", None)
        if datastore is None:
            return None  # an in-memory ledger keeps no requests
        postgres = type(datastore).__name__ == "PostgresDatastore"
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(
                requests.FIND.replace("?", "%s") if postgres else requests.FIND,
                (request_id,),
            )
            return requests.lookup([dict(row) for row in cursor.fetchall()])

    @contextmanager
    def _request_result(self, result: Any) -> Iterator[None]:
        """Save under the current request, now that its result is known."""
        request = requests.CURRENT.get()
        if request is None:
            yield
            return
        with requests.requested(replace(request, result=result)):
            yield

    def _stored(self, seeker_id: UUID) -> bool:
        try:
            return bool(self.recorder.select_events(seeker_id, limit=1))
        except Exception:  # the store is unreachable: assume it may be there
            return True

    # -- one method per use case (SPEC §5) ---------------------------------

    def _act(
        self,
        command: str,
        seeker_id: UUID,
        actor: str,
        at: Time,
        **arguments: Any,
    ) -> Outcome:
        """Run the aggregate's ``command`` method (its rules first) and save."""
        method = command.replace("-", "_")
        return self.execute(
            seeker_id,
            lambda seeker, when: getattr(seeker, method)(
                at=when, actor=actor, **arguments
            ),
            at=at,
        )

    def apply(
        self, seeker_id: UUID, *, actor: str, job: str, route: str, at: Time = None
    ) -> Outcome:
        """Record an application; the outcome's ``result`` is its number (A1…)."""
        return self._act("apply", seeker_id, actor, at, job=job, route=route)

    def schedule_interview(
        self,
        seeker_id: UUID,
        *,
        actor: str,
        application_id: str,
        interview_at: str | datetime,
        round_number: int,
        final: bool,
        at: Time = None,
    ) -> Outcome:
        """``interview_at`` as text is read in the account's policy zone."""
        return self.execute(
            seeker_id,
            lambda seeker, when: seeker.schedule_interview(
                at=when,
                actor=actor,
                application_id=application_id,
                interview_at=(
                    interview_at
                    if isinstance(interview_at, datetime)
                    else parse_instant(interview_at, seeker.policy.zone)
                ),
                round_number=round_number,
                final=final,
            ),
            at=at,
        )

    def decline_interview(
        self,
        seeker_id: UUID,
        *,
        actor: str,
        application_id: str,
        channel: str,
        note: str | None,
        at: Time = None,
    ) -> Outcome:
        return self._act(
            "decline-interview",
            seeker_id,
            actor,
            at,
            application_id=application_id,
            channel=channel,
            note=note,
        )

    def close_application(
        self,
        seeker_id: UUID,
        *,
        actor: str,
        application_id: str,
        outcome: str,
        at: Time = None,
    ) -> Outcome:
        return self._act(
            "close-application",
            seeker_id,
            actor,
            at,
            application_id=application_id,
            outcome=outcome,
        )

    def pause(
        self, seeker_id: UUID, *, actor: str, reason: str | None, at: Time = None
    ) -> Outcome:
        return self._act("pause", seeker_id, actor, at, reason=reason)

    def resume(self, seeker_id: UUID, *, actor: str, at: Time = None) -> Outcome:
        return self._act("resume", seeker_id, actor, at)

    def contact(
        self,
        seeker_id: UUID,
        *,
        actor: str,
        channel: str,
        outcome: str,
        at: Time = None,
    ) -> Outcome:
        return self._act(
            "contact", seeker_id, actor, at, channel=channel, outcome=outcome
        )

    def mark_unreachable(
        self, seeker_id: UUID, *, actor: str, at: Time = None
    ) -> Outcome:
        return self._act("mark-unreachable", seeker_id, actor, at)

    def restore_contact(
        self, seeker_id: UUID, *, actor: str, at: Time = None
    ) -> Outcome:
        return self._act("restore-contact", seeker_id, actor, at)

    def lapse(self, seeker_id: UUID, *, actor: str, at: Time = None) -> Outcome:
        return self._act("lapse", seeker_id, actor, at)

    def reactivate(self, seeker_id: UUID, *, actor: str, at: Time = None) -> Outcome:
        return self._act("reactivate", seeker_id, actor, at)

    def change_advisor(
        self, seeker_id: UUID, *, actor: str, advisor: str, at: Time = None
    ) -> Outcome:
        return self._act("change-advisor", seeker_id, actor, at, advisor=advisor)

    def request_withdrawal(
        self,
        seeker_id: UUID,
        *,
        actor: str,
        channel: str,
        reason: str | None,
        note: str | None = None,
        verify_name: str | None = None,
        verify_birth_date: date | None = None,
        erase_data: bool = False,
        at: Time = None,
    ) -> Outcome:
        return self._act(
            "request-withdrawal",
            seeker_id,
            actor,
            at,
            channel=channel,
            reason=reason,
            note=note,
            verify_name=verify_name,
            verify_birth_date=verify_birth_date,
            erase_data=erase_data,
        )

    def cancel_withdrawal(
        self, seeker_id: UUID, *, actor: str, at: Time = None
    ) -> Outcome:
        return self._act("cancel-withdrawal", seeker_id, actor, at)

    def withdraw(self, seeker_id: UUID, *, actor: str, at: Time = None) -> Outcome:
        return self._act("withdraw", seeker_id, actor, at)

    def reinstate(
        self, seeker_id: UUID, *, actor: str, assisted: bool, at: Time = None
    ) -> Outcome:
        return self._act("reinstate", seeker_id, actor, at, assisted=assisted)

    def purge(
        self, seeker_id: UUID, *, actor: str, reason: str, at: Time = None
    ) -> Outcome:
        return self._act("purge", seeker_id, actor, at, reason=reason)

    def _shred(self, seeker: Seeker) -> tuple[str, ...]:
        """After ``Purged`` is stored, with the key already deleted in the same
        transaction (``adapters.erasure``): forget the key and overwrite its
        traces. The purge is complete whatever happens here, so a failure to
        overwrite is a warning (``seekers sweep`` finishes it), not an error."""
        seeker.personal = None
        vault = self._require_vault()
        try:
            vault.destroy_key(seeker.id)
        except StorageError as error:
            return (
                _(
                    "seeker {seeker} is purged and their key deleted, but "
                    "overwriting its traces failed ({error}); 'seekers sweep' "
                    "finishes it"
                ).format(seeker=seeker.id, error=error),
            )
        return ()

    # -- reading ---------------------------------------------------------

    def personal_notes(self, seeker_id: UUID) -> list[tuple[int, str, str]]:
        """The free-text notes kept in the account's events: (version, event
        type, text). Empty once the seeker is purged."""
        notes = []
        for event in self.stream(seeker_id):
            personal = getattr(event, "personal", None)
            if isinstance(personal, PersonalData) and personal.notes:
                kind = type(event).__name__
                notes.append((event.originator_version, kind, personal.notes))
        return notes

    def find_by_email(self, email: str) -> list[tuple[str, UUID]]:
        """Accounts registered with this email (policy, id), via the blind index."""
        return self._require_vault().find_email(email)

    def find_by_reading(self, reading: str) -> list[tuple[str, UUID]]:
        """Accounts whose name reads so, in whole or by one of its parts
        (policy, id), via the reading's blind index (``domain.kana``)."""
        return self._require_vault().find_reading(reading)

    def get_seeker(self, seeker_id: UUID) -> Seeker:
        try:
            seeker: object = self.repository.get(seeker_id, projector_func=_replay)
        except AggregateNotFoundError:
            raise SeekerNotFound(seeker_id) from None
        if not isinstance(seeker, Seeker):
            raise SeekerNotFound(seeker_id)
        return seeker

    def stream(self, seeker_id: UUID) -> list[DomainEvent]:
        events = list(self.events.get(seeker_id))
        if not events:
            raise SeekerNotFound(seeker_id)
        return events  # type: ignore[return-value]

    def seeker_as_of(
        self,
        seeker_id: UUID,
        *,
        as_of: str | None = None,
        known_at: str | None = None,
    ) -> Seeker | None:
        """The account rebuilt from the events that had occurred by ``as_of``
        and been recorded by ``known_at``; ``None`` if none had.

        Once an account is purged its personal data is erased from every
        view, past ones included.
        """
        if as_of is None and known_at is None:
            return self.get_seeker(seeker_id)
        events = self.stream(seeker_id)
        seeker: Seeker | None = None
        for event in visible(events, as_of, known_at):
            seeker = event.mutate(seeker)
        if seeker is not None and was_purged(events):
            seeker.personal = None
        return seeker

    def history(
        self,
        seeker_id: UUID,
        *,
        as_of: str | None = None,
        known_at: str | None = None,
    ) -> History:
        events = self.stream(seeker_id)
        entries: list[HistoryEntry] = []
        seeker: Seeker | None = None
        for event in visible(events, as_of, known_at):
            before = seeker.status if seeker is not None else None
            seeker = event.mutate(seeker)
            assert seeker is not None
            entries.append(
                HistoryEntry(
                    version=event.originator_version,
                    type=type(event).__name__,
                    occurred_at=event.occurred_at,
                    recorded_at=event.timestamp,
                    actor=event.actor,
                    from_state=before,
                    to_state=seeker.status,
                    details=event_details(event),
                )
            )
        policy = stream_policy(events)
        return History(seeker_id=seeker_id, policy=policy, entries=entries)

    # -- helpers ---------------------------------------------------------

    def _business_time(
        self, at: str | datetime | None, policy: Policy, *, not_before: datetime | None
    ) -> datetime:
        return business_time(at, policy, not_before=not_before, now=self.clock())


def business_time(
    at: str | datetime | None,
    policy: Policy,
    *,
    not_before: datetime | None,
    now: datetime,
) -> datetime:
    """``--at`` as an instant: now when not given, a text in the policy's
    zone, never before ``not_before`` nor in the future.

    Not given, and the account's latest event is later than now (recorded
    from a clock a few minutes ahead, within ``FUTURE_TOLERANCE``): the
    event takes the latest event's time, so that the stream stays in order
    and nobody is told their ``--at``, which they never gave, is too early."""
    if at is None:
        occurred_at = now if not_before is None else max(now, not_before)
    elif isinstance(at, datetime):
        occurred_at = at
    else:
        occurred_at = parse_instant(at, policy.zone)
    check_business_time(occurred_at, not_before=not_before, now=now, zone=policy.zone)
    return occurred_at


def new_seeker(
    *,
    policy: Policy,
    name: str,
    email: str,
    birth_date: date,
    phone: str | None,
    channel: str | None,
    advisor: str | None,
    actor: str,
    at: str | datetime | None = None,
    seeker_id: UUID | None = None,
    clock: Callable[[], datetime] = utcnow,
    name_kana: str | None = None,
) -> Seeker:
    """A new account, checked by every value and rule that needs no store.

    Separate from ``SeekerLedger.open_account`` so that a registration that
    fails validation or the policy's rules is refused before a store is
    opened: on a path with no store yet, nothing is created.
    """
    occurred_at = business_time(at, policy, not_before=None, now=clock())
    personal = _registration_personal_data(name, email, birth_date, phone, name_kana)
    if birth_date >= occurred_at.astimezone(policy.zone).date():
        raise BadValue(
            _("birth date {birth_date} is not in the past").format(
                birth_date=birth_date
            )
        )
    if channel is not None and channel not in CHANNELS:
        raise BadValue(
            _("channel must be one of {choices}").format(choices=", ".join(CHANNELS))
        )
    return Seeker.register(
        occurred_at=occurred_at,
        actor=actor,
        policy=policy,
        personal=personal,
        channel=channel,
        advisor=advisor,
        seeker_id=seeker_id,
    )


def _current_request_id() -> str | None:
    request = requests.CURRENT.get()
    return request.request_id if request is not None else None


def _registration_personal_data(
    name: str,
    email: str,
    birth_date: date,
    phone: str | None,
    name_kana: str | None = None,
) -> PersonalData:
    name = " ".join(name.split())
    if not name:
        raise BadValue(_("name must not be empty"))
    email = email.strip()
    local, _at, domain = email.partition("@")
    if not local or "." not in domain or " " in email:
        raise BadValue(_("not an email address: {given!r}").format(given=email))
    if phone is not None:
        phone = phone_as_typed(phone).strip()
        digits = [c for c in phone if c.isdigit()]
        if (
            len(digits) < 7
            or any(c not in "0123456789+-() " for c in phone)
            or phone[0] not in "0123456789+("
            or phone[-1] not in "0123456789)"
        ):
            raise BadValue(_("not a phone number: {given!r}").format(given=phone))
    return PersonalData(
        name=name,
        email=email,
        phone=phone,
        birth_date=birth_date,
        name_kana=kana.reading(name_kana) if name_kana is not None else None,
    )


def _duplicate_email_message(earlier: Seeker) -> str:
    fields = {
        "policy": policy_name(earlier.policy.name),
        "seeker": earlier.id,
        "state": label("account state", earlier.status),
    }
    if earlier.status in ACCOUNT_STATES.reinstatable:
        deadline = earlier.self_reinstatement_deadline
        if deadline is not None:
            last_day = (deadline - timedelta(seconds=1)).astimezone(earlier.policy.zone)
            from domain.dates_for_people import era_wanted, format_date  # Babel

            return _(
                "email already registered under policy {policy}: seeker {seeker} "
                "is {state}; use reinstate (self-service until {last_day})"
            ).format(**fields, last_day=format_date(last_day.date(), era=era_wanted()))
        if earlier.policy.assisted_reinstatement:
            return _(
                "email already registered under policy {policy}: seeker {seeker} "
                "is {state}; use reinstate --assisted"
            ).format(**fields)
    return _(
        "email already registered under policy {policy}: seeker {seeker} is {state}"
    ).format(**fields)


def _replay(seeker: Seeker | None, events: Iterable[DomainEvent]) -> Seeker | None:
    """The library's projector without its per-event protocol assertion
    (about 40% of the replay time on Python 3.11; every event here is ours)."""
    for event in events:
        seeker = event.mutate(seeker)  # type: ignore[attr-defined]
    return seeker
