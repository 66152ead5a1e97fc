"""The pages' libraries load only when a page is made.

matplotlib costs about 0.7 s to import and Jinja2 is not needed by any
other command: ``seekers --help``, ``report NAME`` and ``history`` in text
or JSON must not pay for them.
"""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import cli.main, cli.commands.reports, cli.commands.reading
heavy = sorted(
    name for name in ("matplotlib", "numpy", "jinja2", "cli.pages.charts")
    if name in sys.modules
)
print(",".join(heavy))
"""


def test_command_modules_do_not_import_the_page_libraries() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"imported at start-up: {result.stdout}"
