"""``--help`` in Japanese for every command and option (issue #21 §1; SPEC §5
"Language").

The help texts are English where the commands are defined (docstrings,
``help=``), unmarked, so Babel's extractor (``tests/unit/test_catalog.py``)
cannot see them; ``cli.help`` looks each paragraph up in the catalog when
click prints it. So the catalog's completeness is checked here by walking
the command tree as a run loads it: the root group and its global options
(hidden ones too), every command ``seekers --help`` lists (and its line in
``cli.main.COMMANDS``), every subcommand of a group, every option and
argument.

Then every help page is run under ``--lang ja`` through the real entry point
and must hold no run of English words (the detector is ``english_runs``),
English help must stay what it was, and a run in one language leaves
nothing behind for the next.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import click
import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from cli import main as entry
from cli.help import help_messages
from domain import i18n
from tests.cli.steps import one_line_failure
from tests.helpers import run_cli

PO = i18n.LOCALE_DIR / "ja" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


@pytest.fixture(autouse=True)
def english_afterwards(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each run activates its language; leave the process as it was."""
    monkeypatch.setenv("LANGUAGE", "en")
    yield
    i18n.activate("en")


# ============================================================================
# The command tree, as a run loads it
# ============================================================================

Node = tuple[tuple[str, ...], click.Command, click.Context]


def _tree() -> list[Node]:
    """Every command people can reach, hidden ones included: the root group,
    each command it lists (loaded through ``LazyGroup.get_command``, as a run
    loads it), each subcommand of those that are groups, all the way down."""
    root = click.Context(entry.cli, info_name="seekers", **entry.cli.context_settings)
    nodes: list[Node] = [((), entry.cli, root)]

    def walk(path: tuple[str, ...], group: click.Group, ctx: click.Context) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None, name
            sub = click.Context(command, info_name=name, parent=ctx)
            nodes.append(((*path, name), command, sub))
            if isinstance(command, click.Group):
                walk((*path, name), command, sub)

    walk((), entry.cli, root)
    return nodes


TREE = _tree()
PATHS = [path for path, _command, _ctx in TREE]


def _help_texts() -> list[tuple[str, str]]:
    """(where, text) for every text click may print in a help page: each
    command's help, short help and epilog, each parameter's help (and a
    ``show_default`` given as words), the ``--help`` option's own line, and
    the one-line texts the root group lists without loading a command."""
    texts: list[tuple[str, str]] = []
    for path, command, ctx in TREE:
        where = " ".join(("seekers", *path))
        for kind in ("help", "short_help", "epilog"):
            text = getattr(command, kind)
            if text:
                texts.append((f"{where} ({kind})", text))
        for param in command.get_params(ctx):  # hidden ones and --help too
            label = f"{where} {param.opts[0] if param.opts else param.name}"
            help_text = getattr(param, "help", None)
            if help_text:
                texts.append((label, help_text))
            show_default = getattr(param, "show_default", None)
            if isinstance(show_default, str):
                texts.append((f"{label} (show_default)", show_default))
    for name, (_where, line) in entry.COMMANDS.items():
        texts.append((f"seekers --help: {name}", line))
    return texts


def _catalog() -> Catalog:
    with PO.open("rb") as source:
        return read_po(source, locale="ja", domain=i18n.DOMAIN)


# ============================================================================
# The detector
# ============================================================================

KEPT_NAMES = ("JSON Lines",)
"""Names of two English words that Japanese text keeps as they are (a file
format's name). Everything else of two words or more is a leak."""

_OPTION = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")
_TOKEN = re.compile(r"(?<![\w-])[A-Za-z][\w'-]*")
_RUN = re.compile(r"[A-Za-z][\w'-]*(?:[,.;:]?[ \t]+[A-Za-z][\w'-]*)+")


def _typed_vocabulary() -> tuple[frozenset[str], tuple[str, ...]]:
    """What help shows as it is typed: command names (and ``seekers``),
    choice values, word by word; and metavars and usage pieces (``[OPTIONS]``,
    ``INTEGER RANGE``, ``{status|…}``, ``YYYY-MM-DD``), as whole strings,
    longest first."""
    words = {"seekers"}
    pieces: set[str] = set()
    for path, command, ctx in TREE:
        words.update(path)
        pieces.update(command.collect_usage_pieces(ctx))
        for param in command.get_params(ctx):
            if isinstance(param.type, click.Choice):
                words.update(str(choice) for choice in param.type.choices)
            pieces.add(param.make_metavar(ctx))
    return frozenset(words), tuple(sorted(pieces, key=len, reverse=True))


