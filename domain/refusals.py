"""The words of a refusal (SPEC §5): the rule in the chosen language, the
state by its name for people (``'paused'`` / 「サービス停止中」), and the
commands still allowed as they are typed (``resume, lapse``), since those
are what the operator types next.

One place for the shapes every refusal shares, so the state machine, the
aggregate and the audit replay word them alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.glossary import label
from domain.i18n import _, language

SUBJECT_KINDS = {"account": "account state", "application": "application state"}


def allowed_list(allowed: Sequence[str]) -> str:
    """``resume, lapse`` (command names as typed), or ``nothing``."""
    return ", ".join(allowed) or _("nothing")


def joined(names: Sequence[str]) -> str:
    """Names for people, listed the way the language lists them (``web,
    counter`` / ``Web、窓口``)."""
    return _(", ").join(names)


def state_name(subject: str, state: str) -> str:
    """``state`` of an ``account`` or an ``application`` as people call it."""
    return label(SUBJECT_KINDS[subject], state)


def not_in_state(
    command: str,
    subject: str,
    state: str,
    allowed: Sequence[str],
    *,
    name_subject: bool = False,
) -> str:
    """The state machine's refusal: ``command`` is not a move from ``state``
    (``name_subject``: say whose state, where the reader cannot tell)."""
    fields = {
        "command": command,
        "state": state_name(subject, state),
        "allowed": allowed_list(allowed),
    }
    if subject == "application":
        message = _(
            "cannot {command} from application state '{state}' (allowed: {allowed})"
        )
    elif name_subject:
        message = _(
            "cannot {command} from account state '{state}' (allowed: {allowed})"
        )
    else:
        message = _("cannot {command} from state '{state}' (allowed: {allowed})")
    return message.format(**fields)


def rule_in_state(rule: str, state: str, allowed: Sequence[str]) -> str:
    """A policy rule's refusal, with where the account stands."""
    return _("{rule} (state '{state}', allowed: {allowed})").format(
        rule=rule,
        state=state_name("account", state),
        allowed=allowed_list(allowed),
    )


def for_application(
    application_id: str,
    command: str | None,
    rule: str | None,
    state: str,
    allowed: Sequence[str],
) -> str:
    """A refusal about one application: the move or the rule, then the
    application's state and the commands that state allows."""
    fields = {
        "application": application_id,
        "command": command,
        "rule": rule,
        "state": state_name("application", state),
        "allowed": allowed_list(allowed),
    }
    if rule is None:
        return _(
            "application {application}: cannot {command} "
            "(application state '{state}', allowed: {allowed})"
        ).format(**fields)
    return _(
        "application {application}: {rule} "
        "(application state '{state}', allowed: {allowed})"
    ).format(**fields)


def moment(instant: datetime, zone: ZoneInfo) -> str:
    """An instant in a refusal: ISO 8601 on the policy's clock in English (as
    refusals have always said it), ``2026年2月2日 14:05`` in Japanese."""
    if language() == "ja":
        from domain.dates_for_people import era_wanted, format_instant  # Babel

        return format_instant(instant, zone, era=era_wanted())
    return instant.astimezone(zone).isoformat()
