"""The glossary (SPEC §5, "Language"): the one place that names, for people,
every value the ledger keeps as a code: account and application states,
commands, withdrawal reasons, channels, contact outcomes, application routes,
close outcomes, purge reasons, the policy presets and the event types.

The codes stay what they are (typed, stored and printed by ``--json`` in
English); each is marked here once, with its kind as the gettext context
(one English word can be two Japanese ones: an account ``withdrawn`` is
退会済み, an application closed ``withdrawn`` is 辞退), and its Japanese
lives in the catalog (``domain/locale/ja/LC_MESSAGES/seekers.po``), never in
code. In English a label is the code itself, as the output shows it today.

The Japanese follows the seeds' words: 退会 / 退会申請 for leaving, 応募 and
面接辞退, 担当アドバイザー, the channels as the agencies list them (窓口,
電話, メール, フォーム, アプリ), サービスの停止 for Workport's pause (the seeds
say 停止, never 休止) and 利用再開 for reinstatement (Pasona's "利用を再開で
きます" within 30 days of leaving; 再登録 is a new registration there, which
is ``register``, not ``reinstate``).
"""

from __future__ import annotations

from domain.i18n import NC_, pgettext

KINDS = (
    "account state",
    "application state",
    "command",
    "withdrawal reason",
    "channel",
    "contact outcome",
    "application route",
    "close outcome",
    "purge reason",
    "policy",
    "event",
)

TERMS: dict[str, tuple[str, ...]] = {
    "account state": (
        NC_("account state", "unregistered"),
        NC_("account state", "active"),
        NC_("account state", "paused"),
        NC_("account state", "unreachable"),
        NC_("account state", "lapsed"),
        NC_("account state", "withdrawal_requested"),
        NC_("account state", "withdrawn"),
        NC_("account state", "purged"),
    ),
    "application state": (
        NC_("application state", "unsubmitted"),
        NC_("application state", "applied"),
        NC_("application state", "interview_scheduled"),
        NC_("application state", "declined"),
        NC_("application state", "closed"),
    ),
    "command": (
        NC_("command", "register"),
        NC_("command", "pause"),
        NC_("command", "resume"),
        NC_("command", "contact"),
        NC_("command", "mark-unreachable"),
        NC_("command", "restore-contact"),
        NC_("command", "lapse"),
        NC_("command", "reactivate"),
        NC_("command", "change-advisor"),
        NC_("command", "apply"),
        NC_("command", "schedule-interview"),
        NC_("command", "decline-interview"),
        NC_("command", "close-application"),
        NC_("command", "request-withdrawal"),
        NC_("command", "cancel-withdrawal"),
        NC_("command", "withdraw"),
        NC_("command", "reinstate"),
        NC_("command", "purge"),
    ),
    "withdrawal reason": (
        NC_("withdrawal reason", "job_found"),
        NC_("withdrawal reason", "search_ended"),
        NC_("withdrawal reason", "other_agency"),
        NC_("withdrawal reason", "advisor_mismatch"),
        NC_("withdrawal reason", "no_suitable_jobs"),
        NC_("withdrawal reason", "other"),
    ),
    "channel": (
        NC_("channel", "web"),
        NC_("channel", "counter"),
        NC_("channel", "phone"),
        NC_("channel", "email"),
        NC_("channel", "form"),
        NC_("channel", "app"),
    ),
    "contact outcome": (
        NC_("contact outcome", "reached"),
        NC_("contact outcome", "no_answer"),
    ),
    "application route": (
        NC_("application route", "self"),
        NC_("application route", "agency"),
    ),
    "close outcome": (
        NC_("close outcome", "hired"),
        NC_("close outcome", "rejected"),
        NC_("close outcome", "withdrawn"),
    ),
    "purge reason": (
        NC_("purge reason", "deletion_request"),
        NC_("purge reason", "retention_expired"),
    ),
    "policy": (
        NC_("policy", "hellowork"),
        NC_("policy", "pasona"),
        NC_("policy", "workport"),
    ),
    "event": (
        NC_("event", "Registered"),
        NC_("event", "Applied"),
        NC_("event", "InterviewScheduled"),
        NC_("event", "InterviewDeclined"),
        NC_("event", "ApplicationClosed"),
        NC_("event", "Paused"),
        NC_("event", "Resumed"),
        NC_("event", "ContactAttempted"),
        NC_("event", "MarkedUnreachable"),
        NC_("event", "ContactRestored"),
        NC_("event", "Lapsed"),
        NC_("event", "Reactivated"),
        NC_("event", "AdvisorChanged"),
        NC_("event", "WithdrawalRequested"),
        NC_("event", "WithdrawalCancelled"),
        NC_("event", "Withdrawn"),
        NC_("event", "Reinstated"),
        NC_("event", "Purged"),
    ),
}
"""Every code by kind; a test checks these against the domain's own sets and
the catalog, so a new state or reason cannot go unnamed."""


def label(kind: str, value: str) -> str:
    """``value`` (a code of ``kind``) as people call it in the chosen language;
    a code the glossary does not know is refused, not shown raw."""
    if value not in TERMS.get(kind, ()):
        raise KeyError(f"no glossary entry for {kind} {value!r}")
    return pgettext(kind, value)
