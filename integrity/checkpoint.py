"""Checkpoints: the log tree's size and root at a moment, signed with Ed25519.

The text form follows C2SP's checkpoint and signed-note formats
(https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note): the origin
(the store's own id), the tree size, the base64 root hash and an extension
line with the time, then a blank line and one signature line per key,
``— <key name> <base64(4-byte key id || 64-byte signature)>``, each ending
in a newline and nothing after the last. The key id is the first four bytes
of SHA-256(name || "\\n" || 0x01 || public key), as signed notes define it
for Ed25519, and ``verifier_key`` writes the public key in the notes'
verifier-key form (``name+hash+base64(0x01 || key)``), so an off-the-shelf
note verifier (Go's ``golang.org/x/mod/sumdb/note``) checks a signed
checkpoint file as it is. An auditor keeps one checkpoint a file (or a
folder of them); ``audit verify --checkpoint FILE|DIR`` proves the log still
has that root at that size, and with ``--public-key`` that the agency's key
signed it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from domain.i18n import _

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

KEY_NAME = "seekers-audit"
_ED25519 = b"\x01"
_SIGNATURE_MARK = "\u2014 "


class CheckpointError(ValueError):
    """A checkpoint text that cannot be read."""


class KeyFileError(OSError):
    """A key file that is missing, unreadable or not an Ed25519 key."""


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: str
    signatures: tuple[Signature, ...] = field(default=())

    def body(self) -> str:
        root = base64.b64encode(self.root).decode()
        return f"{self.origin}\n{self.size}\n{root}\ntime {self.time}\n"

    def text(self) -> str:
        lines = [
            f"{_SIGNATURE_MARK}{s.name} "
            + base64.b64encode(s.key_id + s.signature).decode()
            for s in self.signatures
        ]
        return self.body() + "\n" + "".join(f"{line}\n" for line in lines)

    @property
    def signed(self) -> bool:
        return bool(self.signatures)


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public).digest()[:4]


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(checkpoint: Checkpoint, private: Ed25519PrivateKey) -> Checkpoint:
    public = _public_bytes(private.public_key())
    signature = Signature(
        KEY_NAME, key_id(KEY_NAME, public), private.sign(checkpoint.body().encode())
    )
    return replace(checkpoint, signatures=(*checkpoint.signatures, signature))


def verifier_key(public: Ed25519PublicKey, name: str = KEY_NAME) -> str:
    """The public key as a signed-note verifier key: ``name+hash+base64``,
    the hash the key id in hex, the base64 of 0x01 (Ed25519) || the key."""
    raw = _public_bytes(public)
    encoded = base64.b64encode(_ED25519 + raw).decode()
    return f"{name}+{key_id(name, raw).hex()}+{encoded}"


class SignatureCheck(Enum):
    """What a public key says of a checkpoint's signature lines."""

    VALID = "valid"
    """A line of this key verifies over the body."""
    INVALID = "invalid"
    """A line of this key is there and does not verify: a forgery or an edit."""
    UNSIGNED = "unsigned"
    """No signature line at all."""
    OTHER_KEY = "other key"
    """Signed, but by keys other than this one (another or an earlier key)."""


def check_signature(checkpoint: Checkpoint, public: Ed25519PublicKey) -> SignatureCheck:
    from cryptography.exceptions import InvalidSignature

    if not checkpoint.signatures:
        return SignatureCheck.UNSIGNED
    raw = _public_bytes(public)
    for entry in checkpoint.signatures:
        if entry.key_id != key_id(entry.name, raw):
            continue
        try:
            public.verify(entry.signature, checkpoint.body().encode())
        except InvalidSignature:
            return SignatureCheck.INVALID
        return SignatureCheck.VALID
    return SignatureCheck.OTHER_KEY


def signed_by(checkpoint: Checkpoint, public: Ed25519PublicKey) -> bool:
    """A signature line of this key verifies over the checkpoint's body."""
    return check_signature(checkpoint, public) is SignatureCheck.VALID


def parse_checkpoints(text: str) -> list[Checkpoint]:
    """Every checkpoint in a file (``audit checkpoint --output`` appends)."""
    lines = text.splitlines()
    found: list[Checkpoint] = []
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        body = lines[index : index + 4]
        index += 4
        if len(body) < 4 or index >= len(lines) or lines[index] != "":
            raise CheckpointError(
                _("not a checkpoint (origin, size, root, time, blank)")
            )
        index += 1
        signatures: list[Signature] = []
        while index < len(lines) and lines[index].startswith(_SIGNATURE_MARK):
            signatures.append(_signature_line(lines[index]))
            index += 1
        found.append(_body(body, tuple(signatures)))
    if not found:
        raise CheckpointError(_("no checkpoint in the file"))
    return found


