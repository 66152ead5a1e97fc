"""Writing an output file the way every ``--output`` does: whole or not at all.

The bytes go to a temporary file beside the target, which is then renamed
over it, so a reader (or a crash) never meets half a page or half a picture;
the path written is printed (``{"output": PATH, "bytes": N}`` with ``--json``)
so a script can pick it up.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click

from domain.errors import BadValue
from domain.i18n import _


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_output(data: bytes, output: Path, *, as_json: bool) -> None:
    try:
        handle, temporary = tempfile.mkstemp(
            dir=output.parent, prefix=f".{output.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.chmod(temporary, 0o666 & ~_umask())
            os.replace(temporary, output)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise BadValue(
            _("--output {output}: cannot write: {reason}").format(
                output=output, reason=reason
            )
        ) from None
    if as_json:
        click.echo(json.dumps({"output": str(output), "bytes": len(data)}))
    else:
        click.echo(str(output))


def check_output(output: str | None) -> Path | None:
    """Refuse, before any work, an ``--output`` that cannot be written: a
    missing folder, a folder in its place, a place the user may not write.

    These are mistakes in the option's value, so they exit 2 (usage) with
    one line, like any other bad value; the store is not involved.
    """
    if output is None:
        return None
    path = Path(output).expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise BadValue(
            _("--output {output}: is a folder; give a file name").format(output=output)
        )
    if not folder.is_dir():
        raise BadValue(
            _("--output {output}: no such folder {folder}").format(
                output=output, folder=folder
            )
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadValue(
            _("--output {output}: cannot write in {folder}").format(
                output=output, folder=folder
            )
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise BadValue(
            _("--output {output}: the file is read-only").format(output=output)
        )
    return path
