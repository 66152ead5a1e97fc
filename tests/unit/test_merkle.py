"""The RFC 9162 log tree: published vectors, verifier pitfalls, properties.

Every vector below is copied from github.com/transparency-dev/merkle (the Go
library behind Trillian and Tessera, itself ported from the RFC 6962 tests of
google/certificate-transparency); each table names the file and commit it
came from. No I/O, no database.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrity.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryNodeStore,
    NodeGroup,
    NodeId,
    NodeReader,
    combine,
    consistency_path,
    consistency_proof,
    consistency_proof_nodes,
    inclusion_path,
    inclusion_proof,
    inclusion_proof_nodes,
    leaf_hash,
    node_hash,
    resolve,
    root_at,
    root_from_leaves,
    root_nodes,
    verify_consistency,
    verify_inclusion,
)


def hd(text: str) -> bytes:
    return bytes.fromhex(text)


def b64(text: str) -> bytes:
    return base64.b64decode(text)


# ============================================================================
# Published vectors
# ============================================================================

# transparency-dev/merkle, testonly/constants.go (commit 417fb0c3):
# LeafInputs(), NodeHashes(), RootHashes(), EmptyRootHash().
LEAF_INPUTS = [
    hd(""),
    hd("00"),
    hd("10"),
    hd("2021"),
    hd("3031"),
    hd("40414243"),
    hd("5051525354555657"),
    hd("606162636465666768696a6b6c6d6e6f"),
]
NODE_HASHES = [
    [
        hd("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        hd("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        hd("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        hd("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        hd("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        hd("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        hd("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        hd("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        hd("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        hd("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        hd("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        hd("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [
        hd("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
    ],
]
ROOT_HASHES = [  # indexed by tree size
    hd("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    hd("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    hd("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    hd("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    hd("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    hd("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    hd("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    hd("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
# Same file, CompactTrees(): the frontier after each size, as NodeHashes()
# coordinates [level][index].
COMPACT_TREES: list[list[tuple[int, int]]] = [
    [],
    [(0, 0)],
    [(1, 0)],
    [(1, 0), (0, 2)],
    [(2, 0)],
    [(2, 0), (0, 4)],
    [(2, 0), (1, 2)],
    [(2, 0), (1, 2), (0, 6)],
    [(3, 0)],
]

# transparency-dev/merkle, proof/verify_test.go as of commit 9ca563d3 (the last
# version before bcba819 moved the probes to testdata/*.json; the same values
# are the happy paths of testdata/inclusion/*/ and testdata/consistency/*/ at
# HEAD). NB: ``leaf`` is 1-based there (the test calls p.leaf-1).
SHA256_SOME_HASH = hd(
    "abacaba000000000000000000000000000000000000000000060061e00123456"
)
INCLUSION_PROOFS_1_BASED: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        [
            hd("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hd("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            hd("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            hd("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        3,
        3,
        [
            hd("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        ],
    ),
    (
        2,
        5,
        [
            hd("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hd("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
CONSISTENCY_PROOFS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        [
            hd("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hd("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            hd("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            hd("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hd("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            hd("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            hd("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

# transparency-dev/merkle, testonly/reference_test.go (commit 417fb0c3),
# TestRefInclusionProof: (index, size, want), 0-based.
REF_INCLUSION_PROOFS: list[tuple[int, int, list[bytes]]] = [
    (0, 1, []),
    (
        0,
        2,
        [hd("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")],
    ),
    (
        1,
        2,
        [hd("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")],
    ),
    (
        2,
        3,
        [hd("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")],
    ),
    (
        1,
        5,
        [
            hd("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hd("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        0,
        8,
        [
            hd("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hd("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            hd("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            hd("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

# transparency-dev/merkle, testdata/inclusion/{additional,single-entry}/*.json
# and testdata/consistency/additional/*.json (commit 417fb0c3), verbatim
# (base64 as in the files): the edge cases of TestVerifyInclusion,
# TestVerifyInclusionSingleEntry and TestVerifyConsistency.
UPSTREAM_INCLUSION_PROBES = """[
 ["additional/0/empty-root-and-random-leaf", 0, 0,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
  "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", [], true],
 ["additional/0/empty-root", 0, 0,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "", [], true],
 ["additional/0/random-leaf", 0, 0,
  "", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", [], true],
 ["additional/1/empty-root-and-random-leaf", 0, 1,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
  "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", [], true],
 ["additional/1/empty-root", 0, 1,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "", [], true],
 ["additional/1/random-leaf", 0, 1,
  "", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", [], true],
 ["additional/2/empty-root-and-random-leaf", 1, 0,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
  "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", [], true],
 ["additional/2/empty-root", 1, 0,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "", [], true],
 ["additional/2/random-leaf", 1, 0,
  "", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", [], true],
 ["additional/3/empty-root-and-random-leaf", 2, 1,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
  "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", [], true],
 ["additional/3/empty-root", 2, 1,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "", [], true],
 ["additional/3/random-leaf", 2, 1,
  "", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", [], true],
 ["single-entry/empty-leaf", 0, 1,
  "DTrtAjFI/9KiWfvQzcf7PPl1ZYdg03dbgq9vkKrMLfw=", "", [], true],
 ["single-entry/empty-root-and-leaf", 0, 1, "", "", [], true],
 ["single-entry/empty-root", 0, 1,
  "", "DTrtAjFI/9KiWfvQzcf7PPl1ZYdg03dbgq9vkKrMLfw=", [], true],
 ["single-entry/matching-root-and-leaf", 0, 1,
  "DTrtAjFI/9KiWfvQzcf7PPl1ZYdg03dbgq9vkKrMLfw=",
  "DTrtAjFI/9KiWfvQzcf7PPl1ZYdg03dbgq9vkKrMLfw=", [], false]
]"""
# [desc, leafIdx, treeSize, root, leafHash, proof, wantErr]

UPSTREAM_CONSISTENCY_PROBES = """[
 ["consistency-check-on-empty-tree-size1-is-zero-is-useless", 0, 1,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
  ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="], true],
 ["roots-do-not-match-and-sizes-are-zero", 0, 0,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "ZG9uJ3QgY2FyZSAy", [], true],
 ["roots-do-not-not-match-and-sizes-are-one", 1, 1,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "ZG9uJ3QgY2FyZSAy", [], true],
 ["size1-is-greater-than-size2-again", 2, 1,
  "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAy", [], true],
 ["size1-is-greater-than-size2", 1, 0,
  "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAy", [], true],
 ["size1-is-zero-and-does-not-equal-size2", 0, 1,
  "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAy", [], true],
 ["size1-is-zero-and-size2-is-not-zero", 0, 1,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "ZG9uJ3QgY2FyZSAy", [], true],
 ["sizes-are-equal-one-and-proof-is-empty", 1, 1,
  "ZG9uJ3QgY2FyZSAy", "ZG9uJ3QgY2FyZSAy", [], false],
 ["sizes-are-equal-one-but-roots-are-not", 1, 1,
  "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAy", [], true],
 ["sizes-are-equal-zero-and-proof-is-empty", 0, 0,
  "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAx", [], true],
 ["sizes-are-equal-zero-but-roots-are-not", 0, 0,
  "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAy", [], true],
 ["sizes-do-not-watch-and-proof-is-empty", 1, 2,
  "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAy", [], true],
 ["sizes-match-but-proof-is-not-empty-and-sizes-are-one", 1, 1,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
  ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="], true],
 ["sizes-match-but-proof-is-not-empty-and-sizes-are-zero", 0, 0,
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
  ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="], true]
]"""
# [desc, size1, size2, root1, root2, proof, wantErr]

# Where we are deliberately stricter than upstream: its roots here are the
# 12-byte strings "don't care 2", which upstream accepts for equal sizes
# without looking at them; we refuse any root that is not a SHA-256 hash.
STRICTER_THAN_UPSTREAM = {"sizes-are-equal-one-and-proof-is-empty"}

# transparency-dev/merkle, proof/proof_test.go (commit 417fb0c3), TestInclusion
# and TestConsistency: which stored (level, index) nodes a proof is made of.
# Go's Nodes{IDs, begin, end}: IDs[begin:end] (lowest first) are rehashed
# into a single proof element; ``go_plan`` below turns that into our groups.
GoPlan = tuple[list[NodeId], int, int]
INCLUSION_PLANS: list[tuple[int, int, GoPlan]] = [  # (size, index, plan)
    (1, 0, ([], 0, 0)),
    (2, 0, ([(0, 1)], 0, 0)),
    (2, 1, ([(0, 0)], 0, 0)),
    (3, 1, ([(0, 0), (0, 2)], 1, 2)),
    (7, 0, ([(0, 1), (1, 1), (0, 6), (1, 2)], 2, 4)),
    (7, 1, ([(0, 0), (1, 1), (0, 6), (1, 2)], 2, 4)),
    (7, 2, ([(0, 3), (1, 0), (0, 6), (1, 2)], 2, 4)),
    (7, 3, ([(0, 2), (1, 0), (0, 6), (1, 2)], 2, 4)),
    (7, 4, ([(0, 5), (0, 6), (2, 0)], 1, 2)),
    (7, 5, ([(0, 4), (0, 6), (2, 0)], 1, 2)),
    (7, 6, ([(1, 2), (2, 0)], 0, 0)),
    (4, 2, ([(0, 3), (1, 0)], 0, 0)),
    (5, 3, ([(0, 2), (1, 0), (0, 4)], 2, 3)),
    (6, 3, ([(0, 2), (1, 0), (1, 2)], 2, 3)),
    (6, 4, ([(0, 5), (2, 0)], 0, 0)),
    (15, 10, ([(0, 11), (1, 4), (0, 14), (1, 6), (3, 0)], 2, 4)),
    (31, 24, ([(0, 25), (1, 13), (0, 30), (1, 14), (3, 2), (4, 0)], 2, 4)),
    (
        95,
        81,
        (
            [(0, 80), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)],
            3,
            6,
        ),
    ),
]
INCLUSION_PLAN_ERRORS = [(0, 0), (0, 1), (1, 2), (0, 3), (7, 8)]  # (size, index)
CONSISTENCY_PLANS: list[tuple[int, int, GoPlan]] = [  # (size1, size2, plan)
    (1, 2, ([(0, 1)], 0, 0)),
    (1, 4, ([(0, 1), (1, 1)], 0, 0)),
    (1, 6, ([(0, 1), (1, 1), (1, 2)], 2, 3)),
    (2, 3, ([(0, 2)], 0, 1)),
    (2, 8, ([(1, 1), (2, 1)], 0, 0)),
    (3, 7, ([(0, 2), (0, 3), (1, 0), (0, 6), (1, 2)], 3, 5)),
    (4, 7, ([(0, 6), (1, 2)], 0, 2)),
    (5, 7, ([(0, 4), (0, 5), (0, 6), (2, 0)], 2, 3)),
    (6, 7, ([(1, 2), (0, 6), (2, 0)], 1, 2)),
    (7, 8, ([(0, 6), (0, 7), (1, 2), (2, 0)], 0, 0)),
    (1, 1, ([], 0, 0)),
    (2, 2, ([], 0, 0)),
    (3, 3, ([], 0, 0)),
    (4, 4, ([], 0, 0)),
    (5, 5, ([], 0, 0)),
    (7, 7, ([], 0, 0)),
    (8, 8, ([], 0, 0)),
    (2, 4, ([(1, 1)], 0, 0)),
    (3, 5, ([(0, 2), (0, 3), (1, 0), (0, 4)], 3, 4)),
    (3, 6, ([(0, 2), (0, 3), (1, 0), (1, 2)], 3, 4)),
    (4, 6, ([(1, 2)], 0, 1)),
    (1, 7, ([(0, 1), (1, 1), (0, 6), (1, 2)], 2, 4)),
    (10, 15, ([(1, 4), (1, 5), (0, 14), (1, 6), (3, 0)], 2, 4)),
    (24, 31, ([(3, 2), (0, 30), (1, 14), (2, 6), (4, 0)], 1, 4)),
    (
        81,
        95,
        (
            [
                (0, 80),
                (0, 81),
                (1, 41),
                (2, 21),
                (0, 94),
                (1, 46),
                (2, 22),
                (4, 4),
                (6, 0),
            ],
            4,
            7,
        ),
    ),
]
CONSISTENCY_PLAN_ERRORS = [(5, 0), (9, 8), (0, 5), (0, 0)]  # (size1, size2)


def go_plan(plan: GoPlan) -> list[NodeGroup]:
    """Go's Nodes as our groups: IDs[begin:end] become one group, left to right."""
    ids, begin, end = plan
    groups: list[NodeGroup] = [(node,) for node in ids[:begin]]
    if begin < end:
        groups.append(tuple(reversed(ids[begin:end])))
    groups.extend((node,) for node in ids[end:])
    return groups


# ============================================================================
# Helpers
# ============================================================================

VECTOR_LEAVES = [leaf_hash(data) for data in LEAF_INPUTS]
VECTOR_STORE = MemoryNodeStore(VECTOR_LEAVES)

MAX_SIZE = 300
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(MAX_SIZE)]
STORE = MemoryNodeStore(LEAVES)


def bounded(store: MemoryNodeStore, size: int) -> NodeReader:
    """``store.read``, failing the test if a node not complete at ``size``
    (so not in a store that has only ``size`` leaves) is asked for."""

    def read(level: int, index: int) -> bytes:
        assert (index + 1) << level <= size, f"node {(level, index)} beyond {size}"
        return store.read(level, index)

    return read


def flipped(value: bytes, position: int, mask: int = 0x01) -> bytes:
    out = bytearray(value)
    out[position] ^= mask
    return bytes(out)


def corrupt_inclusion(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[str, int, int, list[bytes], bytes, bytes]]:
    """Port of corruptInclusionProof (proof/verify_test.go @ 9ca563d3)."""
    probes = [
        ("leafIndex - 1", index - 1, size, proof, root, leaf),
        ("leafIndex + 1", index + 1, size, proof, root, leaf),
        ("leafIndex ^ 2", index ^ 2, size, proof, root, leaf),
        ("treeSize * 2", index, size * 2, proof, root, leaf),
        ("treeSize / 2", index, size // 2, proof, root, leaf),
        ("wrong leaf", index, size, proof, root, b"WrongLeaf"),
        ("empty root", index, size, proof, EMPTY_ROOT, leaf),
        ("random root", index, size, proof, SHA256_SOME_HASH, leaf),
        ("trailing garbage", index, size, [*proof, b""], root, leaf),
        ("trailing root", index, size, [*proof, root], root, leaf),
        ("preceding garbage", index, size, [b"", *proof], root, leaf),
        ("preceding root", index, size, [root, *proof], root, leaf),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flipped(wrong[i], 0, 8)
        probes.append((f"modified proof[{i}] bit 3", index, size, wrong, root, leaf))
    if proof:
        probes.append(("removed component", index, size, proof[:-1], root, leaf))
    if len(proof) > 1:
        inserted = [proof[0], SHA256_SOME_HASH, *proof[1:]]
        probes.append(("inserted component", index, size, inserted, root, leaf))
    return probes


def corrupt_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    """Port of corruptConsistencyProof (proof/verify_test.go @ 9ca563d3)."""
    probes = [
        ("size1 - 1", size1 - 1, size2, root1, root2, proof),
        ("size1 + 1", size1 + 1, size2, root1, root2, proof),
        ("size1 ^ 2", size1 ^ 2, size2, root1, root2, proof),
        ("size2 * 2", size1, size2 * 2, root1, root2, proof),
        ("size2 / 2", size1, size2 // 2, root1, root2, proof),
        ("wrong root1", size1, size2, b"WrongRoot", root2, proof),
        ("wrong root2", size1, size2, root1, b"WrongRoot", proof),
        ("swapped roots", size1, size2, root2, root1, proof),
        ("empty proof", size1, size2, root1, root2, []),
        ("trailing garbage", size1, size2, root1, root2, [*proof, b""]),
        ("trailing root1", size1, size2, root1, root2, [*proof, root1]),
        ("trailing root2", size1, size2, root1, root2, [*proof, root2]),
        ("preceding garbage", size1, size2, root1, root2, [b"", *proof]),
        ("preceding root1", size1, size2, root1, root2, [root1, *proof]),
        ("preceding root2", size1, size2, root1, root2, [root2, *proof]),
        ("preceding proof[0]", size1, size2, root1, root2, [proof[0], *proof]),
        ("truncated proof", size1, size2, root1, root2, proof[:-1]),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flipped(wrong[i], 0, 16)
        probes.append((f"modified proof[{i}] bit 4", size1, size2, root1, root2, wrong))
    return probes


# ============================================================================
# Vectors
# ============================================================================


def test_hashes_match_every_published_node() -> None:
    assert ROOT_HASHES[0] == EMPTY_ROOT
    assert NODE_HASHES[0] == VECTOR_LEAVES
    for level in range(1, len(NODE_HASHES)):
        for index, expected in enumerate(NODE_HASHES[level]):
            below = NODE_HASHES[level - 1]
            assert node_hash(below[2 * index], below[2 * index + 1]) == expected


@pytest.mark.parametrize("size", range(9))
def test_roots_match_published_roots(size: int) -> None:
    assert root_from_leaves(VECTOR_LEAVES[:size]) == ROOT_HASHES[size]
    assert root_at(size, bounded(VECTOR_STORE, size)) == ROOT_HASHES[size]
    assert CompactRange.from_nodes(0, []).root() == EMPTY_ROOT
    tree = CompactRange()
    for leaf in VECTOR_LEAVES[:size]:
        tree.append(leaf)
    assert tree.size == size
    assert tree.root() == ROOT_HASHES[size]
    expected = [NODE_HASHES[level][index] for level, index in COMPACT_TREES[size]]
    assert tree.to_nodes() == expected
    assert list(root_nodes(size)) == COMPACT_TREES[size]


def test_append_hands_out_every_published_node_once() -> None:
    tree = CompactRange()
    created: list[tuple[int, int, bytes]] = []
    for leaf in VECTOR_LEAVES:
        created.extend(tree.append(leaf))
    expected = {
        (level, index): h
        for level, row in enumerate(NODE_HASHES)
        for index, h in enumerate(row)
    }
    assert len(created) == len(expected)
    assert {(level, index): h for level, index, h in created} == expected
    assert VECTOR_STORE.nodes == expected


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_PROOFS_1_BASED)
def test_published_inclusion_proofs(leaf: int, size: int, proof: list[bytes]) -> None:
    index = leaf - 1
    root = ROOT_HASHES[size]
    leaf_h = VECTOR_LEAVES[index]
    assert inclusion_path(index, VECTOR_LEAVES[:size]) == proof
    assert inclusion_proof(index, size, bounded(VECTOR_STORE, size)) == proof
    assert verify_inclusion(leaf_h, index, size, proof, root)
    for desc, i, n, p, r, h in corrupt_inclusion(index, size, proof, root, leaf_h):
        assert not verify_inclusion(h, i, n, p, r), desc


@pytest.mark.parametrize(("index", "size", "proof"), REF_INCLUSION_PROOFS)
def test_reference_inclusion_proofs(index: int, size: int, proof: list[bytes]) -> None:
    assert inclusion_path(index, VECTOR_LEAVES[:size]) == proof
    assert inclusion_proof(index, size, bounded(VECTOR_STORE, size)) == proof
    assert verify_inclusion(VECTOR_LEAVES[index], index, size, proof, ROOT_HASHES[size])


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_PROOFS)
def test_published_consistency_proofs(
    size1: int, size2: int, proof: list[bytes]
) -> None:
    root1, root2 = ROOT_HASHES[size1], ROOT_HASHES[size2]
    assert consistency_path(size1, VECTOR_LEAVES[:size2]) == proof
    assert consistency_proof(size1, size2, bounded(VECTOR_STORE, size2)) == proof
    assert verify_consistency(size1, size2, root1, root2, proof)
    if not proof:
        return  # upstream corrupts only non-trivial proofs
    for desc, s1, s2, r1, r2, p in corrupt_consistency(
        size1, size2, root1, root2, proof
    ):
        assert not verify_consistency(s1, s2, r1, r2, p), desc


@pytest.mark.parametrize(
    "probe", json.loads(UPSTREAM_INCLUSION_PROBES), ids=lambda probe: probe[0]
)
def test_upstream_inclusion_edge_cases(probe: list[object]) -> None:
    desc, index, size, root, leaf, proof, want_err = probe
    assert isinstance(index, int) and isinstance(size, int)
    assert isinstance(root, str) and isinstance(leaf, str)
    assert isinstance(proof, list)
    ok = verify_inclusion(b64(leaf), index, size, [b64(p) for p in proof], b64(root))
    assert ok is (not want_err), desc


@pytest.mark.parametrize(
    "probe", json.loads(UPSTREAM_CONSISTENCY_PROBES), ids=lambda probe: probe[0]
)
def test_upstream_consistency_edge_cases(probe: list[object]) -> None:
    desc, size1, size2, root1, root2, proof, want_err = probe
    assert isinstance(size1, int) and isinstance(size2, int)
    assert isinstance(root1, str) and isinstance(root2, str)
    assert isinstance(proof, list)
    ok = verify_consistency(
        size1, size2, b64(root1), b64(root2), [b64(p) for p in proof]
    )
    want_ok = not want_err and desc not in STRICTER_THAN_UPSTREAM
    assert ok is want_ok, desc


@pytest.mark.parametrize(("size", "index", "plan"), INCLUSION_PLANS)
def test_inclusion_plans_match_upstream(size: int, index: int, plan: GoPlan) -> None:
    assert inclusion_proof_nodes(index, size) == go_plan(plan)


@pytest.mark.parametrize(("size1", "size2", "plan"), CONSISTENCY_PLANS)
def test_consistency_plans_match_upstream(size1: int, size2: int, plan: GoPlan) -> None:
    assert consistency_proof_nodes(size1, size2) == go_plan(plan)


@pytest.mark.parametrize(("size", "index"), INCLUSION_PLAN_ERRORS)
def test_inclusion_plan_refuses_bad_params(size: int, index: int) -> None:
    with pytest.raises(ValueError):
        inclusion_proof_nodes(index, size)
    with pytest.raises(ValueError):
        inclusion_proof(index, size, STORE.read)


@pytest.mark.parametrize(("size1", "size2"), CONSISTENCY_PLAN_ERRORS)
def test_consistency_plan_refuses_bad_params(size1: int, size2: int) -> None:
    with pytest.raises(ValueError):
        consistency_proof_nodes(size1, size2)
    with pytest.raises(ValueError):
        consistency_proof(size1, size2, STORE.read)


# ============================================================================
# Verifier pitfalls (on a 21-leaf tree, against proofs that are otherwise good)
# ============================================================================

N = 21
ROOTS = [root_from_leaves(LEAVES[:size]) for size in range(N + 1)]


def good_inclusion(index: int, size: int) -> list[bytes]:
    proof = inclusion_proof(index, size, STORE.read)
    assert verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])
    return proof


def good_consistency(size1: int, size2: int) -> list[bytes]:
    proof = consistency_proof(size1, size2, STORE.read)
    assert verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], proof)
    return proof


@pytest.mark.parametrize("size", [1, 2, 5, 8, N])
def test_inclusion_index_at_or_beyond_size_fails(size: int) -> None:
    for index in (size, size + 1, size * 2):
        # Whatever proof: the one for the last leaf, or none at all.
        for proof in (good_inclusion(size - 1, size), []):
            leaf = LEAVES[size - 1]
            assert not verify_inclusion(leaf, index, size, proof, ROOTS[size])
    assert not verify_inclusion(LEAVES[0], -1, size, [], ROOTS[size])
    assert not verify_inclusion(LEAVES[0], 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(LEAVES[0], 0, -1, [], EMPTY_ROOT)


@pytest.mark.parametrize(("index", "size"), [(0, 2), (5, 8), (6, 7), (13, N), (20, N)])
def test_inclusion_proof_length_and_shape_pitfalls(index: int, size: int) -> None:
    proof = good_inclusion(index, size)
    leaf, root = LEAVES[index], ROOTS[size]
    bad: dict[str, list[bytes]] = {
        "extra element appended": [*proof, proof[-1]],
        "extra root appended": [*proof, root],
        "extra element prepended": [proof[0], *proof],
        "truncated": proof[:-1],
        "first element dropped": proof[1:],
        "empty": [],
        "element of 31 bytes": [proof[0][:-1], *proof[1:]],
        "element of 33 bytes": [proof[0] + b"\x00", *proof[1:]],
        "empty element": [b"", *proof[1:]],
        "reversed": proof[::-1] if len(proof) > 1 else [root],
    }
    for desc, wrong in bad.items():
        assert not verify_inclusion(leaf, index, size, wrong, root), desc
    assert not verify_inclusion(leaf, index, size, proof, ROOTS[size - 1])
    assert not verify_inclusion(LEAVES[index ^ 1], index, size, proof, root)
    assert not verify_inclusion(leaf[:-1], index, size, proof, root)
    assert not verify_inclusion(leaf, index, size, proof, root[:-1])
    assert not verify_inclusion(leaf, index, size, proof, root + b"\x00")
    for other in (size - 1, size + 1, size * 2):
        if index < other <= N:
            assert not verify_inclusion(leaf, index, other, proof, ROOTS[other])
    not_bytes: Any = [p.hex() for p in proof]
    assert not verify_inclusion(leaf, index, size, not_bytes, root)
    junks: list[Any] = [None, 7, b"".join(proof), {p: 1 for p in proof}]
    for junk in junks:
        assert not verify_inclusion(leaf, index, size, junk, root)
    assert not verify_inclusion(leaf, True, size, proof, root)  # not an index
    mutable: Any = bytearray(leaf)
    assert not verify_inclusion(mutable, index, size, proof, root)


@pytest.mark.parametrize(("size1", "size2"), [(1, 2), (3, 7), (4, 8), (6, 7), (7, N)])
def test_consistency_pitfalls(size1: int, size2: int) -> None:
    proof = good_consistency(size1, size2)
    r1, r2 = ROOTS[size1], ROOTS[size2]
    # size1 > size2, with the proof or none.
    assert not verify_consistency(size2, size1, r2, r1, proof)
    assert not verify_consistency(size2, size1, r2, r1, [])
    # size1 == 0: nothing to prove, refused with or without a proof.
    assert not verify_consistency(0, size2, EMPTY_ROOT, r2, proof)
    assert not verify_consistency(0, size2, EMPTY_ROOT, r2, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(-1, size2, r1, r2, proof)
    # size1 == size2: only an empty proof with equal roots.
    assert verify_consistency(size2, size2, r2, r2, [])
    assert not verify_consistency(size2, size2, r2, r2, proof)
    assert not verify_consistency(size2, size2, r2, r2, [r2])
    assert not verify_consistency(size2, size2, r1, r2, [])
    # Length and shape.
    bad: dict[str, list[bytes]] = {
        "extra element appended": [*proof, proof[-1]],
        "extra root appended": [*proof, r2],
        "extra element prepended": [proof[0], *proof],
        "root1 prepended": [r1, *proof],
        "truncated": proof[:-1],
        "first element dropped": proof[1:],
        "empty": [],
        "element of 31 bytes": [*proof[:-1], proof[-1][:-1]],
        "element of 33 bytes": [*proof[:-1], proof[-1] + b"\x00"],
        "empty element": [*proof[:-1], b""],
    }
    if len(proof) > 1:
        bad["reversed"] = proof[::-1]
    for desc, wrong in bad.items():
        assert not verify_consistency(size1, size2, r1, r2, wrong), desc
    # Wrong or swapped roots, roots of the wrong length.
    assert not verify_consistency(size1, size2, r2, r1, proof)
    assert not verify_consistency(size1, size2, r1, r1, proof)
    assert not verify_consistency(size1, size2, r1[:-1], r2, proof)
    assert not verify_consistency(size1, size2, r1, r2 + b"\x00", proof)
    # The proof made for another second (or first) size, against the real
    # checkpoint of that size. (Against the *same* root it can pass: see
    # test_a_root_does_not_commit_to_its_size.)
    for other in range(size1, N + 1):
        if other != size2:
            assert not verify_consistency(size1, other, r1, ROOTS[other], proof)
    for other in range(1, size2 + 1):
        if other != size1:
            assert not verify_consistency(other, size2, ROOTS[other], r2, proof)
    not_bytes: Any = [p.hex() for p in proof]
    assert not verify_consistency(size1, size2, r1, r2, not_bytes)
    junks: list[Any] = [None, 7, b"".join(proof), {p: 1 for p in proof}]
    for junk in junks:
        assert not verify_consistency(size1, size2, r1, r2, junk)


def test_a_root_does_not_commit_to_its_size() -> None:
    """Inherent to RFC 9162, not a verifier bug: the size-7 root, with the
    (3 -> 7) proof, also "verifies" as a size-5 tree, because the proofs for
    (3, 5) and (3, 7) have the same shape and the last element (the right
    subtree) is opaque. Likewise for inclusion. So a checkpoint must sign the
    size together with the root, and verifiers must take both from it."""
    proof = good_consistency(3, 7)
    assert verify_consistency(3, 5, ROOTS[3], ROOTS[7], proof)
    assert not verify_consistency(3, 5, ROOTS[3], ROOTS[5], proof)
    inclusion = good_inclusion(2, 7)
    assert verify_inclusion(LEAVES[2], 2, 5, inclusion, ROOTS[7])
    assert not verify_inclusion(LEAVES[2], 2, 5, inclusion, ROOTS[5])


@pytest.mark.parametrize("half", [1, 2, 4, 8])
def test_a_proof_one_level_too_long_fails_even_if_it_hashes_to_a_root(
    half: int,
) -> None:
    """RFC 9162 steps 2.1.3.2 (4a) and 2.1.4.2 (6a): once sn reaches 0 the
    proof must end. Here the surplus element makes the hash come out as the
    real root of twice the size, so only that step refuses it."""
    size = 2 * half
    for index in range(half, size):
        longer = good_inclusion(index, size)
        local = index - half
        assert not verify_inclusion(LEAVES[index], local, half, longer, ROOTS[size])
    # Consistency: (1 -> half) is the same proof as (half + 1 -> size) minus
    # the last element, so appending it reaches the size-2*half root.
    for size1 in range(half + 1, size):
        longer = good_consistency(size1, size)
        small = size1 - half
        if small < half:
            assert not verify_consistency(
                small, half, ROOTS[size1], ROOTS[size], longer
            )


def test_no_proof_takes_a_log_backwards() -> None:
    """size1 > size2 is refused up front: the RFC loop alone would accept,
    e.g., (3 -> 1) with the proof [root1] and root2 == root1, and many pairs
    of real roots with real proofs of other sizes. Tried exhaustively here."""
    n = 8
    assert not verify_consistency(3, 1, ROOTS[1], ROOTS[1], [ROOTS[1]])
    candidates = [[root] for root in ROOTS[1 : n + 1]]
    for size2 in range(1, n + 1):
        candidates += [good_consistency(s, size2) for s in range(1, size2)]
        candidates += [good_inclusion(i, size2) for i in range(size2)]
    for size1 in range(2, n + 1):
        for size2 in range(1, size1):
            for proof in candidates:
                for root1 in ROOTS[1 : n + 1]:
                    for root2 in ROOTS[1 : n + 1]:
                        assert not verify_consistency(
                            size1, size2, root1, root2, proof
                        ), (size1, size2)


def test_inclusion_proof_for_another_size_fails() -> None:
    for size in range(2, N + 1):
        for index in range(size):
            proof = inclusion_proof(index, size, STORE.read)
            for other in range(index + 1, N + 1):
                if other != size:
                    root = ROOTS[other]
                    assert not verify_inclusion(
                        LEAVES[index], index, other, proof, root
                    )


# ============================================================================
# Properties
# ============================================================================

EDGE_SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65]
EDGE_SIZES += [127, 128, 129, 255, 256, 257, MAX_SIZE]
sizes = st.one_of(st.integers(1, MAX_SIZE), st.sampled_from(EDGE_SIZES))


@st.composite
def size_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(sizes)
    index = draw(st.one_of(st.integers(0, size - 1), st.sampled_from([0, size - 1])))
    return size, index


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    size2 = draw(sizes)
    size1 = draw(st.one_of(st.integers(1, size2), st.sampled_from([1, size2])))
    return size1, size2


def every_flip(values: Sequence[bytes], mask: int) -> list[list[bytes]]:
    """``values`` with one byte of one element XORed with ``mask``, every way."""
    out = []
    for i, value in enumerate(values):
        for position in range(len(value)):
            wrong = list(values)
            wrong[i] = flipped(value, position, mask)
            out.append(wrong)
    return out


@settings(max_examples=150, deadline=None)
@given(size_and_index(), st.integers(1, 255))
def test_inclusion_proofs_match_reference_and_resist_flips(
    case: tuple[int, int], mask: int
) -> None:
    size, index = case
    proof = inclusion_proof(index, size, bounded(STORE, size))
    assert proof == inclusion_path(index, LEAVES[:size])
    assert proof == resolve(inclusion_proof_nodes(index, size), STORE.read)
    root = root_at(size, bounded(STORE, size))
    assert root == root_from_leaves(LEAVES[:size])
    leaf = LEAVES[index]
    assert verify_inclusion(leaf, index, size, proof, root)
    for wrong in every_flip(proof, mask):
        assert not verify_inclusion(leaf, index, size, wrong, root)
    for [wrong_root] in every_flip([root], mask):
        assert not verify_inclusion(leaf, index, size, proof, wrong_root)
    for [wrong_leaf] in every_flip([leaf], mask):
        assert not verify_inclusion(wrong_leaf, index, size, proof, root)


@settings(max_examples=150, deadline=None)
@given(two_sizes(), st.integers(1, 255))
def test_consistency_proofs_match_reference_and_resist_flips(
    case: tuple[int, int], mask: int
) -> None:
    size1, size2 = case
    proof = consistency_proof(size1, size2, bounded(STORE, size2))
    assert proof == consistency_path(size1, LEAVES[:size2])
    assert proof == resolve(consistency_proof_nodes(size1, size2), STORE.read)
    root1 = root_at(size1, bounded(STORE, size1))
    root2 = root_at(size2, bounded(STORE, size2))
    assert verify_consistency(size1, size2, root1, root2, proof)
    for wrong in every_flip(proof, mask):
        assert not verify_consistency(size1, size2, root1, root2, wrong)
    for [wrong_root] in every_flip([root1], mask):
        assert not verify_consistency(size1, size2, wrong_root, root2, proof)
    for [wrong_root] in every_flip([root2], mask):
        assert not verify_consistency(size1, size2, root1, wrong_root, proof)


def test_every_proof_of_a_small_log_verifies() -> None:
    """Exhaustively, up to 70 leaves: every inclusion and every pair."""
    n = 70
    roots = [root_at(size, STORE.read) for size in range(n + 1)]
    for size2 in range(1, n + 1):
        assert roots[size2] == root_from_leaves(LEAVES[:size2])
        for index in range(size2):
            proof = inclusion_proof(index, size2, bounded(STORE, size2))
            assert verify_inclusion(LEAVES[index], index, size2, proof, roots[size2])
        for size1 in range(1, size2 + 1):
            proof = consistency_proof(size1, size2, bounded(STORE, size2))
            assert verify_consistency(size1, size2, roots[size1], roots[size2], proof)
            if size1 < size2:
                assert not verify_consistency(
                    size1, size2, roots[size1], roots[size2 - 1], proof
                )


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2**64), st.data())
def test_plans_are_logarithmic_and_only_name_complete_nodes(
    size: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, size - 1))
    size1 = data.draw(st.integers(1, size))
    bound = 2 * size.bit_length() + 1
    for plan in (
        inclusion_proof_nodes(index, size),
        consistency_proof_nodes(size1, size),
    ):
        ids = [node for group in plan for node in group]
        assert len(ids) <= bound
        assert all((i + 1) << level <= size for level, i in ids)
        assert sum(len(group) > 1 for group in plan) <= 1  # one right-edge group
    # Length of an inclusion proof, as transparency-dev's decompInclProof.
    inner = (index ^ (size - 1)).bit_length()
    assert (
        len(inclusion_proof_nodes(index, size)) == inner + (index >> inner).bit_count()
    )
    assert len(root_nodes(size)) == size.bit_count()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, MAX_SIZE))
