"""``seekers --lang`` (SPEC §5, "Language", issue #21 part 1).

``--lang ja|en`` first, then ``SEEKERS_LANG``, then the locale (``LC_ALL``,
``LC_MESSAGES``, ``LANG``): ``ja_*`` gives Japanese, anything else English.
Exit codes and ``--json`` codes never change with the language.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from cli import main as entry
from domain import i18n
from tests.cli.steps import one_line_failure
from tests.helpers import run_cli


@pytest.fixture(autouse=True)
def english_afterwards(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each run activates its language; leave the process as it was."""
    monkeypatch.setenv("LANGUAGE", "en")
    yield
    i18n.activate("en")


def test_help_in_japanese_is_click_s_texts_from_the_catalog() -> None:
    result = run_cli(["--lang", "ja", "--help"])
    assert result.code == 0
    assert result.stdout.startswith("使い方: seekers [OPTIONS] COMMAND [ARGS]...")
    assert "\nオプション:\n" in result.stdout
    assert "\nコマンド:\n" in result.stdout
    assert "このメッセージを表示して終了します。" in result.stdout
    assert "--lang [en|ja]" in result.stdout and "--era" in result.stdout


def test_a_command_s_help_in_japanese() -> None:
    result = run_cli(["--lang=ja", "pause", "--help"])
    assert result.code == 0
    assert result.stdout.startswith("使い方: seekers pause [OPTIONS] SEEKER")


@pytest.mark.parametrize(
    ("args", "japanese"),
    [
        (["withdraw"], "必須の引数がありません: 'SEEKER'。"),
        (
            ["request-withdrawal", "x"],
            "必須のオプションがありません: '--channel'。"
            "次から選んでください: web, counter, phone, email, form, app",
        ),
        (["nosuch"], "'nosuch' というコマンドはありません。"),
        (["show", "--nosuch"], "'--nosuch' というオプションはありません。"),
        (
            ["request-withdrawal", "x", "--channel", "fax"],
            "'--channel' の値が正しくありません: 'fax' は 'web', 'counter', "
            "'phone', 'email', 'form', 'app' のいずれでもありません。",
        ),
    ],
)
def test_usage_errors_in_japanese_keep_exit_2(args: list[str], japanese: str) -> None:
    line = one_line_failure(run_cli(["--lang", "ja", *args]), 2)
    assert line == f"エラー: {japanese}"


def test_json_errors_keep_their_codes_only_the_message_is_japanese() -> None:
    result = run_cli(["--lang", "ja", "--json", "withdraw"])
    document = json.loads(one_line_failure(result, 2))
    assert document == {
        "error": {"code": 2, "message": "必須の引数がありません: 'SEEKER'。"}
    }
    english = json.loads(one_line_failure(run_cli(["--json", "withdraw"]), 2))
    assert english["error"]["code"] == 2
    assert english["error"]["message"] == "Missing argument 'SEEKER'."


@pytest.mark.parametrize("value", ["fr", ""])
def test_an_unknown_language_is_a_one_line_usage_error(value: str) -> None:
    line = one_line_failure(run_cli(["--lang", value, "show", "x"]), 2)
    assert line.startswith("error: Invalid value for '--lang':")


def test_the_language_is_typed_as_people_type_it() -> None:
    result = run_cli(["--lang", "ＪＡ", "--help"])
    assert result.code == 0
    assert result.stdout.startswith("使い方:")


def test_every_run_chooses_afresh() -> None:
    for args in (["--help"], ["pause", "--help"]):
        assert "Show this message and exit." in run_cli(args).stdout
        japanese = run_cli(["--lang", "ja", *args]).stdout
        assert "このメッセージを表示して終了します。" in japanese
        assert "Show this message and exit." in run_cli(args).stdout
    assert run_cli(["--lang", "ja", "--help"]).stdout.startswith("使い方:")
    assert run_cli(["--help"]).stdout.startswith("Usage:")
    line = one_line_failure(run_cli(["withdraw"]), 2)
    assert line == "error: Missing argument 'SEEKER'."


