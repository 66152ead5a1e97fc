"""The pictures in Japanese (issue #21): the rulebook diagrams, the report
page, the timeline and their charts under ``--lang ja``.

The pages are loaded in Debian's headless Chromium, offline, as the page
tests load them, and Chromium itself is asked which fonts it drew each
element's text with; fontconfig and fontTools say whether those fonts have
every character (``tests/support/fonts.py``). The same check run in a
Chromium that cannot see the Japanese font must find the tofu, or it proves
nothing: one test does exactly that.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from domain import glossary, i18n
from domain.rules import ACCOUNT, APPLICATION, Rules
from tests.cli.test_diagrams import expected
from tests.helpers import CliResult, run_cli
from tests.pages.support import assert_clean_visit, ok, ok_json, write_page
from tests.pages.test_report_page import build_store
from tests.pages.test_timeline_page import active_account, purged_account
from tests.support.browser import launch, visit
from tests.support.fonts import JAPANESE_FONT_FILE, hidden_cjk_fonts, missing_glyphs

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "cli" / "pages" / "templates"
PO = i18n.LOCALE_DIR / "ja" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"

ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
IDS = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # account ids
    r"|\bSeeker Ledger\b"  # the product's name
)
HEADINGS = "h1, h2, h3, th, figcaption, dt, nav.toc a, .headline .label, .legend span"
"""Every heading, table header, caption, label and legend of a page."""

STATE_KINDS: dict[str, str] = {
    ACCOUNT.subject: "account state",
    APPLICATION.subject: "application state",
}


@pytest.fixture(scope="module", autouse=True)
def japanese_font() -> None:
    """The pages are drawn with Noto CJK (``make fonts``); the browser and
    its Playwright are the session's (``tests/conftest.py``: one Playwright
    per process)."""
    if not JAPANESE_FONT_FILE.exists():
        pytest.fail(f"{JAPANESE_FONT_FILE} is missing: run `make fonts`", pytrace=False)


@pytest.fixture
def japanese() -> Iterator[None]:
    """The glossary's words in Japanese, for the expected labels."""
    i18n.activate("ja")
    try:
        yield
    finally:
        i18n.activate("en")


def ja(tmp_path: Path, *args: str) -> CliResult:
    return run_cli(["--lang", "ja", *args], db_url=f"sqlite:///{tmp_path}/unused.db")


def english_words(text: str) -> list[str]:
    """The English words of ``text``, ids and the product's name aside."""
    return ENGLISH_WORD.findall(IDS.sub("", text))


def headings_in_english(page: Page) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        HEADINGS, "(nodes) => nodes.map((n) => n.textContent.replace(/\\s+/g, ' '))"
    )
    assert texts, "no headings found"
    return [text for text in texts if english_words(text)]


def svg_texts(page: Page, selector: str) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        f"{selector} text",
        "(nodes) => nodes.map((n) => [...n.childNodes]"
        ".filter((c) => c.nodeType === 3).map((c) => c.textContent).join('').trim())"
        ".filter((t) => t)",
    )
    return texts


def assert_drawn_in_japanese(page: Page, *, at_least: int) -> None:
    """``lang="ja"``; every character of the page drawn with a real glyph;
    no heading, header, caption or legend left in English."""
    assert page.evaluate("document.documentElement.lang") == "ja"
    missing, checked = missing_glyphs(page)
    assert missing == [], missing[:10]
    assert checked >= at_least, f"only {checked} elements with Japanese text"
    assert headings_in_english(page) == []


# ---------------------------------------------------------------------------
# The rulebook diagrams


def mermaid_states(text: str) -> dict[str, str]:
    return dict(
        (ident, name)
        for name, ident in re.findall(r'^\s*state "([^"]*)" as (\S+)', text, re.M)
    )


def test_mermaid_in_japanese_names_states_and_commands_with_ascii_ids(
    tmp_path: Path, japanese: None
) -> None:
    result = ja(tmp_path, "policies", "--diagram", "mermaid", "--policy", "workport")
    assert result.code == 0, result.stderr
    text = result.stdout
    assert text.startswith("stateDiagram-v2\n")
    states = mermaid_states(text)
    rules: Rules
    for rules in (ACCOUNT, APPLICATION):
        kind = STATE_KINDS[rules.subject]
        for state in rules.states:
            assert states[state] == glossary.label(kind, state), state
    assert states["account"] == "アカウント" and states["application"] == "応募"
    arrows = set()
    inside = set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("%%") or line.startswith("state ") or line in "{}":
            continue
        if match := re.match(r"^(\S+) --> (\S+)(?: : (.*))?$", line):
            source, target, label = match.groups()
            assert source.isascii() and target.isascii(), line
            if label:
                arrows.add((source, target, label))
        elif match := re.match(r"^(\S+) : (.*)$", line):
            assert match.group(1).isascii(), line
            inside.add((match.group(1), match.group(2)))
    from domain.policy import PRESETS

    want_arrows, want_inside = expected(PRESETS["workport"])

    def shown(command: str, guards: tuple[str, ...]) -> str:
        name = glossary.label("command", command)
        named = "、".join(glossary.label("guard", guard) for guard in guards)
        return name + (f" [{named}]" if guards else "")

    assert arrows == {(s, t, shown(c, g)) for s, t, c, g in want_arrows}
    assert {(state, words.split(" [")[0]) for state, words in inside} == {
        (state, glossary.label("command", command)) for state, command in want_inside
    }
    assert "%% ワークポートの規定：" in text