TYPED_WORDS, TYPED_PIECES = _typed_vocabulary()


def english_runs(text: str) -> list[str]:
    """The runs of two or more English words in ``text`` (one help page).

    First, what people type is taken out, each replaced by a separator that
    no run crosses: the names in ``KEPT_NAMES``, the metavars and usage
    pieces of the tree (whole, not inside a longer word), option names
    (``--read-db``, ``-h``), then, word by word, command names and choice
    values. What is left is searched for English words (ASCII letters, with
    ``'``, ``-`` or ``_`` inside) that follow one another separated by spaces
    (a ``,``, ``.``, ``:`` or ``;`` may end a word): "Show this message",
    "hired, rejected or". A single word between Japanese (``PostgreSQL の``,
    ``SIGTERM``) is not a run.
    """
    for name in KEPT_NAMES:
        text = text.replace(name, "\0")
    for piece in TYPED_PIECES:
        text = re.sub(rf"(?<![\w-]){re.escape(piece)}(?![\w-])", "\0", text)
    text = _OPTION.sub("\0", text)
    text = _TOKEN.sub(
        lambda m: "\0" if m.group(0).rstrip("'-") in TYPED_WORDS else m.group(0),
        text,
    )
    return _RUN.findall(text)


def _columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def _wide(line: str) -> bool:
    return _columns(line) > len(line)


def _shown(path: tuple[str, ...]) -> str:
    return " ".join(("seekers", *path, "--help"))


# ============================================================================
# The catalog has every help text, paragraph by paragraph
# ============================================================================


def test_every_help_text_has_its_japanese_in_the_catalog() -> None:
    catalog = _catalog()
    texts = _help_texts()
    missing = []
    for where, text in texts:
        for message in help_messages(text):
            found = catalog.get(message)
            if found is None or found.fuzzy or not found.string:
                missing.append((where, message))
    assert missing == []
    seen = {message for _where, text in texts for message in help_messages(text)}
    # The walk reaches what it must: a global option, the hidden --lang, a
    # subcommand of a group, a docstring's second paragraph, a line of
    # COMMANDS, and --help's own line.
    assert "One JSON document on stdout." in seen
    assert any(where == "seekers --lang" for where, _text in texts)
    assert any(where == "seekers audit verify (help)" for where, _text in texts)
    second = "Exits 1 when any history breaks the rules (imported legacy data, say)."
    assert second in seen
    assert any(where == "seekers --help: sweep" for where, _text in texts)
    assert "Show this message and exit." in seen
    assert len(seen) > 80


def test_a_help_text_is_looked_up_as_click_prints_it() -> None:
    docstring = """First line of the
    first paragraph.

    \b
    kept as
      written

    Second   paragraph,
    rewrapped.
    \f
    For developers only: click never prints this.
    """
    assert help_messages(docstring) == [
        "First line of the first paragraph.",
        "kept as\n  written",
        "Second paragraph, rewrapped.",
    ]


# ============================================================================
# Every help page is Japanese
# ============================================================================


def test_the_detector_finds_english_and_spares_what_is_typed() -> None:
    english = run_cli(["pause", "--help"]).stdout
    runs = english_runs(english)
    assert "Show this message and exit" in runs
    assert "kept as personal data" in runs
    typed = (
        "使い方: seekers audit verify [OPTIONS]\n"
        "  --route [self|agency]  [既定値: agency]\n"
        "  --batch-size INTEGER RANGE  1トランザクションあたりのイベント数。\n"
        "  JSON Lines、PostgreSQL のホットスタンバイ、audit keygen で作った鍵\n"
    )
    assert english_runs(typed) == []
    assert english_runs("選考を終了します（hired, rejected or withdrawn）。") == []
    assert english_runs("Close an application as hired") == ["Close an application as"]