NO_LANGUAGE: dict[str, str | None] = {
    "SEEKERS_LANG": None,
    "LC_ALL": None,
    "LC_MESSAGES": None,
    "LANG": None,
}


@pytest.mark.parametrize(
    "environment",
    [
        {"SEEKERS_LANG": "ja"},
        {"SEEKERS_LANG": " JA "},
        {"LC_ALL": "ja_JP.UTF-8"},
        {"LC_MESSAGES": "ja_JP.UTF-8", "LANG": "en_US.UTF-8"},
        {"LANG": "ja_JP.UTF-8"},
        {"SEEKERS_LANG": "ja", "LC_ALL": "en_US.UTF-8"},
    ],
)
def test_the_environment_chooses_japanese(environment: dict[str, str]) -> None:
    env = {**NO_LANGUAGE, **environment}
    result = run_cli(["--help"], env=env)
    assert result.stdout.startswith("使い方: seekers [OPTIONS] COMMAND [ARGS]...")
    line = one_line_failure(run_cli(["withdraw"], env=env), 2)
    assert line == "エラー: 必須の引数がありません: 'SEEKER'。"


@pytest.mark.parametrize(
    "environment",
    [
        {},
        {"LANG": "en_US.UTF-8"},
        {"LC_ALL": "C", "LANG": "ja_JP.UTF-8"},  # the first one set decides
        {"SEEKERS_LANG": "en", "LANG": "ja_JP.UTF-8"},
        {"SEEKERS_LANG": "fr"},  # a language we do not speak: English
    ],
)
def test_otherwise_english(environment: dict[str, str]) -> None:
    env = {**NO_LANGUAGE, **environment}
    result = run_cli(["--help"], env=env)
    assert result.stdout.startswith("Usage: seekers [OPTIONS] COMMAND [ARGS]...")


def test_lang_outranks_the_environment() -> None:
    env = {**NO_LANGUAGE, "SEEKERS_LANG": "ja", "LANG": "ja_JP.UTF-8"}
    result = run_cli(["--lang", "en", "withdraw"], env=env)
    assert one_line_failure(result, 2) == "error: Missing argument 'SEEKER'."


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        (["--lang", "ja", "show"], "ja"),
        (["--lang=ja", "show"], "ja"),
        (["--db", "--lang", "show"], None),  # a database called --lang
        (["--json", "--actor", "a", "--lang", "en"], "en"),
        (["show", "--lang", "ja"], None),  # a global option, before the command
        (["--lang"], None),
        (["--lang", "ja", "--lang", "en", "show"], "en"),  # the last, as click
        (["--lang", "show"], "show"),  # click refuses it as a language
        ([], None),
    ],
)
def test_the_language_is_known_before_click_parses(
    argv: list[str], wanted: str | None
) -> None:
    assert entry._wanted_language(argv) == wanted


def test_json_is_still_found_after_a_language() -> None:
    assert entry._wants_json(["--lang", "ja", "--json", "show"])
    assert not entry._wants_json(["--lang", "--json"])  # --json is the value


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LC_ALL": "ja_JP.UTF-8", "LC_MESSAGES": "C", "LANG": "C"}, "ja"),
        ({"LC_MESSAGES": "ja_JP.UTF-8", "LANG": "en_US.UTF-8"}, "ja"),
        ({"LC_MESSAGES": "C", "LANG": "ja_JP.UTF-8"}, "en"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"SEEKERS_LANG": "en", "LANG": "ja_JP.UTF-8"}, "en"),
    ],
)
def test_once_wired_the_environment_follows_the_c_library(
    environ: dict[str, str], expected: str
) -> None:
    assert i18n.choose(None, environ) == expected
    assert i18n.choose("ja", environ) == "ja"  # --lang first, always