def test_dot_in_japanese_uses_the_japanese_font_and_graphviz_draws_it(
    tmp_path: Path, japanese: None
) -> None:
    result = ja(tmp_path, "policies", "--diagram", "dot")
    assert result.code == 0, result.stderr
    source = result.stdout
    assert 'fontname="Noto Sans CJK JP"' in source
    assert "Helvetica" not in source
    drawn = subprocess.run(
        ["dot", "-Tsvg"], input=source.encode(), capture_output=True, check=False
    )
    assert drawn.returncode == 0, drawn.stderr.decode()
    text = " ".join(ElementTree.fromstring(drawn.stdout).itertext())
    for rules in (ACCOUNT, APPLICATION):
        kind = STATE_KINDS[rules.subject]
        for state in rules.states:
            assert glossary.label(kind, state) in text, state
    for command in ("request-withdrawal", "withdraw", "reinstate", "apply"):
        assert glossary.label("command", command) in text, command
    assert "Seeker Ledger ルールブック" in text


def test_svg_and_png_in_japanese(tmp_path: Path, japanese: None) -> None:
    svg = ja(tmp_path, "policies", "--diagram", "svg", "--policy", "hellowork")
    assert svg.code == 0, svg.stderr
    root = ElementTree.fromstring(svg.stdout.encode())
    text = " ".join(root.itertext())
    assert "退会申請中" in text and "面接予定" in text
    assert "ハローワークの規定" in svg.stdout  # the header comment
    target = tmp_path / "rulebook-ja.png"
    png = ja(tmp_path, "policies", "--diagram", "png", "--output", str(target))
    assert png.code == 0, png.stderr
    assert target.read_bytes().startswith(b"\x89PNG")


def test_the_diagrams_stay_english_without_lang(tmp_path: Path) -> None:
    result = run_cli(
        ["policies", "--diagram", "dot"], db_url=f"sqlite:///{tmp_path}/unused.db"
    )
    assert result.code == 0, result.stderr
    assert "fontname=Helvetica" in result.stdout
    assert "Withdrawal requested" in result.stdout
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", result.stdout)


# ---------------------------------------------------------------------------
# The report page and the timeline in Chromium


def test_the_report_page_in_japanese(
    browser: Browser, db_url: str, tmp_path: Path
) -> None:
    build_store(db_url)
    target = tmp_path / "report-ja.html"
    html = write_page(["--lang", "ja", "report", "html"], db_url, target)
    assert html.startswith('<!DOCTYPE html>\n<html lang="ja">')
    with visit(browser, target) as seen:
        assert_clean_visit(seen)
        assert_drawn_in_japanese(seen.page, at_least=100)
        charts = seen.page.locator("svg.chart-svg").count()
        assert charts >= 8
        texts = svg_texts(seen.page, "svg.chart-svg")
        assert texts, "the charts have no text"
        english = [t for t in texts if english_words(t)]
        assert english == []
        assert any("年" in t and "月" in t for t in texts)  # the month axis
        assert "ハローワーク" in texts  # a policy on the status chart


def test_the_timeline_in_japanese(
    browser: Browser, db_url: str, tmp_path: Path
) -> None:
    seeker = active_account(db_url)
    target = tmp_path / "timeline-ja.html"
    html = write_page(
        ["--lang", "ja", "history", seeker, "--format", "html"], db_url, target
    )
    assert html.startswith('<!DOCTYPE html>\n<html lang="ja">')
    with visit(browser, target) as seen:
        assert_clean_visit(seen)
        assert_drawn_in_japanese(seen.page, at_least=40)
        texts = svg_texts(seen.page, "svg.timeline-svg")
        # lanes are named by application id and job title: data, not words
        words = [t for t in texts if not re.match(r"A\d+ ", t)]
        assert [t for t in words if english_words(t)] == []
        assert "アカウントの状態" in words
        assert any(t.startswith("現在 ") and "年" in t for t in words)
        table_types = seen.page.eval_on_selector_all(
            "table.events tbody td:nth-child(5)", "(n) => n.map((c) => c.textContent)"
        )
        assert table_types[0] == "求職登録"


