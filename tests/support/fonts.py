"""Is every character of a page drawn with a real glyph? Asked of Chromium.

Chromium says, through the DevTools protocol (``CSS.getPlatformFontsForNode``),
which fonts it used for the text of each element; fontconfig says which file
each of those fonts is, and fontTools reads the file's character map. A
character no font used for its element has in its map is drawn as a
missing glyph (a tofu box): that is what ``missing_glyphs`` lists. It is the
browser's own choice that is checked, not the page's ``font-family``.

``hidden_cjk_fonts`` writes a fontconfig configuration that sees only the
fonts outside ``/usr/share/fonts/opentype`` (where Debian's
``fonts-noto-cjk`` lives), so a test can prove the check fails when the
Japanese font is absent.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

JAPANESE_FONT_FILE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
"""What ``make fonts`` installs (Debian's ``fonts-noto-cjk``)."""

SKIPPED = frozenset({"title", "style", "script", "head", "desc"})
"""Elements whose text is not drawn on the page (tooltips, styles)."""


@dataclass(frozen=True)
class Missing:
    """Characters of one element's text that no font used for it has."""

    tag: str
    text: str
    characters: str
    fonts: tuple[str, ...]


def hidden_cjk_fonts(folder: Path) -> dict[str, str]:
    """The environment for a Chromium that finds no CJK font: a fontconfig
    file listing only ``/usr/share/fonts/truetype`` (DejaVu), with its own
    cache."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        "<fontconfig>\n"
        "  <dir>/usr/share/fonts/truetype</dir>\n"
        f"  <cachedir>{folder / 'cache'}</cachedir>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return {"FONTCONFIG_FILE": str(config)}


@cache
def _font_files(fontconfig_file: str | None) -> dict[str, tuple[str, int]]:
    """PostScript name → (file, index in a collection), as fontconfig (under
    the given configuration) knows the fonts."""
    env = dict(os.environ)
    if fontconfig_file is not None:
        env["FONTCONFIG_FILE"] = fontconfig_file
    listing = subprocess.run(
        ["fc-list", "-f", "%{postscriptname}\\t%{file}\\t%{index}\\n"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    found: dict[str, tuple[str, int]] = {}
    for line in listing.splitlines():
        name, file, index = line.split("\t")
        found.setdefault(name, (file, int(index or 0)))
    return found


@cache
def _characters(file: str, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    font = TTFont(file, fontNumber=index, lazy=True)
    try:
        cmap = font.getBestCmap() or {}
        return frozenset(cmap)
    finally:
        font.close()


def _texts(node: dict[str, Any], out: list[tuple[int, str, str]]) -> None:
    """(nodeId, tag, own text) of every element with drawn text of its own."""
    tag = str(node.get("localName", ""))
    if node.get("nodeType") == 1 and tag in SKIPPED:
        return
    children = node.get("children") or []
    own = "".join(c.get("nodeValue", "") for c in children if c.get("nodeType") == 3)
    if node.get("nodeType") == 1 and own.strip():
        out.append((int(node["nodeId"]), tag, own))
    for child in children:
        _texts(child, out)


def missing_glyphs(
    page: Page, *, fontconfig_file: str | None = None, only_non_ascii: bool = True
) -> tuple[list[Missing], int]:
    """Every element of ``page`` whose text has a character none of the fonts
    Chromium drew it with can draw, and how many elements were checked.
    ``fontconfig_file`` must be the configuration the browser runs under."""
    session = page.context.new_cdp_session(page)
    try:
        session.send("DOM.enable")
        session.send("CSS.enable")
        document = session.send("DOM.getDocument", {"depth": -1})
        elements: list[tuple[int, str, str]] = []
        _texts(document["root"], elements)
        files = _font_files(fontconfig_file)
        missing: list[Missing] = []
        checked = 0
        for node_id, tag, text in elements:
            wanted = {c for c in text if not c.isspace()}
            if only_non_ascii and all(c.isascii() for c in wanted):
                continue
            used = session.send("CSS.getPlatformFontsForNode", {"nodeId": node_id})
            fonts = used.get("fonts") or []
            checked += 1
            covered: set[int] = set()
            names = []
            for font in fonts:
                name = str(font.get("postScriptName") or font.get("familyName"))
                names.append(name)
                if name in files:
                    covered |= _characters(*files[name])
            lacking = "".join(sorted(c for c in wanted if ord(c) not in covered))
            if lacking:
                missing.append(Missing(tag, text.strip()[:80], lacking, tuple(names)))
        return missing, checked
    finally:
        session.detach()
