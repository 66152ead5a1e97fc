"""The glossary (SPEC §5, "Language"): the one place that names, for people,
every value the ledger keeps as a code: account and application states,
commands, withdrawal reasons, channels, contact outcomes, application routes,
close outcomes, purge reasons, the policy presets, the event types and the
fields they record, the policies' rules, when a withdrawal came (its timing),
how an account was reinstated and why a registration lapsed.

The codes stay what they are (typed, stored and printed by ``--json`` in
English); each is marked here once, with its kind as the gettext context
(one English word can be two Japanese ones: an account ``withdrawn`` is
退会済み, an application closed ``withdrawn`` is 辞退), and its Japanese
lives in the catalog (``domain/locale/ja/LC_MESSAGES/seekers.po``), never in
code. In English a label is the code itself, as the output shows it today.

The Japanese follows the seeds' words: 退会 / 退会申請 for leaving, 応募 and
面接辞退, 担当アドバイザー, the channels as the agencies list them (窓口,
電話, メール, フォーム, アプリ), サービスの停止 for Workport's pause (the seeds
say 停止, never 休止) and 利用再開 for reinstatement (HelloWork's マイページ:
"退会後30日以内…利用を再開できます"; Workport's "サービスの利用を再開";
Pasona's 再登録 is a new registration, which is ``register``, not
``reinstate``).
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
    "event field",
    "rule",
    "withdrawal timing",
    "reinstatement mode",
    "lapse reason",
    "application outcome",
    "recorded purge reason",
    "guard",
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
    "guard": (
        NC_("guard", "policy_offers_pausing"),
        NC_("guard", "policy_has_advisors"),
        NC_("guard", "channel_offered"),
        NC_("guard", "reason_given"),
        NC_("guard", "identity_verified"),
        NC_("guard", "no_open_self_application"),
        NC_("guard", "reinstatement_allowed"),
        NC_("guard", "purge_due"),
        NC_("guard", "interview_ahead"),
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
    # The fields an event records, as the audit trail (``history``) names them.
    "event field": (
        NC_("event field", "policy"),
        NC_("event field", "channel"),
        NC_("event field", "advisor"),
        NC_("event field", "application_id"),
        NC_("event field", "job"),
        NC_("event field", "route"),
        NC_("event field", "interview_at"),
        NC_("event field", "round_number"),
        NC_("event field", "final"),
        NC_("event field", "notice_hours"),
        NC_("event field", "last_minute"),
        NC_("event field", "outcome"),
        NC_("event field", "reason"),
        NC_("event field", "erase_data"),
        NC_("event field", "identity_checked"),
        NC_("event field", "timing"),
        NC_("event field", "mode"),
        NC_("event field", "days_after_withdrawal"),
    ),
    # A policy's rules, as ``policies`` lists them (the keys of a policy file).
    "rule": (
        NC_("rule", "timezone"),
        NC_("rule", "withdrawal_channels"),
        NC_("rule", "withdrawal_channels_with_advisor"),
        NC_("rule", "identity_check_channels"),
        NC_("rule", "withdrawal_reason_required"),
        NC_("rule", "self_application_blocks_withdrawal"),
        NC_("rule", "pausing"),
        NC_("rule", "advisors"),
        NC_("rule", "self_reinstatement_days"),
        NC_("rule", "assisted_reinstatement"),
        NC_("rule", "erase_on_withdrawal"),
        NC_("rule", "retention_years"),
        NC_("rule", "registration_validity_months"),
        NC_("rule", "unreachable_grace_days"),
    ),
    # Where the seeker stood in the job search when they left (the reports').
    "withdrawal timing": (
        NC_("withdrawal timing", "no_applications"),
        NC_("withdrawal timing", "between_selections"),
        NC_("withdrawal timing", "during_screening"),
        NC_("withdrawal timing", "interview_scheduled"),
        NC_("withdrawal timing", "final_stage"),
    ),
    "reinstatement mode": (
        NC_("reinstatement mode", "self_service"),
        NC_("reinstatement mode", "assisted"),
    ),
    # Why a registration lapsed: by hand, or by the sweep's two time rules.
    "lapse reason": (
        NC_("lapse reason", "manual"),
        NC_("lapse reason", "registration_expired"),
        NC_("lapse reason", "unreachable_grace"),
    ),
    # How an application's record says it ended: the outcomes
    # close-application takes, and those the ledger records itself.
    "application outcome": (
        NC_("application outcome", "hired"),
        NC_("application outcome", "rejected"),
        NC_("application outcome", "withdrawn"),
        NC_("application outcome", "declined"),
        NC_("application outcome", "declined_on_withdrawal"),
    ),
    # Why personal data was erased, as the record says: the reasons purge
    # takes, and the erasure a policy makes on withdrawal.
    "recorded purge reason": (
        NC_("recorded purge reason", "deletion_request"),
        NC_("recorded purge reason", "retention_expired"),
        NC_("recorded purge reason", "erased_on_withdrawal"),
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


def policy_name(name: str) -> str:
    """A policy as people call it: a preset by its name in the chosen language
    (ハローワーク), a policy from a file by the name the file gives it."""
    return label("policy", name) if name in TERMS["policy"] else name
