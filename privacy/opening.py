"""Opening the vault of a ledger: its key table and its master key, checked
against the key the store was created with (``privacy.key_check``)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.application import Application

    from privacy.vault import Vault


def vault_opener(
    *,
    sqlite_path: Path | None,
    notice: Callable[[str], None],
    environ: dict[str, str] | None = None,
    create_tables: bool = True,
) -> Callable[[Application[UUID]], Vault]:
    """What ``SeekerLedger(vault=...)`` calls when personal data is first needed.

    The vault's modules (and ``cryptography``) are imported only then, so a
    command that never opens personal data (lists, reports) never loads them.
    """

    def open_vault(ledger: Application[UUID]) -> Vault:
        from privacy.key_check import open_master_key
        from privacy.key_table import KeyTable
        from privacy.master_key import key_source
        from privacy.vault import Vault

        source = key_source(
            environ=dict(os.environ if environ is None else environ),
            sqlite_path=sqlite_path,
        )
        datastore = ledger.factory.datastore  # type: ignore[attr-defined]
        table = KeyTable(datastore, create=create_tables)
        return Vault(table, open_master_key(table, source, notice))

    return open_vault


def memory_vault(ledger: Application[UUID]) -> Vault:
    """A vault for an in-memory ledger: keys live and die with the process."""
    from privacy.key_table import MemoryKeyTable
    from privacy.vault import Vault

    return Vault(MemoryKeyTable(), secrets.token_bytes(32))