def test_a_purged_timeline_in_japanese_says_erased(
    browser: Browser, db_url: str, tmp_path: Path
) -> None:
    seeker = purged_account(db_url)
    target = tmp_path / "purged-ja.html"
    write_page(["--lang", "ja", "history", seeker, "--format", "html"], db_url, target)
    with visit(browser, target) as seen:
        assert_drawn_in_japanese(seen.page, at_least=20)
        values = seen.page.eval_on_selector_all(
            "dl[data-personal] dd", "(n) => n.map((d) => d.textContent)"
        )
        assert set(values) == {"削除済み"}


def test_the_glyph_check_finds_tofu_when_the_font_is_hidden(
    playwright: Playwright, db_url: str, tmp_path: Path
) -> None:
    """The same page in a Chromium whose fontconfig sees no CJK font: every
    Japanese heading is reported as drawn with missing glyphs."""
    seeker = active_account(db_url)
    target = tmp_path / "timeline-ja.html"
    write_page(["--lang", "ja", "history", seeker, "--format", "html"], db_url, target)
    env = hidden_cjk_fonts(tmp_path / "fontconfig")
    hidden = launch(playwright, env)
    try:
        with visit(hidden, target) as seen:
            missing, checked = missing_glyphs(
                seen.page, fontconfig_file=env["FONTCONFIG_FILE"]
            )
    finally:
        hidden.close()
    assert checked >= 40
    tags = {m.tag for m in missing}
    assert {"h1", "h2", "th", "dt"} <= tags, tags
    h1 = next(m for m in missing if m.tag == "h1")
    assert "履" in h1.characters
    assert all("CJK" not in font for m in missing for font in m.fonts)


def test_english_pages_stay_english(db_url: str, tmp_path: Path) -> None:
    seeker = active_account(db_url)
    report = ok(["report", "html"], db_url).stdout
    timeline = ok(["history", seeker, "--format", "html"], db_url).stdout
    for page in (report, timeline):
        assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "<h2>Accounts by status</h2>" in report
    assert "<h2>Timeline</h2>" in timeline
    kana = re.compile(r"[\u3040-\u30ff]")
    # the only Japanese on the English timeline is the seeker's data
    assert kana.findall(report) == []
    events = ok_json(["history", seeker], db_url)["events"]
    assert all(e["type"] in timeline for e in events)


# ---------------------------------------------------------------------------
# The catalog and the font, where test_catalog and a fresh install can't see


def test_every_message_of_the_page_templates_is_translated() -> None:
    """``tests/unit/test_catalog.py`` extracts from Python only; the page
    templates call ``_("…")`` too."""
    with PO.open("rb") as source:
        catalog = read_po(source, locale="ja", domain=i18n.DOMAIN)
    found: set[str] = set()
    for template in sorted(TEMPLATES.glob("*.j2")):
        with template.open("rb") as source:
            for _line, _function, message, _comments in babel_extract(
                source, ("_",), [], {}
            ):
                assert isinstance(message, str), (template.name, message)
                found.add(message)
    assert "Time zone" in found and "Occurred" in found
    untranslated = sorted(
        m for m in found if (entry := catalog.get(m)) is None or not entry.string
    )
    assert untranslated == []


STALE_CACHE_PROBE = """
import json, sys
from pathlib import Path
from domain.i18n import activate
activate("ja")
from cli.pages import charts
svg = charts.bars(
    "probe", ["2025年1月", "2025年2月"],
    [charts.Series("転職先が決まった", [1, 2], "#1f4e79")],
    label="退会", value_label="退会数",
)
from matplotlib import font_manager
found = font_manager.findfont(
    font_manager.FontProperties(family=charts.JAPANESE_FONT),
    fallback_to_default=False,
)
print(json.dumps({"found": found, "svg": "転職先が決まった" in svg}))
"""


def test_matplotlib_finds_the_japanese_font_even_with_a_stale_font_cache(
    tmp_path: Path,
) -> None:
    """matplotlib caches its font list the first time it runs; a cache made
    before ``make fonts`` installed Noto CJK lacks it. A Japanese chart adds
    the font by file, so its labels are measured with real glyphs."""
    config = tmp_path / "mpl"
    config.mkdir()
    warm = subprocess.run(
        [sys.executable, "-c", "import matplotlib.font_manager"],
        env={"MPLCONFIGDIR": str(config), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert warm.returncode == 0, warm.stderr
    (cache,) = config.glob("fontlist-*.json")
    fonts = json.loads(cache.read_text())
    fonts["ttflist"] = [f for f in fonts["ttflist"] if "CJK" not in f["name"]]
    cache.write_text(json.dumps(fonts))
    probe = subprocess.run(
        [sys.executable, "-c", STALE_CACHE_PROBE],
        env={"MPLCONFIGDIR": str(config), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    result = json.loads(probe.stdout)
    assert result == {"found": str(JAPANESE_FONT_FILE), "svg": True}