def test_compact_range_root_matches_reference_at_every_prefix(size: int) -> None:
    tree = CompactRange()
    assert tree.root() == EMPTY_ROOT
    for n, leaf in enumerate(LEAVES[:size], start=1):
        created = tree.append(leaf)
        assert created[0] == (0, n - 1, leaf)
        assert all(STORE.nodes[(level, i)] == h for level, i, h in created)
        assert len(created) == 1 + ((n - 1) ^ n).bit_length() - 1
        assert tree.size == n
        assert tree.root() == root_from_leaves(LEAVES[:n])
        assert tree.to_nodes() == [STORE.read(*node) for node in root_nodes(n)]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, MAX_SIZE), st.data())
def test_compact_range_persists_and_continues_identically(
    size: int, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, size))
    straight = CompactRange()
    for leaf in LEAVES[:cut]:
        straight.append(leaf)
    saved = json.dumps([h.hex() for h in straight.to_nodes()])
    restored = CompactRange.from_nodes(
        cut, [bytes.fromhex(h) for h in json.loads(saved)]
    )
    assert restored.size == cut and restored.root() == straight.root()
    for leaf in LEAVES[cut:size]:
        assert restored.append(leaf) == straight.append(leaf)
        assert restored.to_nodes() == straight.to_nodes()
        assert restored.root() == straight.root()
    assert restored.size == straight.size == size
    assert restored.root() == root_at(size, STORE.read)


