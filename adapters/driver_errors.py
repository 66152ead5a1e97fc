"""What a storage failure says, in the chosen language (SPEC §5, §6).

SQLite, psycopg and the operating system word their failures in English.
The English output keeps their words as they are (operators search for
them). In Japanese the failures an operator meets in practice are named in
Japanese: the file system's by ``errno`` (with the file named), the
drivers' by the phrase they are known by; anything rarer stays as the
driver wrote it, since a made-up translation would hide what it said.
"""

from __future__ import annotations

import errno

from domain.i18n import N_, _, language

_BY_ERRNO = {
    errno.ENOENT: N_("no such file or folder"),
    errno.EACCES: N_("permission denied"),
    errno.EPERM: N_("operation not permitted"),
    errno.EISDIR: N_("is a folder"),
    errno.ENOTDIR: N_("not a folder"),
    errno.ENOSPC: N_("no space left on the device"),
    errno.EROFS: N_("read-only file system"),
    errno.EEXIST: N_("already exists"),
    errno.EIO: N_("input/output error"),
}

_BY_PHRASE = (
    # SQLite
    ("unable to open database file", N_("unable to open the database file")),
    ("database is locked", N_("the database is locked by another process")),
    ("file is not a database", N_("the file is not a database")),
    ("readonly database", N_("the database is read-only")),
    ("disk I/O error", N_("disk input/output error")),
    ("database or disk is full", N_("the database or the disk is full")),
    ("malformed", N_("the database file is damaged")),
    # PostgreSQL and psycopg
    ("lock timeout", N_("waiting for a lock took too long")),
    ("statement timeout", N_("the statement took too long")),
    ("server closed the connection", N_("the server closed the connection")),
    ("administrator command", N_("the server ended the connection")),
    ("connection is closed", N_("the connection is closed")),
    ("connection is lost", N_("the connection was lost")),
    ("too many clients", N_("the server has no free connection")),
    ("connection slots are reserved", N_("the server has no free connection")),
    ("is starting up", N_("the server is starting up")),
    ("is shutting down", N_("the server is shutting down")),
    ("permission denied", N_("permission denied")),
    ("could not serialize access", N_("a concurrent change got in the way")),
    ("deadlock detected", N_("a deadlock was detected")),
)


def describe(error: BaseException) -> str:
    """``error`` in one line: the driver's words in English; in Japanese,
    the known failures named in Japanese."""
    text = " ".join(str(error).split()) or type(error).__name__
    if language() == "en":
        return text
    if isinstance(error, OSError) and error.errno in _BY_ERRNO:
        named = _(_BY_ERRNO[error.errno])
        return f"{named}: {error.filename}" if error.filename else named
    lowered = text.lower()
    for phrase, named in _BY_PHRASE:
        if phrase.lower() in lowered:
            return _(named)
    return text
