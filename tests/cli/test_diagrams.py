"""``seekers policies --diagram``: the rulebook drawn from the compiled rules.

The expected arrows are computed here from ``domain.rules`` and
``policy_refusal`` and compared with what the command draws, so a machine
change, a new policy guard or a new preset is checked without a hand list.
Graphviz (``dot``) is part of the environment (``make browser`` installs it):
these tests never skip.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from domain.guards import policy_refusal
from domain.policy import PRESETS, Policy, load_policy
from domain.rules import ACCOUNT, APPLICATION, Rules
from tests.helpers import CliResult, run_cli

ROOT = Path(__file__).resolve().parents[2]
ARROW = re.compile(r"^\s*(\w+) --> (\w+) : (\S+)(?: \[(.*)\])?$")
INSIDE = re.compile(r"^\s*(\w+) : (\S+)(?: \[(.*)\])?$")

Edge = tuple[str, str, str, tuple[str, ...]]


def seekers(tmp_path: Path, *args: str) -> CliResult:
    return run_cli(["policies", *args], db_url=f"sqlite:///{tmp_path}/unused.db")


def expected(policy: Policy | None) -> tuple[set[Edge], set[tuple[str, str]]]:
    """Arrows (source, target, command, guards) and in-state commands
    (state, command) of both machines, less what a policy guard refuses."""
    arrows: set[Edge] = set()
    inside: set[tuple[str, str]] = set()
    rules: Rules
    for rules in (ACCOUNT, APPLICATION):
        for state in rules.states:
            for command in rules.allowed(state):
                move = rules.move(state, command)
                if policy is not None and policy_refusal(policy, move.guards):
                    continue
                if move.changes_state:
                    arrows.add((move.source, move.target, move.command, move.guards))
                else:
                    inside.add((move.source, move.command))
    return arrows, inside


def drawn(mermaid: str) -> tuple[set[Edge], set[tuple[str, str]]]:
    """The arrows and in-state commands a Mermaid state diagram declares."""
    arrows: set[Edge] = set()
    inside: set[tuple[str, str]] = set()
    for line in mermaid.splitlines():
        if match := ARROW.match(line):
            source, target, command, guards = match.groups()
            names = tuple(guards.split(", ")) if guards else ()
            arrows.add((source, target, command, names))
        elif (match := INSIDE.match(line)) and not line.strip().startswith("%%"):
            inside.add((match.group(1), match.group(2)))
    return arrows, inside


@pytest.mark.parametrize("name", [None, *PRESETS])
def test_mermaid_draws_the_compiled_rules_less_what_the_policy_forbids(
    tmp_path: Path, name: str | None
) -> None:
    args = ["--diagram", "mermaid"] + ([] if name is None else ["--policy", name])
    result = seekers(tmp_path, *args)
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("stateDiagram-v2\n")
    policy = None if name is None else PRESETS[name]
    assert drawn(result.stdout) == expected(policy)
    if name is None:
        assert "%% No policy" in result.stdout
    else:
        assert f"%% Policy {name}: the moves its policy guards refuse" in result.stdout


def test_the_presets_differ_where_the_rulebook_says() -> None:
    """SPEC §3: HelloWork has no pausing and no advisors; Workport has both."""
    hellowork_arrows, hellowork_inside = expected(PRESETS["hellowork"])
    workport_arrows, workport_inside = expected(PRESETS["workport"])
    pause = ("active", "paused", "pause", ("policy_offers_pausing",))
    assert pause in workport_arrows and pause not in hellowork_arrows
    assert ("active", "change-advisor") in workport_inside
    assert not any(cmd == "change-advisor" for _, cmd in hellowork_inside)
    assert ("active", "change-advisor") in expected(PRESETS["pasona"])[1]


def test_a_policy_file_is_drawn_under_its_own_rules(tmp_path: Path) -> None:
    path = tmp_path / "nopause.toml"
    path.write_text('based_on = "workport"\nname = "nopause"\npausing = false\n')
    result = seekers(tmp_path, "--diagram", "mermaid", "--policy", str(path))
    assert result.code == 0, result.stderr
    assert drawn(result.stdout) == expected(load_policy(str(path)))
    assert " : pause" not in result.stdout


def test_svg_parses_and_names_every_state(tmp_path: Path) -> None:
    result = seekers(tmp_path, "--diagram", "svg", "--policy", "workport")
    assert result.code == 0, result.stderr
    root = ElementTree.fromstring(result.stdout.encode())
    assert root.tag.endswith("svg")
    text = " ".join(t for t in root.itertext())
    for rules in (ACCOUNT, APPLICATION):
        for state in rules.machine.states:
            assert str(state.name) in text, state.id
    assert "Policy workport" in result.stdout  # the header comment


def test_svg_is_drawn_whole(tmp_path: Path) -> None:
    """The SVG's size is its viewBox: a browser shows all of it. (Graphviz
    2.43 drawing an SVG at a dpi other than 72 scales the drawing but not
    the viewBox, and a third of the picture falls outside.)"""
    result = seekers(tmp_path, "--diagram", "svg")
    assert result.code == 0, result.stderr
    root = ElementTree.fromstring(result.stdout.encode())
    _, _, width, height = (float(n) for n in root.attrib["viewBox"].split())
    assert float(root.attrib["width"].removesuffix("pt")) == pytest.approx(width)
    assert float(root.attrib["height"].removesuffix("pt")) == pytest.approx(height)
    graph = root.find("{http://www.w3.org/2000/svg}g")
    assert graph is not None
    assert "scale(1 1)" in graph.attrib["transform"]


def test_png_is_written_to_the_output_file(tmp_path: Path) -> None:
    target = tmp_path / "rulebook.png"
    result = seekers(tmp_path, "--diagram", "png", "--output", str(target))
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == str(target)
    assert target.read_bytes().startswith(b"\x89PNG")


def test_png_needs_an_output_file(tmp_path: Path) -> None:
    result = seekers(tmp_path, "--diagram", "png")
    assert result.code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--output" in result.stderr


def test_dot_source_names_its_policy(tmp_path: Path) -> None:
    result = seekers(tmp_path, "--diagram", "dot", "--policy", "hellowork")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("// Seeker Ledger rulebook")
    assert "digraph" in result.stdout
    body = re.sub(r"(?m)^//.*$", "", result.stdout)
    assert "policy_offers_pausing" not in body
    assert "policy_has_advisors" not in body
    assert "reinstatement_allowed" in body


@pytest.mark.parametrize("fmt", ["svg", "png", "dot"])
def test_missing_graphviz_is_one_line_and_exit_6(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = seekers(tmp_path, "--diagram", fmt, "--output", str(tmp_path / f"r.{fmt}"))
    assert result.code == 6
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "graphviz is not installed (the dot program)" in lines[0]
    assert "apt-get install graphviz" in lines[0]
    assert not (tmp_path / f"r.{fmt}").exists()


def test_mermaid_needs_no_graphviz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = seekers(tmp_path, "--diagram", "mermaid")
    assert result.code == 0, result.stderr


@pytest.mark.parametrize("fmt", ["mermaid", "svg", "png"])
def test_output_in_a_missing_folder_is_exit_2(tmp_path: Path, fmt: str) -> None:
    target = tmp_path / "no" / "such" / f"r.{fmt}"
    result = seekers(tmp_path, "--diagram", fmt, "--output", str(target))
    assert result.code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no such folder" in result.stderr
    assert not target.parent.exists()


def test_output_in_a_read_only_place_is_exit_2(tmp_path: Path) -> None:
    """A folder the user may not write in; root writes anywhere on disk, so
    as root the place is sysfs, where nobody may create a file."""
    if os.geteuid() == 0:
        folder = Path("/sys")
    else:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
    target = folder / "rulebook.mmd"
    result = seekers(tmp_path, "--diagram", "mermaid", "--output", str(target))
    assert result.code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(target) in result.stderr
    assert not target.exists()


def test_unknown_format_is_exit_2(tmp_path: Path) -> None:
    result = seekers(tmp_path, "--diagram", "gif")
    assert result.code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "'gif' is not one of 'mermaid', 'dot', 'svg', 'png'" in result.stderr


LAZY_PROBE = """
import contextlib, importlib, io, sys
from cli.main import COMMANDS, main
for target, _help in COMMANDS.values():
    importlib.import_module(target.split(":")[0])
