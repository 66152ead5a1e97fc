"""The guards the state machines name in their ``cond=``.

Each guard answers ``None`` when the rule holds, or the refusal, naming the
rule and the policy, when it does not. They never change anything.

Two kinds: a *policy guard* reads only the policy (``HelloWork offers no
pausing``): a command it refuses is not listed among the commands allowed to
the account at all, and the audit replay can ask it with nothing but the
policy of a stream. An *account guard* reads :class:`AccountFacts` (what the
account knows) and the command's arguments. Neither knows the aggregate.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from domain.policy import WITHDRAWAL_REASONS, Policy
from domain.timerules import days_between


class IdentityFacts(Protocol):
    """What a guard reads of the personal data (``domain.values.PersonalData``
    has it; declared here so the guards import no value module, which itself
    imports the rules that import the guards)."""

    @property
    def name(self) -> str | None: ...
    @property
    def birth_date(self) -> date | None: ...


class ApplicationFacts(Protocol):
    """What a guard reads of an application (``JobApplication`` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def route(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def final_round(self) -> bool: ...
    @property
    def interview_at(self) -> datetime | None: ...


class AccountFacts(Protocol):
    """What an account guard may read of an account (the aggregate has it)."""

    @property
    def policy(self) -> Policy: ...
    @property
    def advisor(self) -> str | None: ...
    @property
    def personal(self) -> IdentityFacts | None: ...
    @property
    def applications(self) -> Sequence[ApplicationFacts]: ...
    @property
    def open_applications(self) -> Sequence[ApplicationFacts]: ...
    @property
    def withdrawn_at(self) -> datetime | None: ...
    @property
    def purge_due_at(self) -> datetime | None: ...


PolicyGuard = Callable[[Policy], "str | None"]
AccountGuard = Callable[[AccountFacts, Mapping[str, Any]], "str | None"]
POLICY_GUARDS: dict[str, PolicyGuard] = {}
ACCOUNT_GUARDS: dict[str, AccountGuard] = {}


def policy_guard(function: PolicyGuard) -> PolicyGuard:
    POLICY_GUARDS[function.__name__] = function
    return function


def guard(function: AccountGuard) -> AccountGuard:
    ACCOUNT_GUARDS[function.__name__] = function
    return function


def known_guards() -> frozenset[str]:
    """Every guard name a machine may use in ``cond=``."""
    return frozenset(POLICY_GUARDS) | frozenset(ACCOUNT_GUARDS)


def policy_refusal(policy: Policy, guards: Sequence[str]) -> str | None:
    """The first refusal of the policy guards among ``guards``, if any."""
    for name in guards:
        policy_check = POLICY_GUARDS.get(name)
        if policy_check is not None and (refusal := policy_check(policy)):
            return refusal
    return None


def account_refusal(
    account: AccountFacts, guards: Sequence[str], arguments: Mapping[str, Any]
) -> str | None:
    """The first refusal among ``guards`` (policy ones first), if any."""
    refusal = policy_refusal(account.policy, guards)
    if refusal is not None:
        return refusal
    for name in guards:
        account_check = ACCOUNT_GUARDS.get(name)
        if account_check is not None and (refusal := account_check(account, arguments)):
            return refusal
    return None


@policy_guard
def policy_offers_pausing(policy: Policy) -> str | None:
    if policy.pausing:
        return None
    return f"policy {policy.name} does not offer pausing"


@policy_guard
def policy_has_advisors(policy: Policy) -> str | None:
    if policy.advisors:
        return None
    return f"policy {policy.name} has no advisors"


@guard
def channel_offered(account: AccountFacts, arguments: Mapping[str, Any]) -> str | None:
    channel = arguments.get("channel")
    has_advisor = account.advisor is not None
    offered = account.policy.channels_for_withdrawal(has_advisor=has_advisor)
    if channel in offered:
        return None
    when = ""
    if account.policy.advisors:
        when = " with an advisor assigned" if has_advisor else " without an advisor"
    return (
        f"withdrawal by {channel} is not offered{when} "
        f"(policy {account.policy.name}: {', '.join(offered)})"
    )


@guard
def reason_given(account: AccountFacts, arguments: Mapping[str, Any]) -> str | None:
    reason = arguments.get("reason")
    if reason is None:
        if account.policy.withdrawal_reason_required:
            return (
                f"a withdrawal reason is required (policy {account.policy.name}: "
                f"{', '.join(WITHDRAWAL_REASONS)})"
            )
        return None
    if reason not in WITHDRAWAL_REASONS:
        return f"unknown withdrawal reason {reason!r} ({', '.join(WITHDRAWAL_REASONS)})"
    return None


def same_name(given: str, registered: str) -> bool:
    """Names match regardless of width, case and spacing (山田 太郎 = 山田太郎)."""

    def normal(name: str) -> str:
        return "".join(unicodedata.normalize("NFKC", name).casefold().split())

    return normal(given) == normal(registered)


@guard
def identity_verified(
    account: AccountFacts, arguments: Mapping[str, Any]
) -> str | None:
    channel = arguments.get("channel")
    if channel not in account.policy.identity_check_channels:
        return None
    rule = (
        f"identity check failed for withdrawal by {channel} "
        f"(policy {account.policy.name})"
    )
    name: str | None = arguments.get("verify_name")
    birth_date: date | None = arguments.get("verify_birth_date")
    if name is None or birth_date is None:
        return (
            f"identity check required for withdrawal by {channel}: give "
            f"--verify-name and --verify-birth-date (policy {account.policy.name})"
        )
    personal = account.personal
    if personal is None or personal.name is None:
        return f"{rule}: no identity on record"
    if not same_name(name, personal.name):
        return f"{rule}: full name does not match the registration"
    if birth_date != personal.birth_date:
        return f"{rule}: birth date does not match the registration"
    return None


@guard
def no_open_self_application(account: AccountFacts, _: Mapping[str, Any]) -> str | None:
    if not account.policy.self_application_blocks_withdrawal:
        return None
    for application in account.open_applications:
        if application.route == "self":
            return (
                f"open self-application {application.id} blocks withdrawal "
                f"(policy {account.policy.name})"
            )
    return None


@guard
def reinstatement_allowed(
    account: AccountFacts, arguments: Mapping[str, Any]
) -> str | None:
    policy = account.policy
    at: datetime = arguments["at"]
    assisted: bool = arguments.get("assisted", False)
    if assisted:
        if policy.assisted_reinstatement:
            return None
        return (
            f"policy {policy.name} does not reinstate accounts: "
            "the seeker registers again as a new account"
        )
    if policy.self_reinstatement_days is None:
        if policy.assisted_reinstatement:
            return (
                f"policy {policy.name} has no self-service reinstatement "
                "(staff may reinstate with --assisted)"
            )
        return (
            f"policy {policy.name} does not reinstate accounts: "
            "the seeker registers again as a new account"
        )
    assert account.withdrawn_at is not None
    day = days_between(account.withdrawn_at, at, policy.zone)
    if day <= policy.self_reinstatement_days:
        return None
    staff = (
        " (staff may reinstate with --assisted)"
        if policy.assisted_reinstatement
        else ""
    )
    return (
        f"self-service reinstatement closed: day {day} after the withdrawal, "
        f"the limit is {policy.self_reinstatement_days} days "
        f"(policy {policy.name}){staff}"
    )


@guard
def purge_due(account: AccountFacts, arguments: Mapping[str, Any]) -> str | None:
    if arguments.get("reason") != "retention_expired":
        return None
    due = account.purge_due_at
    if due is None:
        return f"policy {account.policy.name} sets no retention period to expire"
    if arguments["at"] < due:
        return (
            f"retention has not expired: purge is due at "
            f"{due.astimezone(account.policy.zone).isoformat()} "
            f"(policy {account.policy.name})"
        )
    return None


@guard
def interview_ahead(account: AccountFacts, arguments: Mapping[str, Any]) -> str | None:
    application = arguments["application"]
    at: datetime = arguments["at"]
    if application.interview_at is None or application.interview_at > at:
        return None
    return (
        f"the interview at "
        f"{application.interview_at.astimezone(account.policy.zone).isoformat()} "
        "has already "
        "taken place; close the application instead"
    )


WITHDRAWAL_TIMINGS = (
    "no_applications",
    "between_selections",
    "during_screening",
    "interview_scheduled",
    "final_stage",
)
"""What ``withdrawal_timing`` can answer, from the earliest stage to the latest."""


def withdrawal_timing(account: AccountFacts) -> str:
    """Where the seeker stood in their job search when they left (for reports)."""
    if not account.applications:
        return "no_applications"
    open_applications = account.open_applications
    if not open_applications:
        return "between_selections"
    scheduled = [a for a in open_applications if a.status == "interview_scheduled"]
    if not scheduled:
        return "during_screening"
    if any(a.final_round for a in scheduled):
        return "final_stage"
    return "interview_scheduled"
