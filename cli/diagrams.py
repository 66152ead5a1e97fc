"""The rulebook drawn: both lifecycles through python-statemachine's diagrams.

``seekers policies --diagram FORMAT`` draws the account and the application
machines in one picture, one box each. The states come from the machines
(python-statemachine's ``extract``); the arrows come from the compiled
:mod:`domain.rules` tables, so the picture shows exactly what the commands
obey: every move, labelled with its CLI command and its guards as
conditions. A move that stays in its state (``apply``, ``contact``…) is
listed inside the state.

With a policy, the moves a *policy guard* refuses under it (HelloWork has no
pausing and no advisors) are left out, asked of
:func:`domain.guards.policy_refusal`, never listed by hand.

This module imports python-statemachine's diagram package, and pydot for
the graphviz formats: the CLI imports it only when a diagram is asked for.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.files import write_output
from domain.glossary import label, policy_name
from domain.guards import policy_refusal
from domain.i18n import N_, _, language
from domain.rules import ACCOUNT, APPLICATION, Move, Rules

if TYPE_CHECKING:
    from statemachine.contrib.diagram.model import DiagramGraph, DiagramState

    from domain.policy import Policy

FORMATS = ("mermaid", "dot", "svg", "png")
TEXT_FORMATS = frozenset({"mermaid", "dot", "svg"})
GRAPHVIZ_MISSING = N_(
    "graphviz is not installed (the dot program): "
    "apt-get install graphviz, or make browser"
)
STORAGE_EXIT = 6


class GraphvizMissing(click.ClickException):
    """``dot`` is not on PATH: exit 6 with one line saying how to get it."""

    exit_code = STORAGE_EXIT

    def __init__(self) -> None:
        super().__init__(_(GRAPHVIZ_MISSING))


def drawn_moves(rules: Rules, policy: Policy | None) -> list[Move]:
    """Every move of ``rules`` in declaration order, less those a policy
    guard refuses under ``policy`` (none are left out without a policy)."""
    return [
        move
        for state in rules.states
        for command in rules.allowed(state)
        if (move := rules.move(state, command))
        and (policy is None or policy_refusal(policy, move.guards) is None)
    ]


def header(policy: Policy | None) -> list[str]:
    """What the picture shows, in words: the first lines of its source."""
    lines = [
        _("Seeker Ledger rulebook: the account and application lifecycles"),
        _("(drawn from the compiled rules by seekers policies; do not edit by hand)."),
        _("Arrows are commands, [conditions] the guards they need;"),
        _("commands listed inside a state keep the state."),
    ]
    if policy is None:
        lines.append(_("No policy: every move of the machines, before policy guards."))
    else:
        lines.append(
            _(
                "Policy {policy}: the moves its policy guards refuse are left out."
            ).format(policy=policy_name(policy.name))
        )
    return lines


STATE_KINDS = {
    ACCOUNT.subject: "account state",
    APPLICATION.subject: "application state",
}
"""The glossary kind of each machine's states."""


def _japanese() -> bool:
    return language() == "ja"


def _command(command: str) -> str:
    """A command as the picture names it: the typed name in English, the
    glossary's term in Japanese."""
    return label("command", command) if _japanese() else command


def _quoted(text: str) -> str:
    """Safe inside a Mermaid ``state "…" as id`` label."""
    return text.replace('"', "#quot;")


def _label(move: Move) -> str:
    return _command(move.command) + (
        f" [{_(', ').join(_guard(name) for name in move.guards)}]"
        if move.guards
        else ""
    )


def _guard(name: str) -> str:
    """A condition as the picture names it: the guard's name in English (as
    ``domain.guards`` declares it), the glossary's term in Japanese."""
    return label("guard", name) if _japanese() else name


def _machine_box(rules: Rules, policy: Policy | None, title: str) -> DiagramState:
    """One machine as a box: its states from python-statemachine's ``extract``,
    the moves that keep a state written inside it."""
    from statemachine.contrib.diagram.extract import extract
    from statemachine.contrib.diagram.model import (
        ActionType,
        DiagramAction,
        DiagramState,
        StateType,
    )

    graph = extract(rules.machine)
    inside: dict[str, list[DiagramAction]] = {}
    for move in drawn_moves(rules, policy):
        if not move.changes_state:
            action = DiagramAction(type=ActionType.INTERNAL, body=_label(move))
            inside.setdefault(move.source, []).append(action)
    kind = STATE_KINDS[rules.subject]
    states = [
        replace(
            state,
            name=_quoted(label(kind, state.id)) if _japanese() else state.name,
            actions=inside.get(state.id, []),
        )
        for state in graph.states
    ]
    return DiagramState(
        id=rules.subject,
        name=title,
        type=StateType.REGULAR,
        children=states,
    )


