"""Nothing English under ``--lang ja`` (issue #21 §3; SPEC §5 "Language").

Every command (all of ``seekers --help``'s list and every subcommand of
``audit``, ``projections`` and ``roles``), every ``--help``, every refusal
(each state-machine refusal and each policy guard), every error kind (exit
2, 3, 5, 6, 7 and 130) and every report runs under ``--lang ja``, through the
real entry point (``cli.main.main`` in click's CliRunner); each case fails
when its human output (stdout and stderr) still holds English, and lists
every line that does, with the offending words, all at once. A few
refusals and errors also run with ``--json``: the ``message`` must be
Japanese while ``code``, ``state`` and ``allowed`` stay exactly what the
English run gives.

The scenario is built once per module through the CLI itself, every step
under ``--lang ja`` and checked like any other case: accounts under the
three presets and a policy file, taken through every recording command,
with ``--at`` dates that put the time rules on their boundaries (a
self-service reinstatement on day 30 succeeds and on day 31 is refused, in
Asia/Tokyo's calendar; a HelloWork registration lapses at midnight at the
start of its third month). Everything the test types itself (names, job
titles, notes, actors, the policy file's name, bad values) is Japanese, so
what is left English came from the product. SQLite for most of it;
PostgreSQL for ``roles``, ``migrate``, the forbidden path (exit 7), a store
that cannot be reached, the live ``projections run`` and ``--read-db`` on a
hot standby.

What is read: stdout and stderr line by line (a stdout that is one JSON
document is the machine contract and is skipped, as are ``--format csv`` and
``json``, which are data); the text of the HTML pages a run writes (outside
<script>/<style>, with title/alt/aria-label); the labels of the Mermaid
diagrams (comments, state labels, notes, transition labels; not the ids or
the syntax). A command that crashes is a result like any other (exit 1, its
traceback on stderr, reported as such), so one broken command never hides
the other cases' leaks.

The detector (``english_words``): a line is the product's text once what
may stay ASCII has been taken out of it, in this order:

1. JSON inside a line (an object or an array that parses);
2. URLs (``scheme://…``), email addresses, anything with a ``/`` (paths,
   ``Asia/Tokyo``), file names and extensions (``x.toml``, ``.csv``);
3. the names in ``TECHNICAL``, an explicit short list (``PostgreSQL``,
   ``SQLite``, ``PgBouncer``, ``RFC``, ``SHA-256``, ``ISO``, ``JSON``,
   ``Graphviz``, the product's name ``Seeker Ledger``, and ``Web``, which
   Japanese writes in Latin letters);
4. ids and numbers: UUIDs, ISO dates and times, signed-note key names
   (``name+hash+key``), application ids (``A1``), hex (8+ digits with a
   digit) and base64 (16+ characters with a digit and a letter);
5. values typed as the CLI takes them, where they read as typed: an option's
   choice value (``web``, ``job_found``) right after an option, in quotes,
   in a ``a|b|c`` or ``[a|b]`` list, as a ``[既定値: x]`` default, or in a
   comma list made only of such values; an import file's field name in
   quotes (``'job'``); then option names (``--job``, ``-h``) and environment
   variable names (``SEEKERS_DB``);
6. then, word by word, the names typed on the command line (``seekers``,
   ``apply``, ``request-withdrawal``, every name in the CLI tree, and the
   choices of positional arguments: report, projection and role names), the
   keys of a policy file (``retention_years``), the metavars (``SEEKER``,
   ``YYYY-MM-DD``, ``OPTIONS``), the policy ids (``hellowork``: codes the
   spec keeps), the SQL role names (``seekers_operator``, and ``operator``
   as the roles table heads its columns) and the logins the scenario made.

Whatever ASCII word of two letters or more remains is a leak: a state code
such as ``withdrawal_requested`` or a guard name such as ``purge_due``
outside those contexts is one too (people read them through the glossary).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import shlex
import signal
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
import psycopg
import pytest
from click.testing import CliRunner

from cli.main import cli, main
from domain import i18n
from domain.events import EVENT_CLASSES
from domain.policy import PRESETS, Policy
from projections.queries import REPORTS, UNDATED
from services import importing
from tests.cli.steps import closed_port
from tests.conftest import TEST_MASTER_KEY, fresh_postgres_database
from tests.helpers import CliResult, run_cli
from tests.support.standby import StandbyPair

# ============================================================================
# The CLI tree: what may be typed, so what may stay ASCII
# ============================================================================


def _tree() -> Iterator[tuple[tuple[str, ...], click.Command, click.Context]]:
    def walk(
        command: click.Command, path: tuple[str, ...], parent: click.Context | None
    ) -> Iterator[tuple[tuple[str, ...], click.Command, click.Context]]:
        context = click.Context(command, info_name=path[-1], parent=parent)
        yield path, command, context
        if isinstance(command, click.Group):
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                assert sub is not None, name
                yield from walk(sub, (*path, name), context)

    yield from walk(cli, ("seekers",), None)


TREE = [(path, command) for path, command, _ in _tree()]
COMMAND_PATHS = [path[1:] for path, _ in TREE if len(path) > 1]
"""Every command and subcommand, as typed after ``seekers``."""
RUNNABLE = [
    path[1:]
    for path, command in TREE
    if len(path) > 1
    and (not isinstance(command, click.Group) or command.invoke_without_command)
]
"""What runs by itself (``audit`` alone only prints its help; ``roles`` lists)."""
ROLE_NAMES = (
    "seekers_operator",
    "seekers_privacy",
    "seekers_auditor",
    "seekers_reporter",
    "seekers_admin",
)

TECHNICAL = (
    "PostgreSQL",
    "SQLite",
    "PgBouncer",
    "RFC",
    "SHA-256",
    "ISO",
    "JSON Lines",
    "JSON",
    "CSV",
    "HTML",
    "TOML",
    "UTC",
    "Ed25519",
    "Ctrl-C",
    "SIGTERM",
    "Graphviz",
    "Mermaid",
    "Seeker Ledger",
    "Web",
)
"""Names that stay as they are in Japanese text (explicit, short): technical
names, the product's name, and ``Web``, which Japanese itself writes in Latin
letters (the glossary's ``Web（マイページ）``)."""


@dataclass(frozen=True)
class Vocabulary:
    """What may stay ASCII in Japanese output."""

    commands: frozenset[str]
    """Every name in the CLI tree, and ``seekers``, and the names typed as
    positional arguments (report, projection and role names), and the keys of
    a policy file: allowed anywhere."""
    choices: frozenset[str]
    """Choice values of options and arguments: allowed where read as typed."""
    metavars: frozenset[str]
    fields: frozenset[str]
    """The import files' field names: allowed in quotes (``'job'``)."""
    codes: frozenset[str]
    """Policy ids, SQL role names, logins: allowed anywhere."""

    def with_codes(self, *codes: str) -> Vocabulary:
        return Vocabulary(
            self.commands,
            self.choices,
            self.metavars,
            self.fields,
            self.codes | set(codes),
        )


def _vocabulary() -> Vocabulary:
    commands = {"seekers"}
    choices: set[str] = set()
    metavars = {"OPTIONS", "COMMAND", "ARGS"}
    for path, command, context in _tree():
        commands.update(path)
        for param in command.params:
            if isinstance(param.type, click.Choice):
                values = {str(c) for c in param.type.choices}
                choices.update(values)
                if isinstance(param, click.Argument):
                    commands.update(values)
            metavar = param.metavar or param.make_metavar(context)
            metavars.update(re.findall(r"[A-Z][A-Z0-9_-]*[A-Z0-9]|[A-Z]", metavar))
    commands.update(f.name for f in fields(Policy))
    commands.add("based_on")
    codes = {*PRESETS, *ROLE_NAMES, *(r.removeprefix("seekers_") for r in ROLE_NAMES)}
    with contextlib.suppress(KeyError, OSError):
        codes.add(getpass.getuser())  # SQLite: "(via login <OS user>)"
    import_fields = {*importing.CSV_HEADER, *importing.COMMON, *importing.REGISTRATION}
    for event_class in EVENT_CLASSES:
        import_fields.update(f.name for f in fields(event_class))
    return Vocabulary(
        frozenset(commands),
        frozenset(choices),
        frozenset(metavars),
        frozenset(import_fields),
        frozenset(codes),
    )


VOCABULARY = _vocabulary()

# ============================================================================
# The detector
# ============================================================================

_A = r"(?<![A-Za-z0-9_-])"  # an ASCII word starts here (Japanese around it)
_Z = r"(?![A-Za-z0-9_-])"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[!-~]*")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PATH = re.compile(r"[!-~]*/[!-~]*")
_FILE = re.compile(
    _A + r"[A-Za-z0-9_.-]*\.(?:db|toml|jsonl|json|csv|html|png|svg|pub|key|txt|dot"
    r"|mmd|note|sig)" + _Z
)
_TECHNICAL = re.compile(
    _A + "(?:" + "|".join(re.escape(t) for t in TECHNICAL) + ")" + _Z
)
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_DATETIME = re.compile(
    r"\d{4}-\d{2}(?:-\d{2})?(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?"
)
_NOTE_KEY = re.compile(r"[A-Za-z0-9_.-]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*")
_APPLICATION = re.compile(_A + r"A\d+" + _Z)
_HEX = re.compile(_A + r"(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}" + _Z)
_BASE64 = re.compile(
    r"(?<![A-Za-z0-9+/=_-])(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Za-z])"
    r"[A-Za-z0-9+/_-]{16,}={0,2}"
)
_AFTER_OPTION = re.compile(_A + r"(--?[A-Za-z][A-Za-z0-9-]*)([ =])([A-Za-z0-9_-]+)")
_DEFAULT = re.compile(r"(\[[^\]\[:]*:\s*)([A-Za-z0-9_-]+)(\])")
_QUOTED = re.compile(r"(['\"`「『])([A-Za-z0-9_-]+)(['\"`」』])")
_PIPED = re.compile(r"[A-Za-z0-9_.-]+(?:\|[A-Za-z0-9_.-]+)+")
_LISTED = re.compile(_A + r"[A-Za-z0-9_-]+(?:\s*[,、]\s*[A-Za-z0-9_-]+)+" + _Z)
_OPTION = re.compile(_A + r"--?[A-Za-z][A-Za-z0-9-]*")
_ENV = re.compile(r"\$?" + _A + r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+" + _Z)
_WORD = re.compile(_A + r"[A-Za-z][A-Za-z0-9_'-]*")


def _without_json(line: str) -> str:
    decoder = json.JSONDecoder()
    kept: list[str] = []
    index = 0
    while index < len(line):
        if line[index] in "{[":
            try:
                _, end = decoder.raw_decode(line, index)
            except ValueError:
                pass
            else:
                kept.append(" ")
                index = end
                continue
        kept.append(line[index])
        index += 1
    return "".join(kept)


def english_words(line: str, vocabulary: Vocabulary = VOCABULARY) -> list[str]:
    """The English words left in one line of Japanese output (see the module
    docstring for what is taken out first)."""
    typed = vocabulary.choices | vocabulary.commands | vocabulary.codes

    def typed_value(match: re.Match[str]) -> str:
        return (
            match.group(1)
            + match.group(2)
            + (" " if match.group(3) in typed else match.group(3))
        )

    def quoted(match: re.Match[str]) -> str:
        inside = match.group(2)
        return " " if inside in typed or inside in vocabulary.fields else match[0]

    def piped(match: re.Match[str]) -> str:
        pieces = match.group(0).split("|")
        allowed = typed | vocabulary.metavars
        return " ".join(p for p in pieces if p not in allowed and not _FILE.match(p))

    def listed(match: re.Match[str]) -> str:
        items = re.split(r"\s*[,、]\s*", match.group(0))
        return " " if all(item in typed for item in items) else match.group(0)

    text = _without_json(line)
    for pattern in (_URL, _EMAIL, _PATH, _FILE, _TECHNICAL, _UUID, _DATETIME):
        text = pattern.sub(" ", text)
    for pattern in (_NOTE_KEY, _APPLICATION, _HEX, _BASE64):
        text = pattern.sub(" ", text)
    text = _AFTER_OPTION.sub(typed_value, text)
    text = _QUOTED.sub(quoted, text)
    text = _DEFAULT.sub(lambda m: m[1] + (" " if m[2] in typed else m[2]) + m[3], text)
    text = _PIPED.sub(piped, text)
    text = _LISTED.sub(listed, text)
    text = _OPTION.sub(" ", text)
    text = _ENV.sub(" ", text)
    allowed = vocabulary.commands | vocabulary.metavars | vocabulary.codes
    words: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group(0).rstrip("'_-")
        if sum(c.isascii() and c.isalpha() for c in word) < 2 or word in allowed:
            continue
        words.append(word)
    return words


@dataclass(frozen=True)
class Leak:
    stream: str
    line: str
    words: list[str]


def leaks_in(stream: str, text: str, vocabulary: Vocabulary) -> list[Leak]:
    found = []
    for line in text.splitlines():
        words = english_words(line, vocabulary)
        if words:
            found.append(Leak(stream, line.rstrip(), words))
    return found


class _PageText(HTMLParser):
    """What a person reads on an HTML page: text outside <script>/<style>,
    and the title, alt and aria-label attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skipping += 1
        for name, value in attrs:
            if name in ("title", "alt", "aria-label") and value:
                self.lines.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.lines.append(" ".join(data.split()))


def page_text(html: str) -> str:
    parser = _PageText()
    parser.feed(html)
    return "\n".join(parser.lines)


def diagram_text(source: str) -> str:
    """What a person reads in a Mermaid state diagram: its comments, the
    states' labels, the notes inside states and the transitions' labels (the
    ids are codes, and the syntax is not text)."""
    lines = []
    for raw in source.splitlines():
        line = raw.strip()
        if line.startswith("%%"):
            lines.append(line[2:].strip())
        elif labelled := re.match(r'state "([^"]*)"', line):
            lines.append(labelled[1])
        elif described := re.match(r"[^\s:]+(?:\s*-->\s*[^\s:]+)?\s*:\s*(.*)", line):
            lines.append(described[1])
    return "\n".join(lines)


def dot_text(source: str) -> str:
    """What a person reads in a Graphviz diagram: its labels, plain
    (``label="…"``) or HTML-like (``label=<…>``, read as a page)."""
    lines = []
    for line in source.splitlines():
        for html in re.findall(r"label=<(.*?)>\s*[,\]]", line):
            lines.append(page_text(html))
        lines += re.findall(r'label="((?:[^"\\]|\\.)*)"', line)
    return "\n".join(lines)


def _is_japanese(text: str) -> bool:
    return any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in text)


# ============================================================================
# Running a case and failing with every leak at once
# ============================================================================


@dataclass
class Run:
    """One run of ``seekers --lang ja ARGV`` and what it must give."""

    argv: list[str]
    code: int = 0
    db: str | None = None
    """``--db`` (default: the scenario's SQLite store)."""
    actor: str = "窓口担当"
    pages: list[Path] = field(default_factory=list)
    """HTML files the run writes, read as text a person sees."""
    texts: list[Path] = field(default_factory=list)
    """Text files the run writes for people."""
    diagrams: list[Path] = field(default_factory=list)
    """Mermaid (``.mmd``) or Graphviz (``.dot``) files the run writes: their
    labels are read."""
    stop_with_sigterm: bool = False
    """A command that runs until SIGTERM (``projections run``)."""


def run_japanese(run: Run, db_url: str, *, as_json: bool = False) -> CliResult:
    """``tests.helpers.run_cli`` with ``--lang ja``, except that a crash is a
    result (exit 1, the traceback on stderr) rather than the end of the
    module's scenario: one broken command must not hide the others' leaks."""
    argv = ["--db", run.db or db_url, "--actor", run.actor, "--lang", "ja"]
    argv += [*(["--json"] if as_json else []), *run.argv]
    watcher = _sigterm_when_listening() if run.stop_with_sigterm else None
    runner = CliRunner()
    try:
        with runner.isolation(env={"SEEKERS_MASTER_KEY": TEST_MASTER_KEY}) as (
            out,
            err,
            _,
        ):
            code = 0
            try:
                main(argv)
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else 1
            except Exception:
                code = 1
                err.write(traceback.format_exc().encode())
            return CliResult(code, out.getvalue().decode(), err.getvalue().decode())
    finally:
        i18n.activate("en")
        if watcher is not None:
            watcher.join(timeout=30)


def _sigterm_when_listening() -> threading.Thread:
    """SIGTERM to this process once a command has put in its own handler
    (and never while the default one, which would end the test run, is in)."""
    default = signal.getsignal(signal.SIGTERM)

    def watch() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if signal.getsignal(signal.SIGTERM) is not default:
                time.sleep(0.5)  # let it look at the log at least once
                if signal.getsignal(signal.SIGTERM) is not default:
                    os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def _shown(argv: list[str]) -> str:
    return "seekers --lang ja " + " ".join(
        a if a and not re.search(r"\s", a) else repr(a) for a in argv
    )


def check_japanese(
    name: str,
    run: Run,
    result: CliResult,
    vocabulary: Vocabulary = VOCABULARY,
) -> None:
    """Fail with every English line of the run (and its written pages), and
    with the exit code when it is not the one the scenario expects."""
    problems: list[str] = []
    if result.code != run.code:
        problems.append(
            f"exit {result.code}, expected {run.code} (the scenario did not reach "
            f"this case; stderr: {result.stderr.strip()[:300]!r})"
        )
    if "Traceback" in result.stderr:
        problems.append("a traceback reached the user")
    found = leaks_in("stdout", _human_stdout(result.stdout), vocabulary)
    found += leaks_in("stderr", result.stderr, vocabulary)
    for page in run.pages:
        if page.exists():
            found += leaks_in(page.name, page_text(page.read_text()), vocabulary)
        else:
            problems.append(f"{page} was not written")
    for text in run.texts:
        if text.exists():
            found += leaks_in(text.name, text.read_text(), vocabulary)
    for diagram in run.diagrams:
        if diagram.exists():
            read = dot_text if diagram.suffix == ".dot" else diagram_text
            found += leaks_in(diagram.name, read(diagram.read_text()), vocabulary)
        else:
            problems.append(f"{diagram} was not written")
    if found:
        problems.append(f"{len(found)} line(s) with English:")
        for leak in found:
            problems.append(f"  {leak.stream}: {leak.line}")
            problems.append(f"      -> {', '.join(leak.words)}")
    if problems:
        pytest.fail(f"[{name}] {_shown(run.argv)}\n" + "\n".join(problems), False)


def _human_stdout(stdout: str) -> str:
    """A whole JSON document on stdout is the machine contract, not text."""
    with contextlib.suppress(ValueError):
        json.loads(stdout)
        return ""
    return stdout


# ============================================================================
# The scenario, built through the CLI under --lang ja
# ============================================================================

BIRTH = "1990-04-01"
REQUEST = "0e7c6f4a-3b1d-4c8e-9f2a-5d6b7c8e9f01"
FILES = {
    "tokyo.toml": (
        'based_on = "pasona"\nname = "東京支店"\nerase_on_withdrawal = false\n'
    ),
    "broken.toml": 'name = "壊れた"\nretention_years = [\n',
    "unknown-key.toml": 'based_on = "workport"\nname = "大阪支店"\n"好きな色" = "青"\n',
    "bad-value.toml": 'based_on = "workport"\nname = "福岡支店"\nretention_years = 0\n',
    "import.csv": (
        "ref,policy,name,email,birth_date,phone,channel,advisor,occurred_at,actor\n"
        "移行-001,workport,中村 一郎,ichiro@example.jp,1985-06-15,,web,鈴木,"
        "2024-12-01,移行担当\n"
    ),
    "bad.csv": (
        "ref,policy,name,email,birth_date,phone,channel,advisor,occurred_at,actor\n"
        "移行-002,workport,中村 二郎,jiro@example.jp,1985-13-40,,web,鈴木,"
        "2024-12-01,移行担当\n"
    ),
    "legacy.jsonl": "\n".join(
        json.dumps(line, ensure_ascii=False)
        for line in [
            # A HelloWork account paused under the old system: today's rules
            # refuse that, so ``audit replay`` lists it.
            {"ref": "移行-H", "type": "Registered", "occurred_at": "2024-01-10",
             "actor": "旧システム", "policy": "hellowork", "name": "渡辺 蓮",
             "email": "ren@example.jp", "birth_date": "2000-01-01"},
            {"ref": "移行-H", "type": "Paused", "occurred_at": "2024-01-15",
             "actor": "旧システム", "note": "旧システムでは可能だった"},
            # Lines the import rejects, one reason each.
            {"ref": "移行-T", "type": "採用", "occurred_at": "2024-01-05",
             "actor": "旧システム"},
            {"ref": "移行-M", "type": "Registered", "occurred_at": "2024-01-01",
             "actor": "旧システム", "policy": "workport", "name": "伊藤 芽衣",
             "email": "mei@example.jp", "birth_date": "1995-02-28"},
            {"ref": "移行-M", "type": "Applied", "occurred_at": "2024-01-05",
             "actor": "旧システム", "route": "self"},
            {"ref": "移行-R", "type": "Registered", "occurred_at": "2024-01-01",
             "actor": "旧システム", "policy": "workport", "name": "加藤 陽",
             "email": "yo@example.jp", "birth_date": "1990-01-01"},
            {"ref": "移行-R", "type": "Applied", "occurred_at": "2024-01-05",
             "actor": "旧システム", "job": "看護師", "route": "agency"},
            {"ref": "移行-R", "type": "InterviewScheduled",
             "occurred_at": "2024-01-06", "actor": "旧システム",
             "application_id": "A1", "interview_at": "2024-01-10T10:00:00+09:00",
             "round_number": "二"},
        ]
    )
    + "\n壊れた行\n",
}  # fmt: skip
"""Files the cases read, written in the scenario's folder."""


def register(key: str, policy: str, at: str = "2025-01-15", extra: str = "") -> str:
    """``register`` for account ``key`` (its email is ``<key>@example.jp``)."""
    return (
        f"register --name '山田 太郎' --email {key.lower()}@example.jp "
        f"--birth-date {BIRTH} --policy {policy} --at {at} {extra}"
    )


@dataclass(frozen=True)
class Case:
    """``seekers --lang ja ARGV``: ``{W}`` is account W's id, ``{tmp}`` the
    scenario's folder, ``{side:NAME}`` a SQLite store of the scenario's own."""

    argv: str
    code: int = 0
    db: str | None = None
    account: str | None = None
    """For a registration: the account key it creates."""
    pages: tuple[str, ...] = ()
    """HTML files the run writes in ``{tmp}``, read as the text people see."""
    texts: tuple[str, ...] = ()
    """Text files for people the run writes in ``{tmp}``."""
    diagrams: tuple[str, ...] = ()
    """Mermaid files the run writes in ``{tmp}``."""
    sigterm: bool = False
    """Runs until SIGTERM (``projections run``)."""
    patch: Callable[[pytest.MonkeyPatch], None] | None = None


BUILD: dict[str, Case] = {
    # W: workport, through every recording command; ends active.
    "register": Case(
        register(
            "W",
            "workport",
            extra="--advisor 鈴木 --phone 090-1234-5678 --channel web "
            "--name-kana 'やまだ　たろう'",
        ),
        account="W",
    ),
    "apply": Case("apply {W} --job 事務職 --route agency --at 2025-01-16"),
    "apply (self)": Case("apply {W} --job 経理 --route self --at 2025-01-17"),
    "schedule-interview": Case(
        "schedule-interview {W} A1 --on 2025-02-10T10:00 --at 2025-01-18"
    ),
    "schedule-interview (final)": Case(
        "schedule-interview {W} A2 --on 2025-01-20T10:00 --round 2 --final "
        "--at 2025-01-18T12:00"
    ),
    "decline-interview": Case(
        "decline-interview {W} A1 --channel email --note 日程が合いません "
        "--at 2025-01-19"
    ),
    "close-application": Case(
        "close-application {W} A2 --outcome rejected --at 2025-01-21"
    ),
    "contact": Case("contact {W} --channel phone --outcome no_answer --at 2025-01-22"),
    "change-advisor": Case("change-advisor {W} --advisor 高橋 --at 2025-01-23"),
    "mark-unreachable": Case("mark-unreachable {W} --at 2025-01-24"),
    "restore-contact": Case("restore-contact {W} --at 2025-01-25"),
    "pause": Case("pause {W} --reason 体調不良のため --at 2025-01-26"),
    "resume": Case("resume {W} --at 2025-02-01"),
    "request-withdrawal (alternatives offered)": Case(
        "request-withdrawal {W} --channel phone --reason no_suitable_jobs "
        "--note 希望の求人がありません --at 2025-02-02"
    ),
    "cancel-withdrawal": Case("cancel-withdrawal {W} --at 2025-02-03"),
    "lapse": Case("lapse {W} --at 2025-02-04"),
    "reactivate": Case("reactivate {W} --at 2025-02-05"),
    "request-withdrawal (advisor_mismatch)": Case(
        "request-withdrawal {W} --channel app --reason advisor_mismatch --at 2025-02-06"
    ),
    "withdraw": Case("withdraw {W} --at 2025-02-07"),
    "reinstate --assisted": Case("reinstate {W} --assisted --at 2025-02-08"),
    "apply (after reinstatement)": Case(
        "apply {W} --job 営業 --route agency --at 2025-02-09"
    ),
    "contact (with a request id)": Case(
        f"contact {{W}} --channel phone --outcome reached --at 2025-02-10 "
        f"--request-id {REQUEST}"
    ),
    "contact (the same request again)": Case(
        f"contact {{W}} --channel phone --outcome reached --at 2025-02-10 "
        f"--request-id {REQUEST}"
    ),
    # H: hellowork, an open self-application.
    "register H": Case(register("H", "hellowork"), account="H"),
    "apply (hellowork, self)": Case(
        "apply {H} --job 倉庫作業 --route self --at 2025-01-16"
    ),
    # HW: hellowork, withdrawn at 23:30 in Tokyo (day 31 is refused below).
    "register HW": Case(register("HW", "hellowork"), account="HW"),
    "request-withdrawal (hellowork)": Case(
        "request-withdrawal {HW} --channel web --at 2025-01-16"
    ),
    "withdraw (hellowork)": Case("withdraw {HW} --at 2025-01-17T23:30:00+09:00"),
    # HR: hellowork, reinstated by the seeker on day 30, the last day allowed.
    "register HR": Case(register("HR", "hellowork"), account="HR"),
    "request-withdrawal (counter)": Case(
        "request-withdrawal {HR} --channel counter --at 2025-01-16"
    ),
    "withdraw (to come back)": Case("withdraw {HR} --at 2025-01-17"),
    "reinstate on day 30": Case("reinstate {HR} --at 2025-02-16"),
    # P: pasona with an advisor (identity checks); PN without one.
    "register P": Case(register("P", "pasona", extra="--advisor 佐藤"), account="P"),
    "register PN": Case(register("PN", "pasona"), account="PN"),
    # PW: pasona, withdrawn: personal data erased on withdrawal.
    "register PW": Case(register("PW", "pasona", extra="--advisor 佐藤"), account="PW"),
    "request-withdrawal (identity checked)": Case(
        "request-withdrawal {PW} --channel phone --reason job_found "
        f"--verify-name 山田太郎 --verify-birth-date {BIRTH} --at 2025-01-16"
    ),
    "withdraw (erased on withdrawal)": Case("withdraw {PW} --at 2025-01-17"),
    # PX: a policy file, no reinstatement and no retention period.
    "register (policy file)": Case(
        register("PX", "{tmp}/tokyo.toml", extra="--advisor 佐藤"), account="PX"
    ),
    "request-withdrawal (policy file)": Case(
        "request-withdrawal {PX} --channel email --reason other_agency "
        f"--verify-name '山田 太郎' --verify-birth-date {BIRTH} --at 2025-01-16"
    ),
    "withdraw (policy file)": Case("withdraw {PX} --at 2025-01-17"),
    # W2: erased at the seeker's request; W3: withdrawn; W4: lapsed, purged.
    "register W2": Case(register("W2", "workport"), account="W2"),
    "request-withdrawal --erase-data": Case(
        "request-withdrawal {W2} --channel form --reason search_ended --erase-data "
        "--at 2025-01-16"
    ),
    "withdraw (erase requested)": Case("withdraw {W2} --at 2025-01-17"),
    "register W3": Case(register("W3", "workport"), account="W3"),
    "request-withdrawal (workport)": Case(
        "request-withdrawal {W3} --channel email --reason other --at 2025-01-16"
    ),
    "withdraw (workport)": Case("withdraw {W3} --at 2025-01-17"),
    "register W4": Case(register("W4", "workport"), account="W4"),
    "lapse (to purge)": Case("lapse {W4} --at 2025-01-16"),
    "purge": Case("purge {W4} --reason deletion_request --at 2025-01-17"),
    # WP: paused; WI: an interview that has taken place by 2025-01-21.
    "register WP": Case(register("WP", "workport"), account="WP"),
    "pause (no reason)": Case("pause {WP} --at 2025-01-16"),
    "register WI": Case(register("WI", "workport"), account="WI"),
    "apply (interview)": Case("apply {WI} --job 介護職 --route agency --at 2025-01-16"),
    "schedule-interview (soon)": Case(
        "schedule-interview {WI} A1 --on 2025-01-20T10:00 --at 2025-01-17"
    ),
    # Side stores for the sweep, each with one HelloWork registration.
    **{
        f"register ({store})": Case(register("S", "hellowork"), db=f"{{side:{store}}}")
        for store in ("sweep-dry", "sweep-none", "sweep")
    },
    # Imports, projections, audit and pages, over the whole store.
    "import --dry-run": Case("import {tmp}/import.csv --dry-run"),
    "import": Case("import {tmp}/import.csv"),
    "import (a bad line)": Case("import {tmp}/bad.csv", 1),
    "import (JSON Lines: a legacy history, rejected lines)": Case(
        "import {tmp}/legacy.jsonl", 1
    ),
    "projections catch-up": Case("projections catch-up"),
    "projections rebuild": Case("projections rebuild accounts"),
    "audit keygen": Case("audit keygen --output {tmp}/key"),
    "audit checkpoint": Case(
        "audit checkpoint --sign-key {tmp}/key --output {tmp}/checkpoint"
    ),
    "audit export": Case("audit export --output {tmp}/export"),
    "audit prove": Case(
        "audit prove {W} --output {tmp}/bundle.json --sign-key {tmp}/key"
    ),
    "export-data --output": Case("export-data {W} --output {tmp}/w.json"),
    "report html": Case(
        "report html --output {tmp}/report.html", pages=("report.html",)
    ),
    "history --format html": Case(
        "history {W} --format html --output {tmp}/history.html",
        pages=("history.html",),
    ),
    "policies --diagram mermaid": Case(
        "policies --diagram mermaid --output {tmp}/diagram.mmd",
        diagrams=("diagram.mmd",),
    ),
    "policies --diagram dot --policy hellowork": Case(
        "policies --diagram dot --policy hellowork --output {tmp}/hellowork.dot",
        diagrams=("hellowork.dot",),
    ),
    "policies --diagram mermaid --policy FILE": Case(
        "policies --diagram mermaid --policy {tmp}/tokyo.toml --output {tmp}/tokyo.mmd",
        diagrams=("tokyo.mmd",),
    ),
}
"""Run in this order, once, by the ``agency`` fixture; each is a case."""

COMMANDS: dict[str, Case] = {
    "show": Case("show {W}"),
    "show --as-of": Case("show {W} --as-of 2025-01-26T12:00"),
    "show (purged)": Case("show {PW}"),
    "show (withdrawn: the reinstatement deadline)": Case("show {HR}"),
    "show (withdrawn under a policy file)": Case("show {PX}"),
    "history": Case("history {W}"),
    "history --known-at": Case("history {W} --known-at 2099-01-01"),
    "policies": Case("policies"),
    "list": Case("list"),
    "list --status withdrawn --limit 1": Case("list --status withdrawn --limit 1"),
    "find": Case("find --email w@example.jp"),
    "find (nobody)": Case("find --email nobody@example.jp"),
    "find --name-kana": Case("find --name-kana ヤマダ"),
    "find --name-kana (nobody)": Case("find --name-kana タナカ"),
    "export-data": Case("export-data {W}"),
    "projections status": Case("projections status"),
    "projections run (SQLite: polling)": Case(
        "projections run --poll 0.2", sigterm=True
    ),
    "audit verify": Case("audit verify"),
    "audit verify --checkpoint": Case(
        "audit verify --checkpoint {tmp}/checkpoint --public-key {tmp}/key.pub"
    ),
    "audit verify --export": Case("audit verify --export {tmp}/export"),
    "audit verify --bundle": Case("audit verify --bundle {tmp}/bundle.json"),
    "audit replay (what today's rules refuse)": Case("audit replay", 1),
    "audit (the group alone: its help, exit 2)": Case("audit", 2),
    "projections (the group alone: its help, exit 2)": Case("projections", 2),
    "roles (SQLite)": Case("roles"),
    "migrate (SQLite)": Case("migrate"),
    "sweep --dry-run": Case("sweep --dry-run --at 2025-04-01", db="{side:sweep-dry}"),
    "sweep (nothing due, the last minute)": Case(
        "sweep --at 2025-03-31T23:59", db="{side:sweep-none}"
    ),
    "sweep (lapses a registration at midnight)": Case(
        "sweep --at 2025-04-01", db="{side:sweep}"
    ),
    "simulate": Case("simulate --seekers 6 --years 1", db="{side:simulated}"),
}

HELP = ["seekers", *(" ".join(path) for path in COMMAND_PATHS)]

REFUSALS: dict[str, Case] = {
    # The state machines.
    "state: withdraw from active": Case("withdraw {W} --at 2025-03-01", 4),
    "state: contact while paused": Case(
        "contact {WP} --channel phone --outcome reached --at 2025-03-01", 4
    ),
    "state: resume an active account": Case("resume {H} --at 2025-03-01", 4),
    "state: purge an active account": Case(
        "purge {H} --reason deletion_request --at 2025-03-01", 4
    ),
    "state: apply when purged (allowed: nothing)": Case(
        "apply {PW} --job 事務職 --at 2025-03-01", 4
    ),
    "state: cancel-withdrawal with nothing requested": Case(
        "cancel-withdrawal {H} --at 2025-03-01", 4
    ),
    "application: decline an interview never scheduled": Case(
        "decline-interview {W} A3 --channel email --at 2025-03-01", 4
    ),
    "application: schedule on a closed application": Case(
        "schedule-interview {W} A2 --on 2025-04-01T10:00 --at 2025-03-01", 4
    ),
    # Each guard (domain/guards.py, domain/seeker.py, services/ledger.py).
    "guard: the interview has already taken place": Case(
        "decline-interview {WI} A1 --channel phone --at 2025-01-21", 4
    ),
    "guard: pausing not offered (hellowork)": Case("pause {H} --at 2025-03-01", 4),
    "guard: no advisors (change-advisor)": Case(
        "change-advisor {H} --advisor 田中 --at 2025-03-01", 4
    ),
    "guard: no advisors (register --advisor)": Case(
        register("HX", "hellowork", "2025-03-01", "--advisor 田中"), 4
    ),
    "guard: the email is already registered": Case(
        register("H", "hellowork", "2025-03-01"), 4
    ),
    "guard: withdrawal channel not offered": Case(
        "request-withdrawal {H} --channel phone --at 2025-03-01", 4
    ),
    "guard: channel not offered with an advisor": Case(
        "request-withdrawal {P} --channel web --reason other --at 2025-03-01", 4
    ),
    "guard: channel not offered without an advisor": Case(
        "request-withdrawal {PN} --channel phone --reason other --at 2025-03-01", 4
    ),
    "guard: reason required": Case(
        "request-withdrawal {WP} --channel phone --at 2025-03-01", 4
    ),
    "guard: open self-application blocks withdrawal": Case(
        "request-withdrawal {H} --channel web --at 2025-03-01", 4
    ),
    "guard: identity check required": Case(
        "request-withdrawal {P} --channel email --reason job_found --at 2025-03-01",
        4,
    ),
    "guard: identity check, the name does not match": Case(
        "request-withdrawal {P} --channel phone --reason job_found --verify-name "
        f"'山田 次郎' --verify-birth-date {BIRTH} --at 2025-03-01",
        4,
    ),
    "guard: identity check, the birth date does not match": Case(
        "request-withdrawal {P} --channel phone --reason job_found --verify-name "
        "'山田 太郎' --verify-birth-date 1991-04-01 --at 2025-03-01",
        4,
    ),
    # 2025-02-16T15:30Z is 00:30 on 2025-02-17 in Tokyo: day 31 there.
    "guard: self-service reinstatement on day 31": Case(
        "reinstate {HW} --at 2025-02-16T15:30:00Z", 4
    ),
    "guard: no self-service reinstatement (staff may)": Case(
        "reinstate {W3} --at 2025-03-01", 4
    ),
    "guard: the policy does not reinstate (--assisted)": Case(
        "reinstate {PX} --assisted --at 2025-03-01", 4
    ),
    "guard: the policy does not reinstate (self-service)": Case(
        "reinstate {PX} --at 2025-03-01", 4
    ),
    "guard: retention has not expired": Case(
        "purge {W3} --reason retention_expired --at 2025-03-01", 4
    ),
    "guard: no retention period to expire": Case(
        "purge {PX} --reason retention_expired --at 2025-03-01", 4
    ),
}


def _always_overtaken(mp: pytest.MonkeyPatch) -> None:
    """Another process saves the account first, twice: the store refuses
    both saves as the library does (``IntegrityError``)."""
    from eventsourcing.persistence import IntegrityError

    from services.ledger import SeekerLedger

    def overtaken(self: SeekerLedger, *args: Any, **kwargs: Any) -> None:
        raise IntegrityError("overtaken")

    mp.setattr(SeekerLedger, "_save", overtaken)


def _interrupted(mp: pytest.MonkeyPatch) -> None:
    """Ctrl-C in the middle of a simulation."""
    from cli.commands import operations

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    mp.setattr(operations, "simulate_population", interrupted)


ERRORS: dict[str, Case] = {
    # 2: usage (click) and bad values (the product).
    "usage: missing argument": Case("withdraw", 2),
    "usage: missing option": Case("request-withdrawal {W}", 2),
    "usage: unknown command": Case("きゅうし {W}", 2),
    "usage: unknown option": Case("show {W} --nosuch", 2),
    "usage: a choice not offered": Case(
        "request-withdrawal {W} --channel ファックス", 2
    ),
    "usage: a number out of range": Case(
        "schedule-interview {W} A3 --on 2025-04-01T10:00 --round 0", 2
    ),
    "usage: --output with a report other than html": Case(
        "report status --output {tmp}/x.txt", 2
    ),
    "usage: find with neither --email nor --name-kana": Case("find", 2),
    "bad value: a reading that is not kana": Case(
        register("BX", "workport", "2025-03-01", "--name-kana 山田"), 2
    ),
    "bad value: a date that does not exist": Case("lapse {H} --at 2025-02-30", 2),
    "bad value: an era date after the era's end": Case(
        "lapse {H} --at 平成31年5月1日", 2
    ),
    "bad value: --as-of not a time": Case("show {W} --as-of 先週の火曜日", 2),
    "bad value: --at in the future": Case("lapse {H} --at 2099-01-01", 2),
    "bad value: --at before the latest event": Case("lapse {W} --at 2025-01-20", 2),
    "bad value: birth date": Case(
        register("BX", "workport", "2025-03-01").replace(BIRTH, "1990-13-01"), 2
    ),
    "bad value: email": Case(
        register("BX", "workport", "2025-03-01").replace(
            "bx@example.jp", "山田のメール"
        ),
        2,
    ),
    "bad value: unknown policy": Case(register("BX", "リクルート", "2025-03-01"), 2),
    "bad value: policy file not TOML": Case(
        register("BX", "{tmp}/broken.toml", "2025-03-01"), 2
    ),
    "bad value: policy file with an unknown key": Case(
        register("BX", "{tmp}/unknown-key.toml", "2025-03-01"), 2
    ),
    "bad value: policy file with a bad value": Case(
        register("BX", "{tmp}/bad-value.toml", "2025-03-01"), 2
    ),
    "bad value: an empty job": Case("apply {W} --job '\u3000' --at 2025-03-01", 2),
    "bad value: a control character": Case(
        "apply {W} --job 事務\x01 --at 2025-03-01", 2
    ),
    "bad value: a request id used for another command": Case(
        f"mark-unreachable {{W}} --at 2025-03-02 --request-id {REQUEST}", 2
    ),
    "bad value: import file missing": Case("import {tmp}/ない.csv", 2),
    "bad value: audit verify --export and --bundle": Case(
        "audit verify --export {tmp}/export --bundle {tmp}/bundle.json", 2
    ),
    "bad value: roles grant on SQLite": Case("roles grant seekers_operator 窓口", 2),
    # 3: not found.
    "not found: unknown seeker (exit 3)": Case(
        "lapse 6a1f0b6e-0000-4000-8000-000000000000 --at 2025-03-01", 3
    ),
    "not found: history of an unknown seeker": Case(
        "history 6a1f0b6e-0000-4000-8000-000000000000", 3
    ),
    "not found: a malformed seeker id": Case("show 求職者42", 3),
    "not found: unknown application": Case(
        "close-application {W} A9 --outcome hired --at 2025-03-01", 3
    ),
    # 5: conflict, two processes on one account.
    "conflict: overtaken twice (exit 5)": Case(
        "contact {H} --channel phone --outcome no_answer --at 2025-03-01",
        5,
        patch=_always_overtaken,
    ),
    # 6: storage unavailable or misconfigured.
    "storage: the folder does not exist (exit 6)": Case(
        register("BX", "workport", "2025-03-01"),
        6,
        db="sqlite:////nonexistent/dir/x.db",
    ),
    "storage: no such SQLite file": Case("show {W}", 6, db="sqlite:///{tmp}/typo.db"),
    "storage: a folder where the file should be": Case(
        "show {W}", 6, db="sqlite:///{tmp}"
    ),
    "storage: unsupported URL scheme": Case(
        "show {W}", 6, db="mysql://clerk:hunter2@127.0.0.1:3306/seekers"
    ),
    # 130: interrupted.
    "interrupted (exit 130)": Case(
        "simulate --seekers 3 --years 1",
        130,
        db="{side:interrupted}",
        patch=_interrupted,
    ),
}

REPORTS: dict[str, Case] = {
    **{
        name: Case(
            f"report {name}"
            + ("" if name in UNDATED else " --from 2025-01-01 --to 2025-12-31")
        )
        for name in REPORTS
    },
    "withdrawals (no rows)": Case(
        "report withdrawals --from 2030-01-01 --to 2030-12-31"
    ),
    "usage: a period given to a report of now": Case(
        "report status --from 2025-01-01", 2
    ),
    "bad value: --from after --to": Case(
        "report withdrawals --from 2025-12-31 --to 2025-01-01", 2
    ),
}


@dataclass
class Agency:
    """The scenario's store, its accounts and every build step's result."""

    db_url: str
    folder: Path
    ids: dict[str, str] = field(default_factory=dict)
    built: dict[str, tuple[Run, CliResult]] = field(default_factory=dict)

    def fill(self, text: str) -> str:
        text = re.sub(
            r"\{side:([\w-]+)\}", lambda m: f"sqlite:///{self.folder}/{m[1]}.db", text
        )
        return text.replace("{tmp}", str(self.folder)).format(**self.ids)

    def run_of(self, case: Case) -> Run:
        for key in re.findall(r"\{([A-Z0-9]+)\}", case.argv):
            if key not in self.ids:
                pytest.fail(f"the scenario could not register account {key}", False)
        return Run(
            [self.fill(a) for a in shlex.split(case.argv)],
            case.code,
            db=self.fill(case.db) if case.db else None,
            pages=[self.folder / p for p in case.pages],
            texts=[self.folder / t for t in case.texts],
            diagrams=[self.folder / d for d in case.diagrams],
            stop_with_sigterm=case.sigterm,
        )

    def run(self, run: Run, *, as_json: bool = False) -> CliResult:
        return run_japanese(run, self.db_url, as_json=as_json)

    def english(self, run: Run) -> CliResult:
        try:
            return run_cli(
                ["--json", *run.argv], db_url=run.db or self.db_url, actor=run.actor
            )
        finally:
            i18n.activate("en")

    def build(self) -> None:
        for name, text in FILES.items():
            (self.folder / name).write_text(text, encoding="utf-8")
        for name, case in BUILD.items():
            run = self.run_of(case)
            result = self.run(run)
            self.built[name] = (run, result)
            if case.account is not None and result.code == 0:
                self.ids[case.account] = self._id_of(case.account)

    def _id_of(self, key: str) -> str:
        found = run_cli(
            ["--json", "find", "--email", f"{key.lower()}@example.jp"],
            db_url=self.db_url,
        )
        assert found.code == 0, found.stderr
        accounts = found.json()["accounts"]
        assert len(accounts) == 1, accounts
        return str(accounts[0]["id"])


@pytest.fixture(scope="module")
def agency(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agency]:
    folder = tmp_path_factory.mktemp("japanese")
    store = Agency(f"sqlite:///{folder / 'seekers.db'}", folder)
    environment = pytest.MonkeyPatch()
    environment.setenv("SEEKERS_MASTER_KEY", TEST_MASTER_KEY)
    environment.setenv("LANGUAGE", "en")
    try:
        store.build()
        yield store
    finally:
        environment.undo()
        i18n.activate("en")


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    i18n.activate("en")


# ============================================================================
# The tests
# ============================================================================


def _run_case(
    agency: Agency, name: str, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = agency.run_of(case)
    if case.patch is not None:
        case.patch(monkeypatch)
    check_japanese(name, run, agency.run(run))


@pytest.mark.parametrize("name", list(BUILD))
def test_recording_and_writing_commands_speak_japanese(
    agency: Agency, name: str
) -> None:
    run, result = agency.built[name]
    check_japanese(name, run, result)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_reading_and_operating_commands_speak_japanese(
    agency: Agency, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run_case(agency, name, COMMANDS[name], monkeypatch)


@pytest.mark.parametrize("command", HELP)
def test_help_speaks_japanese(agency: Agency, command: str) -> None:
    path = command.split()[1:] if command == "seekers" else command.split()
    run = Run([*path, "--help"])
    check_japanese(f"{command} --help", run, agency.run(run))


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refusals_speak_japanese(
    agency: Agency, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run_case(agency, name, REFUSALS[name], monkeypatch)


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_speak_japanese(
    agency: Agency, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run_case(agency, name, ERRORS[name], monkeypatch)


@pytest.mark.parametrize("name", list(REPORTS))
def test_reports_speak_japanese(
    agency: Agency, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run_case(agency, name, REPORTS[name], monkeypatch)


JSON_CASES = [
    *(
        (name, REFUSALS[name])
        for name in (
            "state: withdraw from active",
            "state: apply when purged (allowed: nothing)",
            "application: decline an interview never scheduled",
            "guard: pausing not offered (hellowork)",
            "guard: open self-application blocks withdrawal",
            "guard: identity check required",
            "guard: self-service reinstatement on day 31",
            "guard: the email is already registered",
        )
    ),
    *(
        (name, ERRORS[name])
        for name in (
            "usage: missing option",
            "bad value: a date that does not exist",
            "bad value: unknown policy",
            "not found: unknown seeker (exit 3)",
            "conflict: overtaken twice (exit 5)",
            "storage: the folder does not exist (exit 6)",
        )
    ),
]


@pytest.mark.parametrize(("name", "case"), JSON_CASES, ids=[n for n, _ in JSON_CASES])
def test_json_errors_translate_the_message_and_nothing_else(
    agency: Agency, name: str, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = agency.run_of(case)
    if case.patch is not None:
        case.patch(monkeypatch)
    english = agency.english(run)
    japanese = agency.run(run, as_json=True)
    check_json_error(name, run, english, japanese, VOCABULARY)


def check_json_error(
    name: str,
    run: Run,
    english: CliResult,
    japanese: CliResult,
    vocabulary: Vocabulary,
) -> None:
    """``code``, ``state`` and ``allowed`` as in English; ``message`` Japanese."""
    problems: list[str] = []
    for label, result in (("English", english), ("Japanese", japanese)):
        if result.code != run.code or result.stdout:
            problems.append(
                f"{label} run: exit {result.code} (expected {run.code}), "
                f"stdout {result.stdout[:200]!r}"
            )
    try:
        expected = english.error()["error"]
        error = japanese.error()["error"]
    except (ValueError, KeyError, TypeError) as broken:
        pytest.fail(
            f"[{name}] not one JSON error document ({broken}): "
            f"{english.stderr!r} / {japanese.stderr!r}",
            False,
        )
    for key in ("code", "state", "allowed"):
        if error.get(key) != expected.get(key):
            problems.append(
                f"{key} changed with the language: {expected.get(key)!r} in "
                f"English, {error.get(key)!r} in Japanese"
            )
    if set(error) != set(expected):
        problems.append(f"fields {sorted(expected)} became {sorted(error)}")
    message = str(error.get("message", ""))
    words = english_words(message, vocabulary)
    if words or not _is_japanese(message):
        problems.append(f"  message: {message}")
        problems.append(f"      -> {', '.join(words) or 'no Japanese in it'}")
    if problems:
        shown = _shown(["--json", *run.argv])
        pytest.fail(f"[{name}] {shown}\n" + "\n".join(problems), False)


def test_every_command_in_the_tree_has_a_case() -> None:
    """A new command joins the cases, or this fails."""
    argvs = [
        shlex.split(case.argv)
        for table in (BUILD, COMMANDS, REPORTS, REFUSALS)
        for case in table.values()
    ]
    argvs += [shlex.split(argv) for _, argv in PG_BUILD]
    covered = {tuple(argv[:length]) for argv in argvs for length in (1, 2)}
    missing = [" ".join(path) for path in RUNNABLE if path not in covered]
    assert not missing, f"commands no case runs: {missing}"
    assert len(HELP) == len(COMMAND_PATHS) + 1


# ============================================================================
# PostgreSQL: roles, migrate, forbidden (7), unreachable (6), run, --read-db
# ============================================================================

PASSWORD = "leak-test-pw"

PG_BUILD: list[tuple[str, str]] = [
    ("migrate", "migrate"),
    ("roles (not installed)", "roles"),
    ("roles install", "roles install"),
    ("roles grant", "roles grant seekers_reporter {login}"),
    ("roles", "roles"),
    ("roles revoke", "roles revoke seekers_reporter {spare}"),
]
"""Run in this order by the owner of a fresh database; each is a case."""


@dataclass
class PgAgency:
    owner_url: str
    login: str
    spare: str
    login_url: str
    seeker: str
    built: dict[str, tuple[Run, CliResult]]

    @property
    def vocabulary(self) -> Vocabulary:
        return VOCABULARY.with_codes(self.login, self.spare)


def _login_url(url: str, login: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{login}:{PASSWORD}@{host}"))


@pytest.fixture(scope="module")
def pg_agency(postgres_server_url: str) -> Iterator[PgAgency]:
    with fresh_postgres_database(postgres_server_url) as url:
        tag = urlsplit(url).path.lstrip("/")
        login, spare = f"reporter_{tag}", f"spare_{tag}"
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"CREATE ROLE \"{login}\" LOGIN PASSWORD '{PASSWORD}'")
            connection.execute(f'CREATE ROLE "{spare}" NOLOGIN')
        try:
            built: dict[str, tuple[Run, CliResult]] = {}
            for name, argv in PG_BUILD:
                filled = argv.format(login=login, spare=spare)
                run = Run(shlex.split(filled), db=url)
                built[name] = (run, run_japanese(run, url))
            done = run_cli(
                ["--json", *shlex.split(register("PG", "workport"))],
                db_url=url,
                actor="窓口担当",
                env={"SEEKERS_MASTER_KEY": TEST_MASTER_KEY},
            )
            assert done.code == 0, done.stderr
            seeker = str(done.json()["id"])
            yield PgAgency(url, login, spare, _login_url(url, login), seeker, built)
        finally:
            i18n.activate("en")
            with psycopg.connect(postgres_server_url, autocommit=True) as connection:
                for role in (login, spare):
                    connection.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.postgres
@pytest.mark.parametrize("name", [name for name, _ in PG_BUILD])
def test_roles_and_migrate_speak_japanese(pg_agency: PgAgency, name: str) -> None:
    run, result = pg_agency.built[name]
    check_japanese(name, run, result, pg_agency.vocabulary)


def _pg_runs(pg: PgAgency) -> dict[str, Run]:
    parts = urlsplit(pg.owner_url)
    closed = parts._replace(
        netloc=f"{parts.username}:{parts.password}@127.0.0.1:{closed_port()}"
    )
    absent = parts._replace(path=f"/t_absent_{uuid.uuid4().hex[:8]}")
    return {
        "forbidden: the reporter may not apply (exit 7)": Run(
            ["apply", pg.seeker, "--job", "事務職", "--at", "2025-03-01"],
            7,
            db=pg.login_url,
        ),
        "not found: grant to a login that does not exist": Run(
            ["roles", "grant", "seekers_operator", "存在しない"], 3
        ),
        "storage: the server cannot be reached (exit 6)": Run(
            ["show", pg.seeker], 6, db=urlunsplit(closed)
        ),
        "storage: no such database": Run(["show", pg.seeker], 6, db=urlunsplit(absent)),
        "projections run (PostgreSQL: subscription)": Run(
            ["projections", "run"], stop_with_sigterm=True
        ),
        "show (PostgreSQL)": Run(["show", pg.seeker]),
        "history (PostgreSQL: via login)": Run(["history", pg.seeker]),
    }


PG_CASES = [
    "forbidden: the reporter may not apply (exit 7)",
    "not found: grant to a login that does not exist",
    "storage: the server cannot be reached (exit 6)",
    "storage: no such database",
    "projections run (PostgreSQL: subscription)",
    "show (PostgreSQL)",
    "history (PostgreSQL: via login)",
]


@pytest.mark.postgres
@pytest.mark.parametrize("name", PG_CASES)
def test_postgresql_commands_and_errors_speak_japanese(
    pg_agency: PgAgency, name: str
) -> None:
    run = _pg_runs(pg_agency)[name]
    result = run_japanese(run, pg_agency.owner_url)
    check_japanese(name, run, result, pg_agency.vocabulary)


@pytest.mark.postgres
def test_forbidden_in_json_translates_the_message_only(pg_agency: PgAgency) -> None:
    name = "forbidden: the reporter may not apply (exit 7)"
    run = _pg_runs(pg_agency)[name]
    english = run_cli(["--json", *run.argv], db_url=run.db, actor=run.actor)
    japanese = run_japanese(run, pg_agency.owner_url, as_json=True)
    check_json_error(name, run, english, japanese, pg_agency.vocabulary)


READS = ("show", "history", "list", "report status")


@pytest.mark.postgres
def test_read_db_on_a_hot_standby_speaks_japanese(standby_pair: StandbyPair) -> None:
    """``--read-db`` (``--fresh``) for the read commands, and a write sent to
    the standby itself; every run's leaks together."""
    primary, standby = standby_pair.primary_url, standby_pair.standby_url
    done = run_cli(
        ["--json", *shlex.split(register("RD", "workport"))],
        db_url=primary,
        actor="窓口担当",
        env={"SEEKERS_MASTER_KEY": TEST_MASTER_KEY},
    )
    assert done.code == 0, done.stderr
    seeker = str(done.json()["id"])
    reads = ["--read-db", standby, "--fresh"]
    runs = {
        "show": Run([*reads, "show", seeker]),
        "history": Run([*reads, "history", seeker]),
        "list": Run([*reads, "list"]),
        "report status": Run([*reads, "report", "status"]),
        "a write sent to the standby": Run(
            ["lapse", seeker, "--at", "2025-03-01"], 6, db=standby
        ),
    }
    failures = []
    for name, run in runs.items():
        try:
            check_japanese(f"--read-db: {name}", run, run_japanese(run, primary))
        except pytest.fail.Exception as failed:
            failures.append(str(failed))
    if failures:
        pytest.fail("\n\n".join(failures), False)


# ============================================================================
# The detector itself
# ============================================================================


@pytest.mark.parametrize(
    "line",
    [
        "拒否: 状態「休止中」では withdraw できません"
        "（可能: resume, request-withdrawal）",
        "求職者 0b9a6a0e-6c4f-4f5e-9a57-0e3b6b8f2f11（ポリシー hellowork、版 3）",
        "応募 A1 は面接日程調整中です (2025-01-17T23:30:00+09:00)",
        "使い方: seekers pause [OPTIONS] SEEKER",
        "  --at T      発生日時 (YYYY-MM-DD)。SEEKERS_DB を参照します。",
        "エラー: '--channel' の値が正しくありません: 'ファックス' は "
        "'web', 'counter' のいずれでもありません。",
        "次から選んでください: web, counter, phone, email, form, app",
        "  --route [self|agency]  応募経路",
        "保存先に接続できません: postgresql://clerk:***@127.0.0.1:5432/seekers",
        "/tmp/pytest-1/japanese0/seekers.db を開けません",
        '書き出しました {"id": "x", "status": "active"}',
        "ログイン 'reporter_t_1' は purge できません（必要なロール: seekers_privacy）",
        "チェックポイント SHA-256 ルート q5F2m9Qx0pWz3H8Yk1LrT6sV4uN7bJcA= (RFC 9162)",
        "PostgreSQL のホットスタンバイ (Asia/Tokyo)、JSON Lines または CSV",
        "鍵 6f1d3c2a9b4e5a7d を使います",
        "--channel web で退会申請しました",
        "  --route [self|agency]  [既定値: agency]",
        "accounts の追いつき処理: イベント 3件（report withdrawals）",
        "retention_years には1から100までの整数を指定してください",
        "プリセット: hellowork、または .toml ファイルのパス（ない.csv）",
        "経路：Web（マイページ）",
        "5行目: フィールド 'job' がありません",
        "検証鍵: seekers-audit+e8324542+ATQgaawxoOzcFHKCodmF7IlXNI（署名付き形式）",
    ],
)
def test_the_detector_lets_what_may_stay_ascii_through(line: str) -> None:
    vocabulary = VOCABULARY.with_codes("reporter_t_1")
    assert english_words(line, vocabulary) == []


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (
            "refused: cannot withdraw from state 'paused' (allowed: resume)",
            ["refused", "cannot", "from", "state", "allowed"],
        ),
        ("  状態        active since 2025年1月15日", ["active", "since"]),
        ("状態: withdrawal_requested", ["withdrawal_requested"]),
        ("退会申請 (ポリシー pasona: web)", ["web"]),
        ("recorded: Registered", ["recorded", "Registered"]),
        ("Show this message and exit.", ["Show", "this", "message", "and", "exit"]),
        ("応募A1をclosedにしました", ["closed"]),
        ("理由: job_found, 他社", ["job_found"]),
        ("in 0.12 s", ["in"]),
    ],
)
def test_the_detector_catches_english(line: str, words: list[str]) -> None:
    assert english_words(line) == words


def test_the_detector_reads_the_labels_of_a_diagram() -> None:
    source = (
        "stateDiagram-v2\n    %% Rulebook of the lifecycle\n    direction LR\n"
        '    state "アカウント" as account {\n        [*] --> unregistered\n'
        '        state "active" as active\n        active : 応募\n'
        "        active --> paused : pause [policy_offers_pausing]\n    }\n"
    )
    found = leaks_in("diagram", diagram_text(source), VOCABULARY)
    assert [leak.words for leak in found] == [
        ["Rulebook", "of", "the", "lifecycle"],
        ["active"],
        ["policy_offers_pausing"],
    ]


def test_the_detector_reads_the_labels_of_a_graphviz_diagram() -> None:
    source = (
        'digraph { label="Rulebook ルールブック"\n'
        '  active [label=<<table><tr><td><font point-size="12">登録中</font></td>'
        "</tr><tr><td><font>apply [policy_has_advisors]</font></td></tr>"
        "</table>>, shape=rectangle];\n"
        '  active -> paused [label="pause"];\n}\n'
    )
    found = leaks_in("diagram", dot_text(source), VOCABULARY)
    assert [leak.words for leak in found] == [["Rulebook"], ["policy_has_advisors"]]


def test_the_detector_reads_the_text_of_a_page() -> None:
    page = (
        "<html lang='ja'><head><title>報告</title><style>p{color:red}</style>"
        "<script>var label = 'Withdrawals';</script></head>"
        "<body><h1>Withdrawals by month</h1><img alt='退会の推移'><p>退会</p>"
        "</body></html>"
    )
    found = leaks_in("page", page_text(page), VOCABULARY)
    assert [leak.words for leak in found] == [["Withdrawals", "by", "month"]]


def test_every_leak_of_a_run_is_reported_at_once() -> None:
    run = Run(["show", "x"])
    result = CliResult(0, "状態 active\n名前 山田\nlast activity 1月\n", "note: x\n")
    with pytest.raises(pytest.fail.Exception) as failed:
        check_japanese("example", run, result)
    message = str(failed.value)
    assert "3 line(s) with English" in message
    for reported in ("-> active", "-> last, activity", "-> note"):
        assert reported in message
