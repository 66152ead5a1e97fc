"""``--help`` in the run's language (SPEC §5, "Language"; issue #21).

The help texts are written in English where each command is defined (its
docstring, ``help=`` on its options), unmarked, and the same command objects
serve every run of a process (tests run English, then Japanese, then English
again). So nothing is translated when a command is defined or loaded: each
text is looked up in the catalog (``domain.i18n._``) at the moment click
formats it, by the subclasses below. ``speak_the_run_s_language`` gives a
command, its subcommands and its parameters those subclasses (the texts
themselves are never touched), the way ``cli.params.as_typed_options``
gives them their types.

A text is looked up paragraph by paragraph, as click prints it: after
``inspect.cleandoc`` and cut at ``\\f``; a paragraph click rewraps is looked
up with its whitespace collapsed to single spaces (rewrapping the source
changes nothing), a ``\\b`` paragraph (printed as written) line for line
(``help_messages`` lists the message ids of a text, for the catalog's
test). In English ``_`` returns the message id, and a text none of whose
paragraphs has a translation is handed to click unchanged, so English help
stays byte for byte what click makes of the source.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar
from unicodedata import east_asian_width

import click

from domain import i18n
from domain.i18n import _

NO_REWRAP = "\b"
ELLIPSIS = "…"
_OPENING = "（「『【〔〈《([{"
_CLOSING = "）」』】〕〉》)]}"
HELP_OPTION_HELP = "Show this message and exit."
"""click's own message id for ``--help``'s line (in the catalog with click's
other messages)."""
_NO_LINE_START = (
    _CLOSING + "、。，．・：；？！ー々ぁぃぅぇぉっゃゅょァィゥェォッャュョ:;,.!?%"
)


def _blocks(text: str) -> list[list[str]]:
    """The paragraphs of ``text`` as click's ``wrap_text`` sees them: runs
    of lines between empty lines."""
    blocks: list[list[str]] = []
    block: list[str] = []
    for line in text.splitlines():
        if line:
            block.append(line)
        elif block:
            blocks.append(block)
            block = []
    if block:
        blocks.append(block)
    return blocks


def _verbatim(block: list[str]) -> bool:
    return block[0].strip() == NO_REWRAP


def _message_id(block: list[str]) -> str:
    if _verbatim(block):
        return "\n".join(block[1:])
    return " ".join(" ".join(block).split())


def _printed(text: str) -> str:
    """What click prints of a help text: dedented, cut at the form feed."""
    return inspect.cleandoc(text).partition("\f")[0]


def help_messages(text: str) -> list[str]:
    """The catalog's message ids for help text ``text``, one a paragraph."""
    return [_message_id(block) for block in _blocks(_printed(text))]


