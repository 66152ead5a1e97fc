"""Evidence for one seeker: a bundle that verifies without the rest of the log.

``audit prove`` writes the account's stored events (exact bytes, personal
data sealed), their stream chain, an RFC 9162 inclusion proof of each event's
leaf against a checkpoint, and the checkpoint itself. ``verify_bundle``
recomputes the chain from the first event, checks every proof against the
checkpoint's root, and, with the agency's public key, the signature; with an
auditor's own kept checkpoint, that the bundle comes from the same store.
What an ombudsman gets is one account's history, provably part of the log
the agency committed to, and nobody else's.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.i18n import _
from integrity.chain import GENESIS, event_digest, leaf_data, stream_hash
from integrity.checkpoint import (
    Checkpoint,
    CheckpointError,
    parse_checkpoints,
    signed_by,
)
from integrity.merkle import leaf_hash, verify_inclusion
from integrity.verify import Finding, Report

FORMAT = "seekers-evidence/2"
"""2: each event has its ``principal`` (``docs/integrity.md``)."""
READABLE_FORMATS = ("seekers-evidence/1", FORMAT)
"""Bundles this version verifies (1: written before principals existed)."""


class BundleError(ValueError):
    """A file that cannot be read as an evidence bundle."""


def read_bundle(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(_("{path}: no such file").format(path=path)) from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise BundleError(
            _("{path}: not an evidence bundle (not JSON)").format(path=path)
        ) from None
    if not isinstance(document, dict) or document.get("format") not in READABLE_FORMATS:
        raise BundleError(
            _("{path}: not a Seeker Ledger evidence bundle").format(path=path)
        )
    return document


def verify_bundle(
    document: dict[str, Any],
    given: list[tuple[str, Checkpoint]],
    *,
    public_key: Any = None,
) -> Report:
    try:
        checkpoint = parse_checkpoints(document["checkpoint"])[0]
        account = UUID(document["account"])
        entries = sorted(document["events"], key=lambda entry: int(entry["version"]))
    except (KeyError, TypeError, ValueError, CheckpointError):
        raise BundleError(
            _("the bundle is incomplete (checkpoint, account, events)")
        ) from None
    report = Report(events=len(entries), streams=1)
    add = report.findings.append
    for label, kept in given:
        report.checkpoints_checked += 1
        if kept.origin != checkpoint.origin:
            add(
                Finding(
                    "origin",
                    _(
                        "the bundle is from another store than checkpoint {label} "
                        "({origin})"
                    ).format(label=label, origin=checkpoint.origin),
                )
            )
        elif kept.size == checkpoint.size and kept.root != checkpoint.root:
            add(
                Finding(
                    "inconsistent",
                    _("the bundle's checkpoint contradicts checkpoint {label}").format(
                        label=label
                    ),
                )
            )
    if public_key is not None and not signed_by(checkpoint, public_key):
        add(
            Finding(
                "signature",
                _("the bundle's checkpoint is not signed by the given key"),
            )
        )
    previous = GENESIS
    for expected_version, entry in enumerate(entries, start=1):
        try:
            version = int(entry["version"])
            notification_id = int(entry["notification_id"])
            state = base64.b64decode(entry["state"], validate=True)
            recorded_digest = base64.b64decode(entry["event_digest"], validate=True)
            recorded_hash = base64.b64decode(entry["stream_hash"], validate=True)
            index = int(entry["leaf_index"])
            proof = [
                base64.b64decode(step, validate=True)
                for step in entry["inclusion_proof"]
            ]
            topic = str(entry["topic"])
            principal = entry.get("principal")
            if principal is not None and not isinstance(principal, str):
                raise TypeError("principal is not text")
        except (KeyError, TypeError, ValueError, binascii.Error):
            add(
                Finding(
                    "altered", _("unreadable entry"), str(account), expected_version
                )
            )
            continue
        where = (str(account), version, notification_id)
        if version != expected_version:
            add(
                Finding(
                    "missing",
                    _("version {version} is not in the bundle").format(
                        version=expected_version
                    ),
                    *where,
                )
            )
        digest = event_digest(topic, state)
        if digest != recorded_digest:
            add(
                Finding(
                    "altered", _("stored bytes differ from what was chained"), *where
                )
            )
        chained = stream_hash(previous, account, version, digest, principal)
        if chained != recorded_hash:
            add(Finding("altered", _("stream chain broken"), *where))
        previous = recorded_hash
        leaf = leaf_hash(leaf_data(notification_id, recorded_hash, principal))
        if not verify_inclusion(leaf, index, checkpoint.size, proof, checkpoint.root):
            add(
                Finding(
                    "inconsistent",
                    _(
                        "not included in the log at leaf {index} under the checkpoint"
                    ).format(index=index),
                    *where,
                )
            )
    return report
