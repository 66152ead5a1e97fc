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

from domain.glossary import label, policy_name
from domain.i18n import _
from domain.policy import WITHDRAWAL_REASONS, Policy
from domain.refusals import joined, moment
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
    return _("policy {policy} does not offer pausing").format(
        policy=policy_name(policy.name)
    )


@policy_guard
def policy_has_advisors(policy: Policy) -> str | None:
    if policy.advisors:
        return None
    return _("policy {policy} has no advisors").format(policy=policy_name(policy.name))


@guard
def channel_offered(account: AccountFacts, arguments: Mapping[str, Any]) -> str | None:
    channel = arguments.get("channel")
    has_advisor = account.advisor is not None
    offered = account.policy.channels_for_withdrawal(has_advisor=has_advisor)
    if channel in offered:
        return None
    fields = {
        "channel": _channel(channel),
        "policy": policy_name(account.policy.name),
        "offered": joined([_channel(each) for each in offered]),
    }
    if not account.policy.advisors:
        message = _(
            "withdrawal by {channel} is not offered (policy {policy}: {offered})"
        )
    elif has_advisor:
        message = _(
            "withdrawal by {channel} is not offered with an advisor assigned "
            "(policy {policy}: {offered})"
        )
    else:
        message = _(
            "withdrawal by {channel} is not offered without an advisor "
            "(policy {policy}: {offered})"
        )
    return message.format(**fields)


def _channel(channel: object) -> str:
    """A channel as people call it; one the glossary does not know (typed
    wrong) as it was typed."""
    try:
        return label("channel", str(channel))
    except KeyError:
        return str(channel)


@guard
def reason_given(account: AccountFacts, arguments: Mapping[str, Any]) -> str | None:
    reason = arguments.get("reason")
    if reason is None:
        if account.policy.withdrawal_reason_required:
            return _(
                "a withdrawal reason is required (policy {policy}: {reasons})"
            ).format(
                policy=policy_name(account.policy.name),
                reasons=", ".join(WITHDRAWAL_REASONS),
            )
        return None
    if reason not in WITHDRAWAL_REASONS:
        return _("unknown withdrawal reason {reason!r} ({reasons})").format(
            reason=reason, reasons=", ".join(WITHDRAWAL_REASONS)
        )
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
    fields = {"channel": _channel(channel), "policy": policy_name(account.policy.name)}
    name: str | None = arguments.get("verify_name")
    birth_date: date | None = arguments.get("verify_birth_date")
    if name is None or birth_date is None:
        return _(
            "identity check required for withdrawal by {channel}: give "
            "--verify-name and --verify-birth-date (policy {policy})"
        ).format(**fields)
    personal = account.personal
    if personal is None or personal.name is None:
        return _(
            "identity check failed for withdrawal by {channel} (policy {policy}): "
            "no identity on record"
        ).format(**fields)
    if not same_name(name, personal.name):
        return _(
            "identity check failed for withdrawal by {channel} (policy {policy}): "
            "full name does not match the registration"
        ).format(**fields)
    if birth_date != personal.birth_date:
        return _(
            "identity check failed for withdrawal by {channel} (policy {policy}): "
            "birth date does not match the registration"
        ).format(**fields)
    return None


@guard
def no_open_self_application(
    account: AccountFacts, arguments: Mapping[str, Any]
) -> str | None:
    if not account.policy.self_application_blocks_withdrawal:
        return None
    for application in account.open_applications:
        if application.route == "self":
            return _(
                "open self-application {application} blocks withdrawal "
                "(policy {policy})"
            ).format(
                application=application.id, policy=policy_name(account.policy.name)
            )
    return None


@guard
def reinstatement_allowed(
    account: AccountFacts, arguments: Mapping[str, Any]
) -> str | None:
    policy = account.policy
    at: datetime = arguments["at"]
    assisted: bool = arguments.get("assisted", False)
    named = policy_name(policy.name)
    no_reinstatement = _(
        "policy {policy} does not reinstate accounts: "
        "the seeker registers again as a new account"
    ).format(policy=named)
    if assisted:
        return None if policy.assisted_reinstatement else no_reinstatement
    if policy.self_reinstatement_days is None:
        if policy.assisted_reinstatement:
            return _(
                "policy {policy} has no self-service reinstatement "
                "(staff may reinstate with --assisted)"
            ).format(policy=named)
        return no_reinstatement
    assert account.withdrawn_at is not None
    day = days_between(account.withdrawn_at, at, policy.zone)
    if day <= policy.self_reinstatement_days:
        return None
    fields = {"day": day, "limit": policy.self_reinstatement_days, "policy": named}
    if policy.assisted_reinstatement:
        return _(
            "self-service reinstatement closed: day {day} after the withdrawal, "
            "the limit is {limit} days (policy {policy}) "
            "(staff may reinstate with --assisted)"
        ).format(**fields)
    return _(
        "self-service reinstatement closed: day {day} after the withdrawal, "
        "the limit is {limit} days (policy {policy})"
    ).format(**fields)


@guard
def purge_due(account: AccountFacts, arguments: Mapping[str, Any]) -> str | None:
    if arguments.get("reason") != "retention_expired":
        return None
    due = account.purge_due_at
    if due is None:
        return _("policy {policy} sets no retention period to expire").format(
            policy=policy_name(account.policy.name)
        )
    if arguments["at"] < due:
        return _(
            "retention has not expired: purge is due at {due} (policy {policy})"
        ).format(
            due=moment(due, account.policy.zone),
            policy=policy_name(account.policy.name),
        )
    return None


@guard
def interview_ahead(account: AccountFacts, arguments: Mapping[str, Any]) -> str | None:
    application = arguments["application"]
    at: datetime = arguments["at"]
    if application.interview_at is None or application.interview_at > at:
        return None
    return _(
        "the interview at {interview} has already taken place; "
        "close the application instead"
    ).format(interview=moment(application.interview_at, account.policy.zone))


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