def in_language(text: str) -> str:
    """``text`` (a help text) in this run's language, paragraph by
    paragraph; itself, untouched, when no paragraph has a translation."""
    printed = _printed(text)
    paragraphs: list[str] = []
    translated = False
    for block in _blocks(printed):
        message = _message_id(block)
        words = _(message) if message else message
        if words == message:
            paragraphs.append("\n".join(block))
            continue
        translated = True
        if _verbatim(block):
            paragraphs.append(f"{block[0]}\n{words}")
        else:
            indent = block[0][: len(block[0]) - len(block[0].lstrip())]
            paragraphs.append(f"{indent}{words}")
    return "\n\n".join(paragraphs) if translated else text


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: two for each wide (CJK)
    character, one for any other."""
    return sum(2 if east_asian_width(c) in "WF" else 1 for c in text)


def _first_sentence(text: str) -> str:
    """``text`` up to its first 。 outside brackets."""
    depth = 0
    for index, character in enumerate(text):
        if character in _OPENING:
            depth += 1
        elif character in _CLOSING:
            depth = max(depth - 1, 0)
        elif character == "。" and depth == 0:
            return text[: index + 1]
    return text


def _short(text: str, limit: int) -> str | None:
    """The one line a group's command list shows for help ``text``, in this
    run's language: its first paragraph's first sentence, cut to ``limit``
    columns; ``None`` when the paragraph has no translation (click then
    shortens the English)."""
    blocks = _blocks(_printed(text))
    if not blocks:
        return None
    message = _message_id(blocks[0])
    words = _(message) if message else message
    if words == message:
        return None
    line = _first_sentence(" ".join(words.split()))
    if display_width(line) > limit:
        while line and display_width(line + ELLIPSIS) > limit:
            line = line[:-1]
        line += ELLIPSIS
    return line


_ERAS = ("明治", "大正", "昭和", "平成", "令和")
_DATE_UNITS = "年月日時分秒"


def _one_date(before: str, character: str) -> bool:
    """Whether ``character`` continues a date written the Japanese way
    (``令和8年2月2日``, ``元年``): no line breaks inside one."""
    if character in _DATE_UNITS:
        return before.isdigit() or before == "元"
    if character.isdigit() or character == "元":
        return before in _DATE_UNITS or any(era[1] == before for era in _ERAS)
    return any(era == before + character for era in _ERAS)


def _atoms(text: str) -> list[str]:
    """The pieces a line of Japanese may break between: a run of spaces, a
    word of narrow characters, a wide character; closing brackets and punctuation
    stay with what they follow, an opening bracket with what follows it
    (the rules of 禁則処理, simply)."""
    atoms: list[str] = []
    glue = False
    for character in text:
        if character.isspace():
            if atoms and atoms[-1].isspace():
                atoms[-1] += " "
            elif atoms:
                atoms.append(" ")
            glue = False
            continue
        previous = atoms[-1] if atoms else " "
        joins = not previous.isspace() and (
            glue
            or character in _NO_LINE_START
            or display_width(character + previous[-1]) == 2  # both narrow
            or _one_date(previous[-1], character)
        )
        if joins:
            atoms[-1] += character
        else:
            atoms.append(character)
        glue = character in _OPENING
    return atoms


def _fill(text: str, width: int, first: str, rest: str) -> list[str]:
    """``text`` in lines of at most ``width`` columns, the first starting
    with ``first``, the others with ``rest``."""
    lines: list[str] = []
    line, used, empty, space = first, display_width(first), True, ""
    for atom in _atoms(text):
        if atom.isspace():
            space = "" if empty else atom
            continue
        if not empty and used + len(space) + display_width(atom) > width:
            lines.append(line)
            line, used, empty, space = rest, display_width(rest), True, ""
        line += space + atom  # a word longer than a line stays whole
        used += len(space) + display_width(atom)
        empty, space = False, ""
    lines.append(line)
    return lines


def _wrap(text: str, width: int, indent: str = "") -> str:
    """click's ``wrap_text`` (paragraphs kept, ``\\b`` paragraphs as
    written), measured in columns and breaking where Japanese may."""
    paragraphs: list[str] = []
    for block in _blocks(text):
        extra = " " * (len(block[0]) - len(block[0].lstrip()))
        if _verbatim(block):
            paragraphs.append("\n".join(indent + extra + line for line in block[1:]))
            continue
        joined = " ".join([block[0].lstrip(), *block[1:]])
        lines = _fill(joined, width, indent + extra, indent + extra)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


class HelpFormatterInColumns(click.HelpFormatter):
    """click's help formatter, measuring text in terminal columns (a kanji
    takes two) and breaking lines between any two Japanese characters
    (Japanese has no spaces to break at). Used for every language but
    English, whose help stays exactly what click makes of it."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            prefix = "{usage} ".format(usage=_("Usage:"))
        usage_prefix = f"{prefix:>{self.current_indent}}{prog} "
        if not args:
            self.write(usage_prefix.rstrip(" ") + "\n")
            return
        text_width = self.width - self.current_indent
        if text_width >= display_width(usage_prefix) + 20:
            indent = " " * display_width(usage_prefix)
            lines = _fill(args, text_width, usage_prefix, indent)
        else:
            self.write(usage_prefix + "\n")
            indent = " " * (max(self.current_indent, display_width(prefix)) + 4)
            lines = _fill(args, text_width, indent, indent)
        self.write("\n".join(lines) + "\n")

    def write_text(self, text: str) -> None:
        self.write(_wrap(text, self.width, " " * self.current_indent) + "\n")

    def write_dl(
        self,
        rows: Iterable[tuple[str, str]],
        col_max: int = 30,
        col_spacing: int = 2,
    ) -> None:
        rows = list(rows)
        first_col = min(max((display_width(r[0]) for r in rows), default=0), col_max)
        first_col += col_spacing
        text_width = max(self.width - first_col - 2, 10)
        margin = " " * (first_col + self.current_indent)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if display_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - display_width(first)))
            else:
                self.write("\n" + margin)
            lines = _wrap(second, text_width).splitlines() or [""]
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write((margin + line if line else "") + "\n")