def run(*argv):
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main(["--db", sys.argv[1], *argv])
        except SystemExit as done:
            assert not done.code, (argv, done.code)
def drawing():
    return sorted(
        name for name in sys.modules
        if name.startswith(("statemachine.contrib.diagram", "pydot", "cli.diagrams"))
    )
run("--help")
run("policies")
run("policies", "--help")
before = drawing()
run("policies", "--diagram", "mermaid")
after = drawing()
print(",".join(before))
print(",".join(name for name in after if name.startswith("pydot")))
print("statemachine.contrib.diagram" in after)
"""


def test_the_drawing_libraries_load_only_for_a_diagram(tmp_path: Path) -> None:
    """Every command module, ``seekers --help`` and ``policies`` without
    ``--diagram`` import neither python-statemachine's diagram package nor
    pydot (nor ``cli.diagrams``); mermaid, which
    needs no Graphviz, imports the diagram package but not pydot."""
    result = subprocess.run(
        [sys.executable, "-c", LAZY_PROBE, f"sqlite:///{tmp_path}/probe.db"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    before, pydot, loaded = result.stdout.splitlines()
    assert before == "", f"imported before any diagram was asked for: {before}"
    assert pydot == "", f"mermaid imported pydot: {pydot}"
    assert loaded == "True"


def test_unknown_policy_is_exit_2(tmp_path: Path) -> None:
    result = seekers(tmp_path, "--diagram", "mermaid", "--policy", "nosuch")
    assert result.code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_policy_and_output_need_diagram(tmp_path: Path) -> None:
    result = seekers(tmp_path, "--policy", "workport")
    assert result.code == 2
    assert "--diagram" in result.stderr


def test_readme_block_is_the_generated_diagram(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### The rulebook, drawn", 1)
    assert len(section) == 2, "README has no 'The rulebook, drawn' section"
    block = re.search(r"```mermaid\n(.*?)```", section[1], re.DOTALL)
    assert block is not None, "no ```mermaid block in 'The rulebook, drawn'"
    result = seekers(tmp_path, "--diagram", "mermaid")
    assert result.code == 0, result.stderr
    assert block.group(1) == result.stdout
