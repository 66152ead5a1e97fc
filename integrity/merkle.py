"""The RFC 9162 Merkle tree over the whole event log, kept incrementally.

Why a tree on top of the stream chains: a chain proves the order of one
account's events, but nothing stops someone who can write to the database from
rewriting the whole log and recomputing every chain. A signed checkpoint (tree
size, root) pins the entire log. With the RFC 9162 (Certificate Transparency
v2) tree anyone holding an old checkpoint can check, with O(log n) hashes,
that one event is in the log (inclusion proof) and that the log only grew
since (consistency proof), without reading the log.

Why this shape:

- Pure functions over ``hashlib`` so an auditor can read and run it alone.
- The verifiers are RFC 9162 §2.1.3.2 and §2.1.4.2 step by step, and return
  ``False`` for any malformed input instead of raising: a verifier that can be
  made to raise or to accept a malformed proof is a hole.
- The log only grows, so a *perfect* subtree (``2**level`` leaves starting at
  ``index * 2**level``) never changes once complete. Storing those nodes, keyed
  by ``(level, index)``, as they are completed (``CompactRange.append`` hands
  them out) lets the root of *any* past size and any proof be computed with
  O(log n) node lookups: every subtree the RFC's recursions name is a perfect
  node or a short left-to-right run of perfect nodes along its right edge.
- ``root_from_leaves``, ``inclusion_path`` and ``consistency_path`` are the
  RFC's recursive definitions written out literally (O(n)); they are the oracles
  the fast code is tested against.

A root does not commit to its tree size (the (3 -> 7) proof also "verifies"
(3 -> 5) against the size-7 root: the proofs have the same shape). Verifiers
must take size and root together from one signed checkpoint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import TypeAlias

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId: TypeAlias = tuple[int, int]
"""``(level, index)``: the perfect subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 is a leaf."""

NodeReader: TypeAlias = Callable[[int, int], bytes]
"""``(level, index) -> hash`` of a stored perfect subtree."""

NodeGroup: TypeAlias = tuple[NodeId, ...]
"""Perfect subtrees, left to right, whose RFC 9162 combination
(``node_hash(a, node_hash(b, ...))``) is one proof element or root."""


# -- hashing -----------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


# -- reference recursions (RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1) --------------


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) from the leaf hashes, by the RFC's recursion (O(n))."""

    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaf_hashes[lo]
        k = _split(hi - lo)
        return node_hash(mth(lo, lo + k), mth(lo + k, hi))

    if not leaf_hashes:
        return EMPTY_ROOT
    return mth(0, len(leaf_hashes))


