"""Rebuilding projections blue-green, as Marten and Ecotone do.

An in-place rebuild (empty the tables, refill them) left every reader behind
the log until it was done: a ``list`` or a report then caught the tables up
itself, queued on the rebuild's lock, and took seconds instead of a fraction
of one. Here the live tables keep serving and keep following the log
(commands and catch-ups write them as ever) while the rebuild fills a
shadow: the same tables under other names (``schema.SHADOW``), with a
tracking table of their own, from the log's first event, one batch per
transaction under the *shadow's* writer lock only. Once a batch finds the
log's end, one transaction takes the live writer lock as well, projects
what was recorded meanwhile into the shadow and swaps it in under the live
names, dropping the old tables; readers see the old complete tables or the
new ones, never a part.

Interrupted (Ctrl-C, an error), the rebuild drops its shadow; killed, it
leaves the shadow, which ``projections status`` shows and the next rebuild
drops: a rebuild always starts from the first event. Resuming would save
at most one rebuild's time, and could mix the work of two versions of the
projections' code when the rebuild is the one that follows an upgrade.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from adapters.interrupts import let_go
from domain.errors import StorageError
from domain.i18n import _
from projections.changes import Cursor
from projections.views import LedgerView, SwapBusy

SWAP_ATTEMPTS = 20
"""Swaps that may give way to readers (``SwapBusy``) before the rebuild
gives up, its shadow dropped."""


class ProjectPage(Protocol):
    """``projections.runner.Projections.project_page``: the log's next page
    into ``views``, in the caller's transaction; the events read."""

    def __call__(
        self,
        views: Sequence[LedgerView],
        cursor: Cursor,
        raw: Any,
        *,
        batch_size: int,
        progress: Callable[[int], None] | None,
        counts: dict[str, int],
    ) -> int: ...


class BlueGreen:
    """One rebuild of the named projections, together: each event of the
    log read and decoded once for all of them."""

    def __init__(
        self,
        live: Sequence[LedgerView],
        project_page: ProjectPage,
        *,
        application_name: str,
        batch_size: int,
        progress: Callable[[int], None] | None,
        counts: dict[str, int],
    ) -> None:
        self.live = list(live)
        self.shadows = [view.shadow() for view in self.live]
        self.project_page = project_page
        self.application_name = application_name
        self.batch_size = batch_size
        self.progress = progress
        self.counts = counts
        counts.update(dict.fromkeys((view.projection_name for view in live), 0))

    def run(self) -> int:
        """Create the shadows, fill them, swap them in; the events processed
        (summed over the projections)."""
        for view in self.live:
            view.begin_rebuild()
        try:
            self._fill()
            for view in self.live:
                view.settle_rebuild()
            self._swap()
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt):
                let_go(error)  # a batch it cut short, rolled back first
            self._abandon()
            raise
        return sum(self.counts.values())

    def _fill(self) -> None:
        """Batches into the shadows, each a transaction holding only their
        writer lock, until one finds the log's end."""
        while True:
            with self.shadows[0].writing(also=self.shadows[1:]) as (cursor, raw):
                read = self._page(cursor, raw)
            if read < self.batch_size:
                return

    def _swap(self) -> None:
        """Swap the shadows in, in one transaction holding the live writer
        locks and the shadows': the events recorded since the last batch
        are projected into the shadows first. When more than a batch came
        meanwhile, that batch is kept and filling goes on outside the live
        lock; when readers hold the live tables too long (PostgreSQL), the
        swap gives way to them and comes back."""
        also = [*self.live[1:], *self.shadows]
        busy = 0
        while True:
            counted = dict(self.counts)
            try:
                with self.live[0].writing(also=also) as (cursor, raw):
                    if self._page(cursor, raw) < self.batch_size:
                        for view in self.live:
                            view.swap_in(raw, self.application_name)
                        return
            except SwapBusy:
                self.counts.update(counted)  # that page was rolled back
                busy += 1
                if busy == SWAP_ATTEMPTS:
                    raise StorageError(
                        _(
                            "the rebuild could not swap its tables in: readers "
                            "held the live tables each of {attempts} times; those "
                            "are as they were"
                        ).format(attempts=SWAP_ATTEMPTS)
                    ) from None
            self._fill()

    def _page(self, cursor: Cursor, raw: Any) -> int:
        return self.project_page(
            self.shadows,
            cursor,
            raw,
            batch_size=self.batch_size,
            progress=self.progress,
            counts=self.counts,
        )

    def _abandon(self) -> None:
        """Drop the shadows on the way out; the live tables were never
        touched. A failure here (the store gone) leaves them to the next
        rebuild, and must not hide the reason the rebuild stopped."""
        for view in self.live:
            with contextlib.suppress(Exception):
                view.abandon_rebuild()