def test_compact_range_refuses_malformed_state() -> None:
    good = [LEAVES[0], LEAVES[1]]  # size 5 = 0b101 has two frontier hashes
    assert CompactRange.from_nodes(5, good).size == 5
    bad_inputs: list[tuple[int, list[bytes]]] = [
        (-1, []),
        (0, [LEAVES[0]]),
        (5, [LEAVES[0]]),
        (5, [*good, LEAVES[2]]),
        (4, good),
        (5, [LEAVES[0], LEAVES[1][:-1]]),
        (5, [LEAVES[0], LEAVES[1] + b"\x00"]),
    ]
    for size, hashes in bad_inputs:
        with pytest.raises(ValueError):
            CompactRange.from_nodes(size, hashes)
    tree = CompactRange()
    for wrong in (b"", LEAVES[0][:-1], LEAVES[0] + b"\x00"):
        with pytest.raises(ValueError):
            tree.append(wrong)
    assert tree.size == 0


def test_copy_is_independent() -> None:
    tree = CompactRange.from_nodes(3, [STORE.read(1, 0), STORE.read(0, 2)])
    twin = tree.copy()
    tree.append(LEAVES[3])
    assert (twin.size, tree.size) == (3, 4)
    assert twin.root() == root_at(3, STORE.read)
    assert tree.root() == root_at(4, STORE.read)


def test_node_reader_is_only_asked_for_what_it_has() -> None:
    store = MemoryNodeStore(LEAVES[:10])
    with pytest.raises(KeyError):
        root_at(11, store.read)
    with pytest.raises(KeyError):
        inclusion_proof(0, 11, store.read)
    assert root_at(10, store.read) == root_from_leaves(LEAVES[:10])


def test_combine_and_empty_tree() -> None:
    assert root_at(0, STORE.read) == EMPTY_ROOT
    assert root_from_leaves([]) == EMPTY_ROOT
    assert combine((), STORE.read) == EMPTY_ROOT
    assert root_nodes(0) == ()
    with pytest.raises(ValueError):
        inclusion_path(0, [])
    with pytest.raises(ValueError):
        consistency_path(0, LEAVES[:3])
    with pytest.raises(ValueError):
        consistency_path(4, LEAVES[:3])
    assert consistency_path(3, LEAVES[:3]) == []
