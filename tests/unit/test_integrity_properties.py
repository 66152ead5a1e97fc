"""Property: whatever the history, every proof the store gives verifies, and
no single changed byte does.

Random command histories (several accounts' streams interleaved, random
stored bytes) are appended through the same code the recorders run in the
insert's transaction (``integrity.store.Appender``), on an in-memory SQLite
database, with checkpoints taken at random moments. Then every event's
inclusion proof against every later checkpoint, and the consistency proof
between every pair of checkpoints, verify with RFC 9162's verifiers (built
from the nodes table, the way ``audit prove`` builds them); flipping any one
byte of a proof element or of a root makes verification fail.
"""

from __future__ import annotations

import sqlite3
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from integrity.chain import leaf_data
from integrity.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_at,
    verify_consistency,
    verify_inclusion,
)
from integrity.store import Appender, Sql, StoredRecord, read_state, schema

ACCOUNTS = [UUID(int=n) for n in range(1, 5)]


def _store() -> tuple[sqlite3.Connection, Sql]:
    connection = sqlite3.connect(":memory:")
    connection.row_factory = sqlite3.Row
    cursor = connection.cursor()
    cursor.execute(
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER,"
        " topic TEXT, state BLOB)"
    )
    for statement in schema(postgres=False):
        cursor.execute(statement)
    return connection, Sql(cursor, postgres=False)


def _flip(data: bytes, position: int) -> bytes:
    index = position % len(data)
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


histories = st.lists(
    st.tuples(
        st.sampled_from(ACCOUNTS),
        st.binary(min_size=1, max_size=40),
        st.booleans(),  # a checkpoint after this command
        st.integers(min_value=1, max_value=3),  # events the command records
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(histories, st.integers(min_value=0, max_value=10_000))
def test_every_proof_verifies_and_no_flipped_byte_does(
    history: list[tuple[UUID, bytes, bool, int]], position: int
) -> None:
    _, sql = _store()
    appender = Appender(sql, "stored_events")
    versions: dict[UUID, int] = {}
    notification_id = 0
    checkpoints: list[tuple[int, bytes]] = []
    for account, payload, checkpoint, count in history:
        batch = []
        for offset in range(count):
            notification_id += 1 + (offset % 2)  # ids may have gaps
            versions[account] = versions.get(account, 0) + 1
            batch.append(
                StoredRecord(
                    notification_id,
                    account,
                    versions[account],
                    "domain.seeker:Seeker.Event",
                    payload + bytes([offset]),
                )
            )
        appender.append(batch)
        state = read_state(sql)
        assert state is not None
        if checkpoint:
            checkpoints.append((state.size, state.root))
    state = read_state(sql)
    assert state is not None
    checkpoints.append((state.size, state.root))

    def node(level: int, index: int) -> bytes:
        rows = sql.rows(
            "SELECT hash FROM integrity_nodes WHERE level = ? AND idx = ?",
            (level, index),
        )
        return bytes(rows[0]["hash"])

    leaves = [
        leaf_hash(
            leaf_data(
                int(row["notification_id"]),
                bytes(row["stream_hash"]),
                row["principal"],
            )
        )
        for row in sql.rows(
            "SELECT notification_id, stream_hash, principal FROM integrity_events "
            "ORDER BY leaf_index"
        )
    ]
    for size, root in checkpoints:
        assert root_at(size, node) == root
        for index in range(size):
            proof = inclusion_proof(index, size, node)
            assert verify_inclusion(leaves[index], index, size, proof, root)
            assert not verify_inclusion(
                leaves[index], index, size, proof, _flip(root, position)
            )
            if proof:
                spot = position % len(proof)
                bad = [*proof[:spot], _flip(proof[spot], position), *proof[spot + 1 :]]
                assert not verify_inclusion(leaves[index], index, size, bad, root)
    for first, (size1, root1) in enumerate(checkpoints):
        for size2, root2 in checkpoints[first:]:
            proof = consistency_proof(size1, size2, node)
            assert verify_consistency(size1, size2, root1, root2, proof)
            assert (
                not verify_consistency(
                    size1, size2, _flip(root1, position), root2, proof
                )
                or size1 == 0
            )
            if proof:
                spot = position % len(proof)
                bad = [*proof[:spot], _flip(proof[spot], position), *proof[spot + 1 :]]
                assert not verify_consistency(size1, size2, root1, root2, bad)
