"""Regenerate ``docs/report.png``, ``docs/timeline.png`` and ``docs/rulebook.png``,
and their Japanese editions ``docs/report-ja.png``, ``docs/timeline-ja.png``
and ``docs/rulebook-ja.png`` (``make screenshots``).

Builds a demo store through the real CLI (a simulated agency of 600 seekers
and one hand-made account with a Japanese name, applications, a last-minute
email decline, an unreachable spell and a withdrawal recorded live after a
backdated past), writes both pages with ``seekers``, and photographs them in
headless Chromium (Debian's, offline, see ``tests/support/browser.py``).
The rulebook is ``seekers policies --diagram``: its SVG must parse, and its
PNG is Graphviz's own (``dot -Tpng``) rendering of the same graph. The
Japanese pages (``--lang ja``) are photographed only when Chromium drew every
character of them with a real glyph (``tests/support/fonts.py``).

    python -m tests.support.screenshots [FOLDER]    # default: docs
"""

from __future__ import annotations

import base64
import io
import os
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from tests.helpers import run_cli
from tests.support.browser import chromium, visit
from tests.support.fonts import missing_glyphs


def _run(args: list[str], db_url: str, actor: str = "advisor.kato") -> str:
    result = run_cli(args, db_url=db_url, actor=actor)
    if result.code != 0:
        raise SystemExit(
            f"seekers {' '.join(args)}: exit {result.code}: {result.stderr}"
        )
    return result.stdout


def demo_store(db_url: str) -> str:
    """The demo agency; returns the id of the account the timeline shows."""
    _run(["simulate", "--seekers", "600", "--seed", "7", "--years", "4"], db_url)
    start = date.today() - timedelta(days=62)

    def day(n: int, time: str = "") -> str:
        moment = (start + timedelta(days=n)).isoformat()
        return f"{moment}T{time}" if time else moment

    import json

    seeker = json.loads(
        _run(
            [
                "--json",
                "register",
                "--name",
                "山田 太郎",
                "--name-kana",
                "ヤマダ タロウ",
                "--email",
                "taro.yamada@example.jp",
                "--birth-date",
                "1988-04-02",
                "--policy",
                "hellowork",
                "--channel",
                "counter",
                "--at",
                day(0, "10:00"),
            ],
            db_url,
            actor="counter.suzuki",
        )
    )["id"]
    steps: list[tuple[list[str], str]] = [
        (["apply", seeker, "--job", "倉庫スタッフ", "--route", "self",
          "--at", day(3, "09:30")], "counter.suzuki"),
        (["apply", seeker, "--job", "Accountant", "--route", "agency",
          "--at", day(5, "14:00")], "advisor.kato"),
        (["schedule-interview", seeker, "A2", "--on", day(14, "10:00"),
          "--at", day(6, "11:00")], "advisor.kato"),
        (["decline-interview", seeker, "A2", "--channel", "email",
          "--at", day(14, "02:10")], "advisor.kato"),
        (["contact", seeker, "--channel", "phone", "--outcome", "no_answer",
          "--at", day(20, "15:00")], "advisor.kato"),
        (["mark-unreachable", seeker, "--at", day(22, "09:00")], "advisor.kato"),
        (["contact", seeker, "--channel", "phone", "--outcome", "no_answer",
          "--at", day(27, "16:00")], "advisor.kato"),
        (["contact", seeker, "--channel", "email", "--outcome", "reached",
          "--at", day(31, "10:30")], "advisor.kato"),
        (["schedule-interview", seeker, "A1", "--on", day(50, "13:00"), "--final",
          "--at", day(36, "10:00")], "advisor.kato"),
        (["close-application", seeker, "A1", "--outcome", "rejected",
          "--at", day(52, "17:00")], "advisor.kato"),
        (["request-withdrawal", seeker, "--channel", "counter", "--reason",
          "other_agency"], "counter.suzuki"),
        (["withdraw", seeker], "counter.suzuki"),
    ]  # fmt: skip
    for args, actor in steps:
        _run(args, db_url, actor=actor)
    return str(seeker)


def _optimised(png: bytes) -> bytes:
    """The screenshot with a 256-colour palette: a tenth of the size, no
    visible loss on flat back-office colours."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        palette = image.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
        out = io.BytesIO()
        palette.save(out, format="PNG", optimize=True)
        return out.getvalue()


def main(argv: list[str]) -> int:
    folder = Path(argv[0] if argv else "docs")
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault(
        "SEEKERS_MASTER_KEY", base64.b64encode(os.urandom(32)).decode()
    )
    with tempfile.TemporaryDirectory(prefix="seekers-screens-") as work:
        db_url = f"sqlite:///{Path(work) / 'demo.db'}"
        seeker = demo_store(db_url)
        shots: list[tuple[Path, str]] = []
        for lang, suffix in (("en", ""), ("ja", "-ja")):
            report = Path(work) / f"report{suffix}.html"
            timeline = Path(work) / f"timeline{suffix}.html"
            language = ["--lang", lang]
            _run([*language, "report", "html", "--output", str(report)], db_url)
            history = [*language, "history", seeker, "--format", "html"]
            _run([*history, "--output", str(timeline)], db_url)
            shots.append((report, f"report{suffix}.png"))
            shots.append((timeline, f"timeline{suffix}.png"))
        with chromium() as browser:
            for page_file, name in shots:
                with visit(browser, page_file, width=1280, height=900) as seen:
                    problems = seen.console_errors + seen.page_errors + seen.blocked
                    if problems:
                        raise SystemExit(f"{page_file.name}: {problems}")
                    missing, _checked = missing_glyphs(seen.page)
                    if missing:
                        raise SystemExit(f"{page_file.name}: missing glyphs {missing}")
                    shot = seen.page.screenshot(full_page=True, type="png")
                target = folder / name
                target.write_bytes(_optimised(shot))
                print(f"{target} ({target.stat().st_size:,} bytes)")
        rulebook(folder, Path(work), db_url)
        rulebook(folder, Path(work), db_url, lang="ja")
    return 0


STATES_DRAWN = {
    "en": ("Withdrawal requested", "Interview scheduled"),
    "ja": ("退会申請中", "面接予定"),
}
"""Two state names the rulebook's SVG must hold, in each language."""


def rulebook(folder: Path, work: Path, db_url: str, *, lang: str = "en") -> None:
    """``docs/rulebook.png`` (``rulebook-ja.png`` in Japanese): the lifecycles
    as ``seekers policies --diagram`` draws them without a policy, checked as
    SVG first (every state named)."""
    import xml.etree.ElementTree as ElementTree

    suffix = "" if lang == "en" else f"-{lang}"
    language = ["--lang", lang]
    svg = work / f"rulebook{suffix}.svg"
    _run([*language, "policies", "--diagram", "svg", "--output", str(svg)], db_url)
    text = " ".join(ElementTree.parse(svg).getroot().itertext())
    if not all(state in text for state in STATES_DRAWN[lang]):
        raise SystemExit(f"{svg}: the states are missing from the drawing")
    png = work / f"rulebook{suffix}.png"
    _run([*language, "policies", "--diagram", "png", "--output", str(png)], db_url)
    target = folder / f"rulebook{suffix}.png"
    target.write_bytes(_optimised(png.read_bytes()))
    print(f"{target} ({target.stat().st_size:,} bytes)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