def rulebook_graph(policy: Policy | None) -> DiagramGraph:
    """Both machines, as python-statemachine's diagram model."""
    from statemachine.contrib.diagram.model import DiagramGraph, DiagramTransition

    boxes = []
    transitions = []
    for rules, title in ((ACCOUNT, _("Account")), (APPLICATION, _("Application"))):
        boxes.append(_machine_box(rules, policy, _quoted(title)))
        transitions += [
            DiagramTransition(
                source=move.source,
                targets=[move.target],
                event=_command(move.command),
                guards=[_(", ").join(_guard(name) for name in move.guards)]
                if move.guards
                else [],
            )
            for move in drawn_moves(rules, policy)
            if move.changes_state
        ]
    name = "rulebook" if policy is None else f"rulebook ({policy.name})"
    return DiagramGraph(
        name=name,
        states=boxes,
        transitions=transitions,
        compound_state_ids={box.id for box in boxes},
    )


def mermaid(policy: Policy | None) -> str:
    """The Mermaid ``stateDiagram-v2`` source, with the header as ``%%`` lines."""
    from statemachine.contrib.diagram.renderers.mermaid import MermaidRenderer

    text = MermaidRenderer().render(rulebook_graph(policy))
    first, rest = text.split("\n", 1)
    comments = "".join(f"    %% {line}\n" for line in header(policy))
    return f"{first}\n{comments}{rest}"


JAPANESE_FONT = "Noto Sans CJK JP"
"""The font Graphviz draws Japanese with (Debian's ``fonts-noto-cjk``, which
``make fonts`` installs); Helvetica has no kana or kanji."""

PNG_DPI = "110"
"""Resolution of ``--diagram png``. Only the PNG gets one: Graphviz 2.43
(Debian's) scales an SVG drawn at a dpi other than 72 but not its viewBox,
so browsers would clip a third of the picture."""


def dot(policy: Policy | None, *, dpi: str | None = None) -> str:
    """The Graphviz source, with the header as ``//`` lines."""
    from statemachine.contrib.diagram.renderers.dot import (
        DotRenderer,
        DotRendererConfig,
    )

    graph_attrs = {"labelloc": "t", "fontsize": "16"}
    if dpi is not None:
        graph_attrs["dpi"] = dpi
    config = DotRendererConfig(
        font_name=JAPANESE_FONT if _japanese() else "Helvetica",
        state_font_size="12",
        transition_font_size="10",
        graph_attrs=graph_attrs,
    )
    graph = DotRenderer(config).render(rulebook_graph(policy))
    if _japanese():
        # A box's title in kanji is wider than "Account": at the left of the
        # box it stays clear of the arrows' labels Graphviz puts mid-top.
        for box in graph.get_subgraph_list():
            box.set("labeljust", "l")
    if policy is None:
        title = _("Seeker Ledger rulebook")
    else:
        title = _("Seeker Ledger rulebook: policy {policy}").format(
            policy=policy_name(policy.name)
        )
    graph.set("label", title)
    comments = "".join(f"// {line}\n" for line in header(policy))
    return comments + str(graph.to_string())


def graphviz(policy: Policy | None, fmt: str) -> bytes:
    """The picture drawn by Graphviz's ``dot`` (``svg`` or ``png``)."""
    from statemachine.contrib.diagram.graphviz import (
        GraphvizError,
        GraphvizNotFoundError,
        run_graphviz,
    )

    if shutil.which("dot") is None:
        raise GraphvizMissing()
    try:
        drawn = run_graphviz(dot(policy, dpi=PNG_DPI if fmt == "png" else None), fmt)
    except GraphvizNotFoundError:
        raise GraphvizMissing() from None
    except GraphvizError as error:
        message = " ".join(str(error).split())
        raise click.ClickException(
            _("graphviz failed: {message}").format(message=message)
        ) from None
    if fmt == "svg":
        return _svg_with_header(drawn, policy)
    return drawn


def _svg_with_header(svg: bytes, policy: Policy | None) -> bytes:
    """The header as an XML comment just after the XML declaration."""
    text = svg.decode("utf-8")
    comment = "<!--\n" + "\n".join(header(policy)).replace("--", "- -") + "\n-->\n"
    if text.startswith("<?xml"):
        declaration, rest = text.split("\n", 1)
        return f"{declaration}\n{comment}{rest}".encode()
    return (comment + text).encode()


def render(fmt: str, policy: Policy | None) -> bytes:
    """The diagram in ``fmt``, as the bytes to print or write. The graphviz
    formats (``dot`` too, so a script gets one answer) need the ``dot``
    program."""
    if fmt == "mermaid":
        return mermaid(policy).encode()
    if shutil.which("dot") is None:
        raise GraphvizMissing()
    if fmt == "dot":
        return dot(policy).encode()
    return graphviz(policy, fmt)


def write(data: bytes, output: Path, *, as_json: bool) -> None:
    """Write ``data`` to ``output`` whole or not at all, as the pages do."""
    write_output(data, output, as_json=as_json)