class ContextInLanguage(click.Context):
    """A context whose help is laid out by ``HelpFormatterInColumns`` when
    the run does not speak English."""

    def make_formatter(self) -> click.HelpFormatter:
        if i18n.language() == i18n.DEFAULT:
            return super().make_formatter()
        return HelpFormatterInColumns(
            width=self.terminal_width, max_width=self.max_content_width
        )


@contextmanager
def _speaking(thing: Any, attribute: str, words: Any) -> Iterator[None]:
    """``thing.attribute`` reads ``words`` while click formats it, and the
    English source again afterwards (one process, many runs)."""
    source = getattr(thing, attribute)
    setattr(thing, attribute, words)
    try:
        yield
    finally:
        setattr(thing, attribute, source)


class HelpInLanguage(click.Command):
    """A command whose help text, short help and epilog are looked up in
    the catalog as they are printed, and laid out in columns."""

    context_class = ContextInLanguage

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """``--help`` with its own line looked up as it is printed too:
        click words that line once, in the language of the run that first
        builds the option, and keeps the option for every later run."""
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION_HELP
            _mixed_in(option, HelpRecordInLanguage)
        return option

    def format_help_text(
        self, ctx: click.Context, formatter: click.HelpFormatter
    ) -> None:
        if not self.help:
            super().format_help_text(ctx, formatter)
            return
        with _speaking(self, "help", in_language(self.help)):
            super().format_help_text(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        source = self.short_help or self.help
        short = _short(source, limit) if source else None
        if short is None:
            return super().get_short_help_str(limit)
        with _speaking(self, "short_help", short):
            return super().get_short_help_str(limit)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if not self.epilog:
            super().format_epilog(ctx, formatter)
            return
        with _speaking(self, "epilog", in_language(self.epilog)):
            super().format_epilog(ctx, formatter)


class HelpRecordInLanguage(click.Parameter):
    """An option or argument whose help (and a ``show_default`` given as
    words) is looked up in the catalog as its line of help is made; click's
    own additions (``[default: …]``, ``[required]``) come from the catalog
    already."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        with ExitStack() as speaking:
            help_text = getattr(self, "help", None)
            if help_text:
                speaking.enter_context(_speaking(self, "help", in_language(help_text)))
            show_default = getattr(self, "show_default", None)
            if isinstance(show_default, str):
                speaking.enter_context(_speaking(self, "show_default", _(show_default)))
            return super().get_help_record(ctx)


T = TypeVar("T")
_SUBCLASSES: dict[type[Any], type[Any]] = {}


def _mixed_in(thing: T, mixin: type[Any]) -> T:
    """``thing``, its class now a subclass of its own that mixes ``mixin``
    in (one per class, made once); already one, as it was."""
    cls = type(thing)
    if not issubclass(cls, mixin):
        subclass = _SUBCLASSES.get(cls)
        if subclass is None:
            subclass = type(cls.__name__, (mixin, cls), {"__module__": cls.__module__})
            _SUBCLASSES[cls] = subclass
        thing.__class__ = subclass
    return thing


def speak_the_run_s_language(command: click.Command) -> click.Command:
    """Have ``command``, its parameters and its subcommands (all the way
    down) print their help in each run's language; idempotent."""
    _mixed_in(command, HelpInLanguage)
    for param in command.params:
        _mixed_in(param, HelpRecordInLanguage)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            speak_the_run_s_language(sub)
    return command