@pytest.mark.parametrize("path", PATHS, ids=_shown)
def test_every_help_page_is_japanese(path: tuple[str, ...]) -> None:
    result = run_cli(["--lang", "ja", *path, "--help"])
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("使い方: seekers")
    assert "このメッセージを表示して終了します。" in result.stdout
    assert english_runs(result.stdout) == []


@pytest.mark.parametrize("path", PATHS, ids=_shown)
def test_japanese_help_is_laid_out_in_terminal_columns(path: tuple[str, ...]) -> None:
    """A kanji takes two columns: every line with Japanese in it fits the
    80 columns of click's help (a line of option names alone may be longer,
    as in English)."""
    stdout = run_cli(["--lang", "ja", *path, "--help"]).stdout
    too_wide = [
        line for line in stdout.splitlines() if _wide(line) and _columns(line) > 80
    ]
    assert too_wide == []


def test_a_group_lists_its_commands_in_japanese() -> None:
    stdout = run_cli(["--lang", "ja", "--help"]).stdout
    listed = stdout.partition("\nコマンド:\n")[2].splitlines()
    rows = dict(line.split(maxsplit=1) for line in listed if line.strip())
    assert set(rows) == set(entry.COMMANDS)
    assert rows["request-withdrawal"] == "求職者からの退会申請を記録します。"
    assert all(_wide(text) for text in rows.values())
    audit = run_cli(["--lang", "ja", "audit", "--help"]).stdout
    assert "\n  verify      ログを検証します。\n" in audit


def test_defaults_requirements_and_ranges_are_japanese() -> None:
    simulate = run_cli(["--lang", "ja", "simulate", "--help"]).stdout
    assert "[1<=x<=2000000; 必須]" in simulate
    assert "[既定値: 6; 1<=x<=30]" in simulate
    catch_up = run_cli(["--lang", "ja", "projections", "catch-up", "--help"]).stdout
    assert "1トランザクションあたりのイベント数。" in catch_up
    assert "[既定値: 5000; 1<=x<=100000]" in " ".join(catch_up.split())


def test_seekers_alone_and_usage_errors_are_japanese() -> None:
    alone = one_line_failure(run_cli(["--lang", "ja"]), 2)
    assert alone.endswith(": コマンドが指定されていません。")
    assert english_runs(alone) == []
    for argv in (["--nosuch"], ["pause"], ["audit", "nosuch"], ["pause", "-x"]):
        result = run_cli(["--lang", "ja", *argv])
        assert result.code == 2
        assert english_runs(result.stderr) == []
        assert "Try" not in result.stderr
    group = run_cli(["--lang", "ja", "audit"])  # a group alone prints its help
    assert group.code == 2
    assert "ログを検証します。" in group.stderr
    assert english_runs(group.stderr) == []


# ============================================================================
# English stays as it was, and no run leaves its language behind
# ============================================================================


def test_english_help_is_the_source_text() -> None:
    root = run_cli(["--help"]).stdout
    assert "  --json          One JSON document on stdout.\n" in root
    assert (
        "  pause               Stop the service at the seeker's request "
        "(no contact...\n" in root
    )
    pause = run_cli(["pause", "--help"]).stdout
    assert pause.startswith("Usage: seekers pause [OPTIONS] SEEKER\n")
    assert (
        "\n  Stop the service at the seeker's request (no contact while paused).\n"
        in pause
    )
    assert "  --reason TEXT    Free text, kept as personal data.\n" in pause
    assert "  -h, --help       Show this message and exit.\n" in pause
    replay = run_cli(["audit", "replay", "--help"]).stdout
    assert (
        "\n  Run every stream through the current rules; list what they would "
        "refuse.\n\n  Exits 1 when any history breaks the rules (imported legacy "
        "data, say).\n" in replay
    )


@pytest.mark.parametrize("path", PATHS, ids=_shown)
def test_english_after_japanese_is_english(path: tuple[str, ...]) -> None:
    before = run_cli([*path, "--help"])
    japanese = run_cli(["--lang", "ja", *path, "--help"])
    after = run_cli([*path, "--help"])
    assert japanese.stdout != before.stdout
    assert after == before
    assert "Show this message and exit." in after.stdout
    assert run_cli(["--lang", "ja", *path, "--help"]) == japanese
