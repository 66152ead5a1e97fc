"""Ctrl-C in the middle of a transaction, wherever it lands.

Python delivers ``KeyboardInterrupt`` between any two bytecodes, also inside
``contextlib``'s own ``__enter__`` and ``__exit__``: after a generator-based
context manager (a transaction: ``LedgerView.writing``, the library's
``get_connection``) has reached its ``yield`` but before the ``with`` body
began, or after the body ended but before the generator was told. The
generator is then left suspended at its ``yield``, its transaction open and
its connection out of the pool, kept alive by the frames of the
interrupt's traceback. It is only finalized when those frames go, which
was after the command had closed its pool: the rollback and the return of
the connection then failed, and Python printed that failure as a traceback
on the way out (seen once in CI, after ``projections rebuild`` was
interrupted). Worse, until then its write lock blocks whatever the
interrupted command does to clean up (a rebuild drops its shadow).
"""

from __future__ import annotations

import traceback


def let_go(interrupt: BaseException) -> None:
    """Clear the frames the interrupt passed through, which is what keeps a
    suspended transaction alive: it is rolled back and its connection goes
    back to the pool now, while the pool is open. (Dropping the traceback
    is not enough: ``contextlib``'s ``__exit__`` holds it in an argument
    while it hands the interrupt on.) The interrupt still propagates; it
    only no longer says where it landed, which for Ctrl-C nobody needs."""
    traceback.clear_frames(interrupt.__traceback__)
    interrupt.__traceback__ = None
