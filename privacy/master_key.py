"""Where the master key comes from: ``SEEKERS_MASTER_KEY``, or for a local
SQLite store a key file beside the database (created, mode 0600, when none
is given and the store has never sealed anything).

Reading a key never repairs anything: a key file open to group or others, or
one that does not hold base64 of 32 bytes, is refused with one line saying
what to do; a missing key file is only created when the caller says the
store is fresh (see ``privacy.key_check``).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from domain.errors import StorageError
from domain.i18n import _

MASTER_KEY_ENV = "SEEKERS_MASTER_KEY"
KEY_BYTES = 32
KEY_FILE_LIMIT = 4096  # a key file is one line of 44 characters


class MasterKeyError(StorageError):
    """The master key is missing, malformed, or not the one this store uses."""


def decode_master_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(
            _("{source} is not valid base64").format(source=source)
        ) from None
    if len(key) != KEY_BYTES:
        raise MasterKeyError(
            _("{source} must hold {bytes} bytes (base64), not {given}").format(
                source=source, bytes=KEY_BYTES, given=len(key)
            )
        )
    return key


def key_file_for(database: Path) -> Path:
    return database.with_name(database.name + ".key")


@dataclass(frozen=True)
class KeySource:
    """Where this run's master key comes from, and what to tell the operator
    when it is not the key the store was created with."""

    text: str | None
    """The ``SEEKERS_MASTER_KEY`` value, if set (it wins over any key file)."""
    key_file: Path | None
    """The SQLite store's key file (whether or not it exists; unused while
    the variable is set)."""

    @property
    def from_environment(self) -> bool:
        return self.text is not None

    @property
    def description(self) -> str:
        if self.from_environment or self.key_file is None:
            return MASTER_KEY_ENV
        return _("key file {path}").format(path=self.key_file)

    @property
    def remedy(self) -> str:
        """What to restore: one clause, for the end of an error line."""
        fields = {"variable": MASTER_KEY_ENV, "path": self.key_file}
        if self.key_file is None:
            return _("set {variable} to the key this store was created with").format(
                **fields
            )
        if self.from_environment:
            return _(
                "set {variable} to the key this store was created with, "
                "or unset it and restore {path} from backup"
            ).format(**fields)
        return _(
            "restore {path} from backup or set {variable} to the key this store "
            "was created with"
        ).format(**fields)


def key_source(*, environ: dict[str, str], sqlite_path: Path | None) -> KeySource:
    """The source of the master key; a PostgreSQL store must have the variable."""
    text = environ.get(MASTER_KEY_ENV, "").strip() or None
    key_file = None if sqlite_path is None else key_file_for(sqlite_path)
    if text is None and key_file is None:
        raise MasterKeyError(
            _(
                "{variable} is not set: a PostgreSQL store needs the master "
                "key (base64 of 32 bytes) to read or write personal data"
            ).format(variable=MASTER_KEY_ENV)
        )
    return KeySource(text=text, key_file=key_file)


def read_key_file(path: Path) -> bytes:
    """The key in an existing key file, refused if others may read it or it
    is not base64 of 32 bytes. ``FileNotFoundError`` if there is none."""
    try:
        # Non-blocking: a FIFO put in its place must not hang the command.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise  # the caller decides whether a new key may be made
    except OSError as error:
        raise _unreadable(path, error) from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise MasterKeyError(
                _(
                    "master key file {path} is not a regular file; restore it "
                    "from backup or set {variable}"
                ).format(path=path, variable=MASTER_KEY_ENV)
            )
        mode = stat.S_IMODE(status.st_mode)
        if mode & 0o077:
            raise MasterKeyError(
                _(
                    "permissions {mode} for '{path}' are too open: the master "
                    "key must be readable by its owner only; chmod 600 {path}"
                ).format(mode=f"{mode:04o}", path=path)
            )
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            raw = file.read(KEY_FILE_LIMIT + 1)
    except OSError as error:
        raise _unreadable(path, error) from None
    finally:
        os.close(descriptor)
    fields = {"path": path, "bytes": KEY_BYTES, "variable": MASTER_KEY_ENV}
    if len(raw) > KEY_FILE_LIMIT:
        raise MasterKeyError(
            _(
                "master key file {path} is not a valid key (base64 of {bytes} "
                "bytes on one line): it is too long; restore it from backup or "
                "set {variable}"
            ).format(**fields)
        )
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise MasterKeyError(
            _(
                "master key file {path} is not a valid key (base64 of {bytes} "
                "bytes on one line): it is not ASCII text; restore it from "
                "backup or set {variable}"
            ).format(**fields)
        ) from None
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(
            _(
                "master key file {path} is not a valid key (base64 of {bytes} "
                "bytes on one line): it is not base64; restore it from backup "
                "or set {variable}"
            ).format(**fields)
        ) from None
    if len(key) != KEY_BYTES:
        raise MasterKeyError(
            _(
                "master key file {path} is not a valid key (base64 of {bytes} "
                "bytes on one line): it holds {given} bytes; restore it from "
                "backup or set {variable}"
            ).format(given=len(key), **fields)
        )
    return key


def _unreadable(path: Path, error: OSError) -> MasterKeyError:
    return MasterKeyError(
        _("cannot read master key file {path}: {error}").format(
            path=path, error=error.strerror or error
        )
    )


def _write_new(path: Path, key: bytes) -> None:
    """Write ``key`` to ``path``, which must not exist (``FileExistsError``)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(base64.b64encode(key).decode("ascii") + "\n")
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def create_key_file(path: Path, notice: Callable[[str], None]) -> bytes:
    """A new random key in a new key file (mode 0600); if another process
    created the file meanwhile, its key.

    The key is written to a private temporary file first and linked into
    place, so no other process ever reads a key file half written.
    """
    key = secrets.token_bytes(KEY_BYTES)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
    try:
        _write_new(draft, key)
        try:
            os.link(draft, path)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            _write_new(path, key)
    except FileExistsError:
        try:
            return read_key_file(path)
        except FileNotFoundError:  # a dangling link, or removed meanwhile
            raise MasterKeyError(
                _(
                    "master key file {path} exists but cannot be opened; "
                    "restore it from backup or set {variable}"
                ).format(path=path, variable=MASTER_KEY_ENV)
            ) from None
    except OSError as error:
        raise MasterKeyError(
            _("cannot create master key file {path}: {error}").format(
                path=path, error=error.strerror or error
            )
        ) from None
    finally:
        draft.unlink(missing_ok=True)
    notice(
        _(
            "created master key file {path} (mode 0600); without it the personal "
            "data in this ledger cannot be read: back it up, or set "
            "{variable} instead"
        ).format(path=path, variable=MASTER_KEY_ENV)
    )
    return key


def load_master_key(
    source: KeySource,
    *,
    may_create: bool,
    missing: Callable[[Path], MasterKeyError],
    notice: Callable[[str], None],
) -> bytes:
    """The master key from its source. A missing key file is created only
    when ``may_create`` (a store that has never sealed anything); otherwise
    ``missing(path)`` is raised and nothing is written."""
    if source.text is not None:
        return decode_master_key(source.text, MASTER_KEY_ENV)
    path = source.key_file
    assert path is not None  # key_source gives one or the other
    try:
        return read_key_file(path)
    except FileNotFoundError:
        pass
    if not may_create:
        raise missing(path)
    return create_key_file(path, notice)
