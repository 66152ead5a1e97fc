"""No input ends in a traceback, and a failure writes nothing.

Hypothesis throws arbitrary text (including bytes that are not UTF-8, as
Python hands them over, and control characters) and extreme numbers and
dates at every option of every command, and asserts what SPEC §5 promises:
an exit code from the table (0, 2, 3, 4, 6), at most one line on stderr,
never a Python traceback, and no event recorded by a command that failed.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import COMMANDS, cli
from tests.helpers import run_cli, seekers_env, seekers_script

EXCLUDED = {"projections run"}  # follows the log until stopped
SIZE_OPTIONS = {"--seekers", "--batch-size", "--years", "--round", "--seed"}
EXTREME_NUMBERS = ["0", "-1", "99999999999999999999999", "1e309", "nan", "", " 7"]
EXTREME_TIMES = [
    "0001-01-01",
    "9999-12-31",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-12:00",
    "2025-02-30",
    "2025-01-10T25:00",
    "-2025-01-10",
]
hostile_text = st.one_of(
    st.text(max_size=40),
    st.binary(max_size=24).map(os.fsdecode),  # not UTF-8: lone surrogates
    st.sampled_from(["", " ", "\x00", "\x1b[31m", "\u202e", "a" * 5000, "--help"]),
    st.sampled_from(EXTREME_NUMBERS + EXTREME_TIMES),
)


def _leaf_commands() -> list[tuple[list[str], click.Command]]:
    found: list[tuple[list[str], click.Command]] = []
    context = click.Context(cli)
    for name in sorted(COMMANDS):
        command = cli.get_command(context, name)
        assert command is not None
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                found.append(([name, str(sub.name)], sub))
        else:
            found.append(([name], command))
    return [entry for entry in found if " ".join(entry[0]) not in EXCLUDED]


LEAVES = _leaf_commands()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{folder / 'seekers.db'}"
    os.environ["SEEKERS_MASTER_KEY"] = "c2Vla2Vycy1sZWRnZXItdGVzdC1tYXN0ZXIta2V5ISE="
    done = run_cli(
        ["--json", "register", "--name", "Aya Mori", "--email", "aya@example.jp",
         "--birth-date", "1990-01-01", "--policy", "workport", "--at", "2025-01-10"],
        db_url=url,
    )  # fmt: skip
    assert done.code == 0, done.stderr
    return url, done.json()["id"], folder


def _events(folder: Path) -> int:
    with sqlite3.connect(folder / "seekers.db") as connection:
        return int(
            connection.execute("SELECT count(*) FROM stored_events").fetchone()[0]
        )


@st.composite
def invocations(draw: st.DrawFn, seeker: str, folder: Path) -> list[str]:
    path, command = draw(st.sampled_from(LEAVES))
    argv = list(path)
    for parameter in command.params:
        if isinstance(parameter, click.Argument):
            argv.append(draw(st.one_of(st.just(seeker), st.just("A1"), hostile_text)))
    options = [p for p in command.params if isinstance(p, click.Option)]
    for option in (
        draw(st.lists(st.sampled_from(options), max_size=4)) if options else []
    ):
        flag = option.opts[0]
        if option.is_flag:
            argv.append(flag)
            continue
        if isinstance(option.type, click.Path) or flag in ("--output", "--export"):
            value = str(folder / "out" / draw(st.sampled_from(["a", "b/c", ""])))
        elif flag in SIZE_OPTIONS:
            value = draw(st.sampled_from(EXTREME_NUMBERS))  # never a huge valid run
        else:
            value = draw(hostile_text)
        argv += [flag, value]
    return argv


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_every_option_takes_any_input_without_a_traceback(
    store: tuple[str, str, Path], data: st.DataObject
) -> None:
    url, seeker, folder = store
    argv = data.draw(invocations(seeker, folder))
    before = _events(folder)
    result = run_cli(argv, db_url=url)
    assert "Traceback" not in result.stderr, (argv, result.stderr)
    assert result.code in (0, 1, 2, 3, 4, 6), (argv, result.code, result.stderr)
    if result.code == 1:  # only an audit's findings, never a crash
        assert argv[0] == "audit", (argv, result.stderr)
    if result.code != 0:
        assert len(result.stderr.strip().splitlines()) <= 1, (argv, result.stderr)
        if argv[0] != "audit":
            assert _events(folder) == before, (argv, result.stderr)


@pytest.mark.parametrize(
    "argv",
    [
        ["--db", "postgresql://u@[::1/db", "list"],
        ["--db", "postgresql://u:p@host:99999999/db", "list"],
        ["--db", "mysql://x", "list"],
        ["--db", "sqlite:///", "list"],
        [
            "--db",
            "sqlite:////nonexistent/dir/x.db",
            "register",
            "--name",
            "A",
            "--email",
            "a@b.jp",
            "--birth-date",
            "1990-01-01",
            "--policy",
            "workport",
        ],
        ["--actor", "evil\x1b[2J", "list"],
        ["list", "--status", os.fsdecode(b"\xff\xfe")],
    ],
)
def test_malformed_urls_and_settings_are_one_line(argv: list[str]) -> None:
    result = run_cli(argv)
    assert result.code in (2, 6), result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("breaking", ["\n", "\r", "\t", "\u2028", "\x85"])
@pytest.mark.parametrize("given", ["option", "environment"])
def test_an_actor_with_a_line_break_is_refused_and_writes_nothing(
    tmp_path: Path, breaking: str, given: str
) -> None:
    """Who acted is a cell of ``history``: a line break there drew a second
    row, which could read as an event that never happened (a purge by a
    director). Refused (exit 2) before anything is opened."""
    actor = f"kato{breaking}3  2025-01-20  director  Purged"
    argv = ["register", "--name", "A", "--email", "a@b.jp", "--birth-date",
            "1990-01-01", "--policy", "workport"]  # fmt: skip
    url = f"sqlite:///{tmp_path / 'seekers.db'}"
    if given == "option":
        code, stderr = (
            (result := run_cli(argv, db_url=url, actor=actor)).code,
            result.stderr,
        )
    else:
        env = {**seekers_env(), "SEEKERS_DB": url, "SEEKERS_ACTOR": actor}
        ran = subprocess.run(
            [seekers_script(), *argv], env=env, capture_output=True, text=True
        )
        code, stderr = ran.returncode, ran.stderr
    assert code == 2, stderr
    [line] = stderr.strip().splitlines()
    if breaking == "\r":  # a control character: refused before any option
        assert line.endswith("holds a control character (0x0d)"), line
    else:
        assert line == (
            "error: Invalid value for '--actor' / SEEKERS_ACTOR: who acted is one "
            "line, without tabs or line breaks"
        )
    assert list(tmp_path.iterdir()) == []
