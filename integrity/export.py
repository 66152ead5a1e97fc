"""The log as files an auditor can verify with no database at all.

``DIR/events.jsonl`` has one stored event a line, in log order: its ids,
version, topic, times, the stored state as base64 (personal data still
sealed), its event digest, stream hash, leaf index and principal (who wrote
it; ``null`` for an event chained before principals existed). ``DIR/manifest.json``
has the count, the first and last notification ids, the tree size and root,
the store's origin, the latest checkpoint and the SHA-256 of the events file.
``verify_export`` runs the same verifier as the database check over them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.i18n import _, pgettext
from integrity.checkpoint import Checkpoint, CheckpointError, parse_checkpoints
from integrity.store import StoredRecord
from integrity.verify import Expected, Finding, Recorded, Report, verify_log

EVENTS = "events.jsonl"
MANIFEST = "manifest.json"
FORMAT = "seekers-export/2"
"""2: each line has its ``principal`` (``docs/integrity.md``)."""
READABLE_FORMATS = ("seekers-export/1", FORMAT)
"""Exports this version verifies (1: written before principals existed)."""


class ExportError(ValueError):
    """An export folder that cannot be read as one."""


def export_line(record: StoredRecord, recorded: Recorded) -> str:
    times: dict[str, Any] = {}
    try:  # informational only: the state is verified as bytes, never parsed
        state = json.loads(record.state)
        for key in ("timestamp", "occurred_at"):
            if isinstance(state.get(key), dict):
                times[key] = state[key].get("_data_")
    except (ValueError, AttributeError):
        pass
    return json.dumps(
        {
            "notification_id": record.notification_id,
            "originator_id": str(record.originator_id),
            "originator_version": record.originator_version,
            "topic": record.topic,
            "recorded_at": times.get("timestamp"),
            "occurred_at": times.get("occurred_at"),
            "state": base64.b64encode(record.state).decode("ascii"),
            "event_digest": base64.b64encode(recorded.event_digest).decode("ascii"),
            "stream_hash": base64.b64encode(recorded.stream_hash).decode("ascii"),
            "leaf_index": recorded.leaf_index,
            "principal": recorded.principal,
        },
        ensure_ascii=False,
    )


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(
            _("{folder}: no {manifest} (not an export)").format(
                folder=directory, manifest=MANIFEST
            )
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ExportError(
            _("{path}: unreadable ({error})").format(path=path, error=error)
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") not in READABLE_FORMATS:
        raise ExportError(
            _("{path}: not a Seeker Ledger export manifest").format(path=path)
        )
    return manifest


def verify_export(
    directory: Path,
    given: list[tuple[str, Checkpoint]],
    *,
    public_key: Any = None,
) -> Report:
    manifest = read_manifest(directory)
    events_path = directory / EVENTS
    findings: list[Finding] = []
    try:
        digest = hashlib.sha256(events_path.read_bytes()).hexdigest()
    except OSError as error:
        raise ExportError(
            _("{path}: unreadable ({error})").format(
                path=events_path, error=error.strerror
            )
        ) from None
    if digest != manifest.get("events_sha256"):
        findings.append(
            Finding(
                "export",
                _("{events} is not the file the manifest describes").format(
                    events=EVENTS
                ),
            )
        )
    try:
        kept = (
            [
                (
                    pgettext("checkpoint", "latest (manifest)"),
                    parse_checkpoints(manifest["latest_checkpoint"])[0],
                )
            ]
            if manifest.get("latest_checkpoint")
            else []
        )
        expected = Expected(
            origin=str(manifest["origin"]),
            size=int(manifest["tree_size"]),
            root=base64.b64decode(manifest["tree_root"], validate=True),
            chained_from=int(manifest.get("chained_from", 0)),
            checkpoints=given,
            kept=kept,
        )
    except (KeyError, TypeError, ValueError, binascii.Error, CheckpointError):
        raise ExportError(
            _("{path}: incomplete manifest").format(path=directory / MANIFEST)
        ) from None
    pairs = list(_lines(events_path, findings))
    report = verify_log(
        (event for event, _row in pairs),
        (row for _event, row in pairs),
        expected,
        public_key=public_key,
    )
    report.findings[:0] = findings
    if len(pairs) != manifest.get("count"):
        report.findings.append(
            Finding(
                "export",
                _("{events} has {count} events, the manifest {expected}").format(
                    events=EVENTS, count=len(pairs), expected=manifest.get("count")
                ),
            )
        )
    return report


def _lines(
    path: Path, findings: list[Finding]
) -> Iterator[tuple[StoredRecord, Recorded]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = json.loads(raw)
                account = UUID(line["originator_id"])
                record = StoredRecord(
                    notification_id=int(line["notification_id"]),
                    originator_id=account,
                    originator_version=int(line["originator_version"]),
                    topic=str(line["topic"]),
                    state=base64.b64decode(line["state"], validate=True),
                )
                recorded = Recorded(
                    leaf_index=int(line["leaf_index"]),
                    notification_id=record.notification_id,
                    originator_id=account,
                    originator_version=record.originator_version,
                    event_digest=base64.b64decode(line["event_digest"], validate=True),
                    stream_hash=base64.b64decode(line["stream_hash"], validate=True),
                    principal=_principal(line.get("principal")),
                )
            except (ValueError, KeyError, TypeError, binascii.Error):
                findings.append(
                    Finding(
                        "export",
                        _("line {line} is not an event").format(line=number),
                    )
                )
                continue
            yield record, recorded


def _principal(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError("principal is not text")
