"""A progress line for long projection work: count, rate and ETA on stderr.

Shown only on a terminal and never with ``--json``, so scripts and pipes
get clean output.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from types import TracebackType

import click

from domain.i18n import _


class ProgressLine:
    def __init__(self, label: str, total: int, *, enabled: bool) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.enabled = enabled and sys.stderr.isatty()
        self.started = time.monotonic()
        self._last_draw = 0.0

    def __call__(self, processed: int) -> None:
        self.done += processed
        now = time.monotonic()
        if self.enabled and (now - self._last_draw > 0.1 or self.done >= self.total):
            self._last_draw = now
            self._draw(now)

    def _sentence(self) -> str:
        """The line in the chosen language, its counts as ``{done}/{total}``."""
        return _("{label} [{bar}] {done}/{total} events {rate} ev/s ETA {left}")

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        fraction = min(self.done / self.total, 1.0)
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        line = self._sentence().format(
            label=self.label,
            bar=f"{'#' * int(fraction * 30):<30}",
            done=f"{self.done:,}",
            total=f"{self.total:,}",
            rate=f"{rate:,.0f}",
            left=timedelta(seconds=int(left)),
        )
        click.echo(f"\r{line}", err=True, nl=False)

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.enabled and self.done:
            click.echo(err=True)
