"""The auditor's commands: replay the rules, and prove the log was not rewritten.

``keygen``, ``checkpoint``, ``verify`` (the database, an export, or one
seeker's evidence bundle), ``export`` and ``prove`` are SPEC §8; ``replay``
runs every stream through the current rules. Exit codes: 0 clean, 1
findings, 2 a bad file or option (a key file too: missing, not a key, or
one keygen will not overwrite), 3 no such seeker, 6 storage.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from cli.commands.common import seeker_argument, session
from cli.files import check_output
from cli.output import emit_json, table
from cli.progress import ProgressLine
from cli.session import parse_seeker_id
from domain.errors import BadValue, StorageError
from domain.i18n import _, pgettext

SIGNING_KEY_ENV = "SEEKERS_AUDIT_SIGNING_KEY"
path_option = click.Path(path_type=Path, dir_okay=False)


@contextmanager
def _audit_errors() -> Iterator[None]:
    """Bad files are bad values (exit 2), key files included: a key file is
    named by an option (or ``SEEKERS_AUDIT_SIGNING_KEY``), like a checkpoint
    file, and the store has nothing to do with it (exit 6 said 'storage
    unavailable' of a typo in a path)."""
    from integrity.checkpoint import CheckpointError, KeyFileError
    from integrity.evidence import BundleError
    from integrity.export import ExportError

    try:
        yield
    except KeyFileError as error:
        raise BadValue(_("key file: {error}").format(error=error)) from None
    except (CheckpointError, BundleError, ExportError) as error:
        raise BadValue(str(error)) from None


@click.group()
def audit() -> None:
    """Checks auditors run over the whole event log."""


@audit.command()
@click.option("--output", "output", required=True, type=path_option, metavar="PATH")
def keygen(output: Path) -> None:
    """Write an Ed25519 signing key to PATH (mode 0600) and its public key to
    PATH.pub."""
    from integrity.checkpoint import generate_keys, load_public_key, verifier_key

    with _audit_errors():
        private, public = generate_keys(output)
        verifier = verifier_key(load_public_key(public))
    run = session()
    if run.json:
        emit_json(
            {
                "private_key": str(private),
                "public_key": str(public),
                "verifier_key": verifier,
            }
        )
    else:
        click.echo(
            _("signing key  {path} (mode 0600: keep it secret)").format(path=private)
        )
        click.echo(
            _("public key   {path} (give it to the auditors)").format(path=public)
        )
        click.echo(
            _("verifier key {key} (signed-note form, for note tools)").format(
                key=verifier
            )
        )


def _signing_key(path: Path | None) -> Any:
    from integrity.checkpoint import load_private_key

    if path is None and os.environ.get(SIGNING_KEY_ENV):
        path = Path(os.environ[SIGNING_KEY_ENV])
    if path is None:
        return None
    with _audit_errors():
        return load_private_key(path)


def _audit_log() -> Any:
    from integrity.database import AuditLog

    run = session()
    return AuditLog(run.ledger())


@audit.command()
@click.option(
    "--sign-key",
    "sign_key",
    type=path_option,
    metavar="PATH",
    help=f"Ed25519 key from 'audit keygen' (or ${SIGNING_KEY_ENV}).",
)
@click.option(
    "--output",
    "output",
    type=click.Path(path_type=Path),
    metavar="FILE|DIR",
    help="Write the checkpoint to a new FILE, or a new file in DIR (the "
    "auditor's copy: exactly one signed note).",
)
def checkpoint(sign_key: Path | None, output: Path | None) -> None:
    """Record a checkpoint of the whole log (size and root), signed when a key
    is given, and print it."""
    from integrity.checkpoint import check_output, write_checkpoint

    run = session()
    key = _signing_key(sign_key)
    if output is not None:
        with _audit_errors():
            check_output(output)
    issued = run.call(_audit_log().checkpoint, key)
    if output is not None:
        with _audit_errors():
            output = write_checkpoint(issued, output)
    if run.json:
        emit_json(
            {
                "origin": issued.origin,
                "size": issued.size,
                "root": issued.text().splitlines()[2],
                "time": issued.time,
                "signed": issued.signed,
                "text": issued.text(),
            }
        )
    elif output is not None:
        click.echo(
            _("checkpoint of {size} events written to {output}").format(
                size=issued.size, output=output
            )
        )
    else:
        click.echo(issued.text(), nl=False)


@audit.command()
@click.option(
    "--checkpoint",
    "checkpoint_files",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="FILE|DIR",
    help="A checkpoint file kept by the auditor, or a folder of them (repeatable).",
)
@click.option(
    "--public-key",
    "public_key",
    type=path_option,
    metavar="PATH.pub",
    help="Check checkpoint signatures against this key.",
)
@click.option(
    "--export",
    "export_dir",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Verify an export instead of the database.",
)
@click.option(
    "--bundle",
    "bundle",
    type=path_option,
    metavar="FILE",
    help="Verify one seeker's evidence bundle, offline.",
)
def verify(
    checkpoint_files: tuple[Path, ...],
    public_key: Path | None,
    export_dir: Path | None,
    bundle: Path | None,
) -> None:
    """Recompute every stream chain and the log tree, and hold the log to its
    checkpoints; exit 1 listing every finding."""
    from integrity.checkpoint import load_public_key, read_checkpoints

    run = session()
    if export_dir is not None and bundle is not None:
        raise BadValue(_("give --export or --bundle, not both"))
    with _audit_errors():
        given = [
            labelled for path in checkpoint_files for labelled in read_checkpoints(path)
        ]
        key = load_public_key(public_key) if public_key is not None else None
        if bundle is not None:
            from integrity.evidence import read_bundle, verify_bundle

            document = read_bundle(bundle)
            report = verify_bundle(document, given, public_key=key)
            subject = _("evidence bundle for seeker {id}").format(
                id=document.get("account")
            )
        elif export_dir is not None:
            from integrity.export import verify_export

            report = verify_export(export_dir, given, public_key=key)
            subject = _("export {folder}").format(folder=export_dir)
        else:
            log = _audit_log()
            state = run.call(log.state)
            total = state.size if state is not None else 0
            with ProgressLine("verify", total, enabled=not run.json) as progress:
                report = run.call(log.verify, given, public_key=key, progress=progress)
            subject = _("the event log")
    _render_report(report, subject)
    if not report.ok:
        raise click.exceptions.Exit(1)


def _render_report(report: Any, subject: str) -> None:
    run = session()
    if run.json:
        emit_json(
            {
                "ok": report.ok,
                "events": report.events,
                "streams": report.streams,
                "checkpoints": report.checkpoints_checked,
                "chained_from": report.chained_from,
                "findings": [finding.to_dict() for finding in report.findings],
                "notes": report.notes,
            }
        )
        return
    if report.ok:
        click.echo(
            _(
                "verified {subject}: {events} events in {streams} stream(s), "
                "{checkpoints} checkpoint(s): no findings"
            ).format(
                subject=subject,
                events=report.events,
                streams=report.streams,
                checkpoints=report.checkpoints_checked,
            )
        )
    else:
        click.echo(
            _("verified {subject}: {count} finding(s)").format(
                subject=subject, count=len(report.findings)
            )
        )
        for finding in report.findings:
            click.echo(f"  {finding.line()}")
    for note in report.notes:
        click.echo(_("note: {note}").format(note=note))
    if report.chained_from:
        click.echo(
            _(
                "note: the first {count} events were written before chains "
                "existed; integrity is proven from the moment they were chained"
            ).format(count=report.chained_from)
        )


@audit.command()
@click.option(
    "--output", "output", required=True, type=click.Path(path_type=Path), metavar="DIR"
)
def export(output: Path) -> None:
    """Write the log (events.jsonl) and its manifest to DIR, for verifying
    with no database."""
    run = session()
    if output.exists() and not output.is_dir():
        raise BadValue(
            _("--output {output}: a file is there; give a folder").format(output=output)
        )
    log = _audit_log()
    state = run.call(log.state)
    total = state.size if state is not None else 0
    with ProgressLine("export", total, enabled=not run.json) as progress:
        try:
            manifest = run.call(log.export, output, progress)
        except StorageError as error:
            if not output.parent.exists() or "Permission" in str(error):
                raise BadValue(
                    _("--output {output}: cannot write there").format(output=output)
                ) from None
            raise
    if run.json:
        emit_json(manifest)
    else:
        click.echo(
            _("exported {count} events to {output} (tree size {size})").format(
                count=manifest["count"], output=output, size=manifest["tree_size"]
            )
        )


@audit.command()
@seeker_argument
@click.option("--output", "output", required=True, type=path_option, metavar="FILE")
@click.option(
    "--sign-key",
    "sign_key",
    type=path_option,
    metavar="PATH",
    help=f"Sign the checkpoint if a new one is needed (or ${SIGNING_KEY_ENV}).",
)
def prove(seeker: str, output: Path, sign_key: Path | None) -> None:
    """Write one seeker's evidence bundle: their stored events, stream chain,
    inclusion proofs and the checkpoint they are proven against."""
    run = session()
    # Before the proof: proving may record a checkpoint, which the
    # append-only log keeps for good, even if the bundle then had nowhere
    # to go.
    check_output(str(output))
    key = _signing_key(sign_key)
    bundle = run.call(_audit_log().prove, parse_seeker_id(seeker), key)
    try:
        output.write_text(json.dumps(bundle, ensure_ascii=False, indent=1) + "\n")
    except OSError as error:
        raise BadValue(
            _("--output {output}: {reason}").format(
                output=output, reason=error.strerror
            )
        ) from None
    if run.json:
        emit_json(
            {
                "id": bundle["account"],
                "events": len(bundle["events"]),
                "output": str(output),
            }
        )
    else:
        click.echo(
            _(
                "evidence for seeker {id}: {count} events, proven against a "
                "checkpoint of the log, written to {output}"
            ).format(id=bundle["account"], count=len(bundle["events"]), output=output)
        )


@audit.command()
def replay() -> None:
    """Run every stream through the current rules; list what they would refuse.

    Exits 1 when any history breaks the rules (imported legacy data, say).
    """
    run = session()
    log = _audit_log()
    state = run.call(log.state)
    total = state.size if state is not None else 0
    with ProgressLine("replay", total, enabled=not run.json) as progress:
        accounts, events, violations = run.call(log.replay, progress)
    if run.json:
        emit_json(
            {
                "accounts": accounts,
                "events": events,
                "violations": [
                    {"id": v.account, "version": v.version, "message": v.message}
                    for v in violations
                ],
            }
        )
    else:
        click.echo(
            _(
                "replayed {accounts} account(s): {count} event(s) the rules "
                "would refuse"
            ).format(accounts=accounts, count=len(violations))
        )
        if violations:
            rows = [[v.account, v.version, v.message] for v in violations]
            header = [
                pgettext("replay column", "id"),
                pgettext("replay column", "version"),
                pgettext("replay column", "refused"),
            ]
            click.echo(table(rows, header))
    if violations:
        raise click.exceptions.Exit(1)


COMMANDS = [audit]
