"""The reference model of the property tests (``test_state_machine_properties``).

Written from the SPEC tables (§1 account states, §2 applications, §3
policies, §4 time) in ``spec_oracle.py``, without reading ``domain.lifecycle``
or ``domain.guards``: for any command, arguments and business time it says
whether the spec accepts the command and which events it records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.unit.spec_oracle import (
    ACCOUNT_TABLE,
    COMMAND_EVENTS,
    RULEBOOK,
    Rules,
    expected_allowed,
)
from tests.unit.spec_oracle import OPEN_APPLICATION_STATES as OPEN

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = timedelta(hours=24)
SECOND = timedelta(seconds=1)


def tokyo_date(instant: datetime) -> date:
    return instant.astimezone(TOKYO).date()


def years_later(instant: datetime, years: int) -> datetime:
    """Same Tokyo date and time ``years`` later; 29 February → 28 February."""
    local = instant.astimezone(TOKYO)
    day = local.day
    if local.month == 2 and day == 29:
        try:
            date(local.year + years, 2, 29)
        except ValueError:
            day = 28
    return local.replace(year=local.year + years, day=day)


@dataclass
class ModelApplication:
    route: str
    status: str = "applied"
    interview_at: datetime | None = None
    final: bool = False


@dataclass
class Verdict:
    kind: str  # "ok", "refused" or "not_found"
    events: list[str] = field(default_factory=list)
    last_minute: bool | None = None  # for a decline: under 24 hours' notice
    application_state: str | None = None  # set when the application refuses


@dataclass
class Model:
    """One account as the spec sees it, moved by ``step``."""

    policy: str
    has_advisor: bool
    state: str = "active"
    applications: list[ModelApplication] = field(default_factory=list)
    withdrawn_at: datetime | None = None
    invalid_since: datetime | None = None
    erase_requested: bool = False

    @property
    def rules(self) -> Rules:
        return RULEBOOK[self.policy]

    def allowed(self) -> set[str]:
        return expected_allowed(
            self.state, pausing=self.rules.pausing, advisors=self.rules.advisors
        )

    def _open_self_application(self) -> bool:
        return any(a.route == "self" and a.status in OPEN for a in self.applications)

    def _application(self, number: int) -> ModelApplication | None:
        if 1 <= number <= len(self.applications):
            return self.applications[number - 1]
        return None

    def _enter(self, state: str) -> None:
        self.state = state
        if state == "active":
            self.invalid_since = None

    def _invalid(self, at: datetime) -> None:
        if self.invalid_since is None:
            self.invalid_since = at

    # The guards of SPEC §3 and §2: None when the rule holds.
    def _refuses(self, command: str, args: dict[str, Any], at: datetime) -> bool:
        rules = self.rules
        if command == "request-withdrawal":
            channels = rules.withdrawal_channels(has_advisor=self.has_advisor)
            if args["channel"] not in channels:
                return True
            if rules.reason_required and args["reason"] is None:
                return True
            if args["channel"] in rules.identity_channels and (
                args["verify_name"] not in ("exact", "full_width_space", "no_space")
                or args["verify_birth_date"] != "right"
            ):
                return True
            return rules.self_application_blocks and self._open_self_application()
        if command == "withdraw":
            return rules.self_application_blocks and self._open_self_application()
        if command == "reinstate":
            if args["assisted"]:
                return not rules.assisted_reinstatement
            if rules.self_reinstatement_days is None:
                return True
            assert self.withdrawn_at is not None
            days = (tokyo_date(at) - tokyo_date(self.withdrawn_at)).days
            return days > rules.self_reinstatement_days
        if command == "purge" and args["reason"] == "retention_expired":
            if rules.retention_years is None or self.invalid_since is None:
                return True
            return at < years_later(self.invalid_since, rules.retention_years)
        return False

    def _application_verdict(
        self, command: str, args: dict[str, Any], at: datetime
    ) -> Verdict | None:
        application = self._application(args["number"])
        if application is None:
            return Verdict("not_found")
        if command == "schedule-interview":
            ok = application.status in OPEN
        elif command == "decline-interview":
            ok = (
                application.status == "interview_scheduled"
                and application.interview_at is not None
                and application.interview_at > at
            )
        else:
            ok = application.status in OPEN
        if ok:
            return None
        return Verdict("refused", application_state=application.status)

    def step(self, command: str, args: dict[str, Any], at: datetime) -> Verdict:
        """What the spec says ``command`` does now; updates the model if done."""
        if command not in self.allowed() or self._refuses(command, args, at):
            return Verdict("refused")
        if command in ("schedule-interview", "decline-interview", "close-application"):
            refusal = self._application_verdict(command, args, at)
            if refusal is not None:
                return refusal
        target = ACCOUNT_TABLE[self.state][command]
        events = [COMMAND_EVENTS[command]]
        if command == "lapse":
            self._invalid(at)
        elif command == "request-withdrawal":
            self.erase_requested = args["erase_data"]
        elif command == "cancel-withdrawal":
            self.erase_requested = False
        elif command == "withdraw":
            # Open applications are closed first (§2), then `Withdrawn`, then
            # `Purged` where the data goes at withdrawal (§3).
            events = []
            for application in self.applications:
                if application.status in OPEN:
                    application.status = "closed"
                    events.append(COMMAND_EVENTS["close-application"])
            events.append(COMMAND_EVENTS["withdraw"])
            self.withdrawn_at = at
            self._invalid(at)
            if self.rules.erase_on_withdrawal or self.erase_requested:
                events.append(COMMAND_EVENTS["purge"])
                target = "purged"
        elif command == "reinstate":
            self.withdrawn_at = None
            self.erase_requested = False
        elif command == "apply":
            self.applications.append(ModelApplication(route=args["route"]))
        elif command == "schedule-interview":
            application = self.applications[args["number"] - 1]
            application.status = "interview_scheduled"
            application.interview_at = at + timedelta(hours=args["hours_ahead"])
            application.final = args["final"]
        elif command == "decline-interview":
            application = self.applications[args["number"] - 1]
            assert application.interview_at is not None
            application.status = "declined"
            notice = application.interview_at - at
            return Verdict("ok", events, last_minute=notice < timedelta(hours=24))
        elif command == "close-application":
            self.applications[args["number"] - 1].status = "closed"
        elif command == "contact":
            if self.state == "unreachable" and args["outcome"] == "reached":
                events.append(COMMAND_EVENTS["restore-contact"])
                target = "active"
        elif command == "change-advisor":
            self.has_advisor = True
        if target is not None:
            self._enter(target)
        return Verdict("ok", events)

    def boundaries(self) -> list[datetime]:
        """Instants where a rule flips (SPEC §2-§4), to aim business times at."""
        instants: list[datetime] = []
        for application in self.applications:
            if application.status == "interview_scheduled":
                assert application.interview_at is not None
                for before in (DAY, DAY - SECOND, SECOND, timedelta(0)):
                    instants.append(application.interview_at - before)
        if self.invalid_since is not None and self.rules.retention_years:
            due = years_later(self.invalid_since, self.rules.retention_years)
            instants += [due - SECOND, due]
        days = self.rules.self_reinstatement_days
        if self.withdrawn_at is not None and days is not None:
            closed = datetime.combine(
                tokyo_date(self.withdrawn_at) + timedelta(days=days + 1),
                datetime.min.time(),
                tzinfo=TOKYO,
            )
            instants += [closed - SECOND, closed]
        return instants

    def withdrawal_timing(self) -> str:
        """SPEC §3 "Withdrawal timing", read before the withdrawal."""
        if not self.applications:
            return "no_applications"
        open_ones = [a for a in self.applications if a.status in OPEN]
        if not open_ones:
            return "between_selections"
        scheduled = [a for a in open_ones if a.status == "interview_scheduled"]
        if not scheduled:
            return "during_screening"
        if any(a.final for a in scheduled):
            return "final_stage"
        return "interview_scheduled"