def _body(lines: list[str], signatures: tuple[Signature, ...]) -> Checkpoint:
    origin, size_text, root_text, time_line = lines
    if not origin or " " in origin:
        raise CheckpointError(_("bad origin line {line!r}").format(line=origin))
    if not size_text.isdigit():
        raise CheckpointError(_("bad tree size {size!r}").format(size=size_text))
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(_("root hash is not base64")) from None
    if len(root) != 32:
        raise CheckpointError(_("root hash is not 32 bytes"))
    if not time_line.startswith("time "):
        raise CheckpointError(_("missing time line"))
    return Checkpoint(origin, int(size_text), root, time_line[5:], signatures)


def _signature_line(line: str) -> Signature:
    parts = line[len(_SIGNATURE_MARK) :].split(" ")
    if len(parts) != 2:
        raise CheckpointError(_("bad signature line"))
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(_("signature is not base64")) from None
    if len(blob) != 4 + 64:
        raise CheckpointError(_("signature is not an Ed25519 signature"))
    return Signature(parts[0], blob[:4], blob[4:])


def check_output(path: Path) -> None:
    """Refuse, before anything is recorded, an ``--output`` that cannot take
    a new checkpoint: an existing file (a kept checkpoint is never
    overwritten) or a folder that does not exist."""
    if path.is_dir():
        return
    if path.exists():
        raise CheckpointError(
            _(
                "{path} exists; a checkpoint file holds one checkpoint and a kept "
                "one is never overwritten (give a new file, or a folder)"
            ).format(path=path)
        )
    if not path.parent.is_dir():
        raise CheckpointError(
            _("{path}: no folder {folder}").format(path=path, folder=path.parent)
        )


def write_checkpoint(checkpoint: Checkpoint, path: Path) -> Path:
    """Write the checkpoint as a file of its own, exactly its text: a new
    FILE, or a new file in the folder PATH named for its size and time.
    Returns the file written."""
    if path.is_dir():
        stamp = checkpoint.time.replace("-", "").replace(":", "")
        stem = f"checkpoint-{checkpoint.size}-{stamp}"
        candidates = [path / f"{stem}.txt"] + [
            path / f"{stem}-{n}.txt" for n in range(2, 100)
        ]
    else:
        candidates = [path]
    for candidate in candidates:
        try:
            with candidate.open("x", encoding="utf-8", newline="\n") as handle:
                handle.write(checkpoint.text())
        except FileExistsError:
            continue
        except OSError as error:
            raise CheckpointError(f"{candidate}: {error.strerror or error}") from None
        return candidate
    raise CheckpointError(
        _("{path}: a checkpoint file of that name exists already").format(path=path)
    )


def read_checkpoints(path: Path) -> list[tuple[str, Checkpoint]]:
    """The checkpoints an auditor hands in, each with a label naming it: one
    file (a signed note, or several checkpoints one after another as earlier
    versions appended them), or a folder of such files (every file in it not
    starting with a dot, by name)."""
    if path.is_dir():
        files = sorted(
            entry
            for entry in path.iterdir()
            if entry.is_file() and not entry.name.startswith(".")
        )
        if not files:
            raise CheckpointError(
                _("{path}: no checkpoint file in the folder").format(path=path)
            )
    else:
        files = [path]
    labelled = []
    for file in files:
        found = read_checkpoint_file(file)
        for index, checkpoint in enumerate(found, start=1):
            label = file.name if len(found) == 1 else f"{file.name}:{index}"
            labelled.append((label, checkpoint))
    return labelled


def read_checkpoint_file(path: Path) -> list[Checkpoint]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointError(
            _("{path}: not a checkpoint file (not text)").format(path=path)
        ) from None
    except OSError as error:
        raise CheckpointError(f"{path}: {error.strerror or error}") from None
    try:
        return parse_checkpoints(text)
    except CheckpointError as error:
        raise CheckpointError(f"{path}: {error}") from None


# -- keys ----------------------------------------------------------------


def generate_keys(path: Path) -> tuple[Path, Path]:
    """Write a new Ed25519 private key (mode 0600) and ``PATH.pub``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    public_path = path.with_name(path.name + ".pub")
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(
            _("{path} exists; not overwriting a key").format(path=path)
        ) from None
    except OSError as error:
        raise KeyFileError(f"{path}: {error.strerror or error}") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    )
    return path, public_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    data = _read_key(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise KeyFileError(
            _("{path}: not a PEM private key").format(path=path)
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(_("{path}: not an Ed25519 key").format(path=path))
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    data = _read_key(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise KeyFileError(
            _("{path}: not a PEM public key").format(path=path)
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(_("{path}: not an Ed25519 public key").format(path=path))
    return key


def _read_key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise KeyFileError(f"{path}: {error.strerror or error}") from None