def inclusion_path(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, literally (reference oracle)."""
    if not 0 <= index < len(leaf_hashes):
        raise ValueError(f"index {index} not in a tree of size {len(leaf_hashes)}")

    def path(m: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo == 1:
            return []
        k = _split(hi - lo)
        if m < k:
            return [*path(m, lo, lo + k), root_from_leaves(leaf_hashes[lo + k : hi])]
        return [*path(m - k, lo + k, hi), root_from_leaves(leaf_hashes[lo : lo + k])]

    return path(index, 0, len(leaf_hashes))


def consistency_path(m: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1, literally (reference oracle).

    Defined for ``0 < m <= n``; ``m == n`` gives the empty proof.
    """
    if not 0 < m <= len(leaf_hashes):
        raise ValueError(f"no consistency proof from {m} to {len(leaf_hashes)}")

    def subproof(m: int, lo: int, hi: int, known: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if known else [root_from_leaves(leaf_hashes[lo:hi])]
        k = _split(n)
        if m <= k:
            return [
                *subproof(m, lo, lo + k, known),
                root_from_leaves(leaf_hashes[lo + k : hi]),
            ]
        return [
            *subproof(m - k, lo + k, hi, False),
            root_from_leaves(leaf_hashes[lo : lo + k]),
        ]

    return subproof(m, 0, len(leaf_hashes), True)


# -- verifiers (RFC 9162 §2.1.3.2, §2.1.4.2) ---------------------------------


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows leaf ``index`` of the tree (``size``, ``root``)
    has hash ``leaf_hash`` (RFC 9162 §2.1.3.2). Never raises."""
    if not (_is_size(index) and _is_size(size) and index < size):
        return False
    if not (_is_hash(leaf_hash) and _is_hash(root) and isinstance(proof, Sequence)):
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if not _is_hash(p) or sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree (``size1``, ``root1``) is a prefix of
    (``size2``, ``root2``) (RFC 9162 §2.1.4.2). Never raises.

    ``size1 == size2`` needs an empty proof and equal roots. ``size1 == 0`` is
    always refused, as in transparency-dev/merkle: the RFC defines proofs only
    for ``0 < size1``, and the empty tree is a prefix of everything, so a caller
    with nothing to check should not be asking.
    """
    if not (_is_size(size1) and _is_size(size2) and 0 < size1 <= size2):
        return False
    if not (_is_hash(root1) and _is_hash(root2) and isinstance(proof, Sequence)):
        return False
    path = list(proof)
    if not all(_is_hash(c) for c in path):
        return False
    if size1 == size2:
        return not path and root1 == root2
    # 1. An empty path fails.
    if not path:
        return False
    # 2. If first is an exact power of 2, prepend first_hash.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # 3-4. fn = first - 1, sn = second - 1; shift right while LSB(fn) is set.
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. Both fr and sr start as the first path value.
    fr = sr = path[0]
    # 6. Fold in the rest.
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # 7. fr == first_hash, sr == second_hash and sn == 0.
    return sn == 0 and fr == root1 and sr == root2


# -- the growing tree --------------------------------------------------------


class CompactRange:
    """The right edge of a growing tree: one hash per set bit of ``size``.

    ``to_nodes()[i]`` is the hash of node ``root_nodes(size)[i]`` (largest
    subtree first), so the frontier is at most ``size.bit_length()`` hashes and
    is all a writer needs to keep (and persist) to go on appending.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_nodes(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """Restore a range saved with ``to_nodes()`` (``ValueError`` if malformed)."""
        if not _is_size(size):
            raise ValueError(f"bad tree size {size!r}")
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a tree of size {size} has {size.bit_count()} frontier hashes, "
                f"not {len(hashes)}"
            )
        if not all(_is_hash(h) for h in hashes):
            raise ValueError(f"frontier hashes must be {HASH_SIZE} bytes each")
        restored = cls()
        restored._size = size
        restored._hashes = list(hashes)
        return restored

    @property
    def size(self) -> int:
        """How many leaves have been appended."""
        return self._size

    def to_nodes(self) -> list[bytes]:
        """The frontier hashes, largest subtree first (a copy)."""
        return list(self._hashes)

    def copy(self) -> CompactRange:
        """An independent copy (``append`` mutates in place)."""
        return CompactRange.from_nodes(self._size, self._hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf; return every perfect subtree it completes, as
        ``(level, index, hash)`` from the leaf itself (level 0) upwards."""
        if not _is_hash(leaf_hash):
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes")
        index = self._size
        h = leaf_hash
        level = 0
        created = [(0, index, h)]
        while index & 1:
            h = node_hash(self._hashes.pop(), h)
            index >>= 1
            level += 1
            created.append((level, index, h))
        self._hashes.append(h)
        self._size += 1
        return created

    def root(self) -> bytes:
        """MTH of the leaves appended so far (``EMPTY_ROOT`` when none)."""
        if not self._hashes:
            return EMPTY_ROOT
        h = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            h = node_hash(left, h)
        return h

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"


# -- proofs from stored perfect-subtree nodes --------------------------------


def _subtree_nodes(start: int, end: int) -> NodeGroup:
    """Perfect subtrees covering ``[start, end)``, left to right.

    ``start`` must be a multiple of the smallest power of two ``>= end - start``
    (true of every subtree the RFC recursions visit), so each piece is aligned.
    """
    pieces: list[NodeId] = []
    while start < end:
        level = (end - start).bit_length() - 1
        pieces.append((level, start >> level))
        start += 1 << level
    return tuple(pieces)


def root_nodes(size: int) -> NodeGroup:
    """The perfect subtrees whose combination is the root of ``size`` leaves."""
    if not _is_size(size):
        raise ValueError(f"bad tree size {size!r}")
    return _subtree_nodes(0, size)


def inclusion_proof_nodes(index: int, size: int) -> list[NodeGroup]:
    """Which stored nodes make up each element of the inclusion proof.

    One group per proof element, bottom-up; all groups are single nodes except
    at most one (a right-edge subtree). Lets a SQL caller fetch every node of a
    proof in one query, then ``resolve`` the groups.
    """
    if not (_is_size(index) and _is_size(size) and index < size):
        raise ValueError(f"index {index} not in a tree of size {size}")
    top_down: list[NodeGroup] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            top_down.append(_subtree_nodes(lo + k, hi))
            hi = lo + k
        else:
            top_down.append(_subtree_nodes(lo, lo + k))
            lo += k
    return top_down[::-1]


def consistency_proof_nodes(size1: int, size2: int) -> list[NodeGroup]:
    """Which stored nodes make up each element of the consistency proof
    from ``size1`` to ``size2`` (``0 < size1 <= size2``), in proof order."""
    if not (_is_size(size1) and _is_size(size2) and 0 < size1 <= size2):
        raise ValueError(f"no consistency proof from {size1} to {size2}")
    top_down: list[NodeGroup] = []
    lo, hi, m, known = 0, size2, size1, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            top_down.append(_subtree_nodes(lo + k, hi))
            hi = lo + k
        else:
            top_down.append(_subtree_nodes(lo, lo + k))
            lo += k
            m -= k
            known = False
    if not known:
        top_down.append(_subtree_nodes(lo, hi))
    return top_down[::-1]


def combine(group: NodeGroup, nodes: NodeReader) -> bytes:
    """The hash of the subtree made of ``group`` (left to right)."""
    if not group:
        return EMPTY_ROOT
    h = nodes(*group[-1])
    for level, index in reversed(group[:-1]):
        h = node_hash(nodes(level, index), h)
    return h


def resolve(groups: Iterable[NodeGroup], nodes: NodeReader) -> list[bytes]:
    """Turn a node plan (``*_proof_nodes``) into proof hashes."""
    return [combine(group, nodes) for group in groups]


def root_at(size: int, nodes: NodeReader) -> bytes:
    """MTH of the first ``size`` leaves, from stored nodes (O(log n) lookups)."""
    return combine(root_nodes(size), nodes)


def inclusion_proof(index: int, size: int, nodes: NodeReader) -> list[bytes]:
    """PATH(index, D[size]) from stored nodes (O(log n) lookups)."""
    return resolve(inclusion_proof_nodes(index, size), nodes)


def consistency_proof(size1: int, size2: int, nodes: NodeReader) -> list[bytes]:
    """PROOF(size1, D[size2]) from stored nodes (O(log n) lookups)."""
    return resolve(consistency_proof_nodes(size1, size2), nodes)


class MemoryNodeStore:
    """Every perfect-subtree node of a growing tree, in a dict (tests, tools).

    ``read`` is a ``NodeReader``; it raises ``KeyError`` for a node that is not
    complete yet, so asking beyond ``size`` fails loudly.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.nodes: dict[NodeId, bytes] = {}
        self.frontier = CompactRange()
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """How many leaves have been appended."""
        return self.frontier.size

    def append(self, leaf_hash: bytes) -> None:
        """Add a leaf and store the nodes it completes."""
        for level, index, h in self.frontier.append(leaf_hash):
            self.nodes[(level, index)] = h

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add leaves in order."""
        for h in leaf_hashes:
            self.append(h)

    def read(self, level: int, index: int) -> bytes:
        """The stored hash of node ``(level, index)``."""
        return self.nodes[(level, index)]
