"""Refusals and errors in Japanese (SPEC §5 "Language", issue #21), on both
stores: the rule and the state in Japanese, the commands still allowed as
they are typed, the line's first word in Japanese, the exit code of §5
unchanged; with ``--json`` only the ``message`` changes language, the
``code``, ``state`` and ``allowed`` stay the machine's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.steps import fail, one_line_failure, succeed_json
from tests.helpers import run_cli

JA = ["--lang", "ja"]
HELLOWORK_ACTIVE = (
    "mark-unreachable, lapse, request-withdrawal, apply, schedule-interview, "
    "decline-interview, close-application, contact"
)


def register(db_url: str, policy: str, *, at: str = "2025-01-15") -> str:
    account = succeed_json(
        [
            "register",
            "--policy", policy,
            "--name", "山田 太郎",
            "--email", f"taro.{policy}@example.jp",
            "--birth-date", "昭和63年4月2日",
            "--at", at,
        ],
        db_url,
    )  # fmt: skip
    return str(account["id"])


def japanese_failure(db_url: str, args: list[str], code: int) -> str:
    """The one stderr line of a Japanese run that must fail and change nothing."""
    return one_line_failure(fail([*JA, *args], db_url, code), code)


def json_error(db_url: str, args: list[str], *, language: str) -> dict[str, Any]:
    result = run_cli(["--lang", language, "--json", *args], db_url=db_url)
    error: dict[str, Any] = json.loads(result.stderr)["error"]
    return error


def withdrawn_hellowork(db_url: str) -> str:
    seeker = register(db_url, "hellowork")
    for step in (
        ["request-withdrawal", seeker, "--channel", "web", "--at", "2025-01-16"],
        ["withdraw", seeker, "--at", "2025-01-17"],
    ):
        succeed_json(step, db_url)
    return seeker


def test_a_move_the_state_machine_refuses(db_url: str) -> None:
    seeker = register(db_url, "workport")
    succeed_json(["pause", seeker, "--at", "2025-01-16"], db_url)
    line = japanese_failure(db_url, ["apply", seeker, "--job", "事務"], 4)
    assert line == (
        "拒否: 状態「サービス停止中」では apply できません（できる操作: resume, "
        "lapse, request-withdrawal, decline-interview, close-application, "
        "change-advisor）"
    )


def test_a_policy_rule_names_the_policy_and_the_state(db_url: str) -> None:
    seeker = register(db_url, "hellowork")
    line = japanese_failure(db_url, ["pause", seeker, "--at", "2025-01-16"], 4)
    assert line == (
        "拒否: ハローワークの規定ではサービスの停止はできません"
        f"（状態「登録中」、できる操作: {HELLOWORK_ACTIVE}）"
    )


def test_a_channel_the_policy_does_not_offer_is_named_in_japanese(
    db_url: str,
) -> None:
    seeker = register(db_url, "workport")
    line = japanese_failure(
        db_url, ["request-withdrawal", seeker, "--channel", "web"], 4
    )
    assert line.startswith(
        "拒否: 担当アドバイザーがいない場合、Web（マイページ）での退会は受け付けて"
        "いません（ワークポートの規定: 電話、メール、フォーム、アプリ）（状態「登録中」"
    )


def test_self_service_reinstatement_on_day_30_and_refused_on_day_31(
    db_url: str,
) -> None:
    """HelloWork: 30 days from the withdrawal (2025-01-17 00:00 Tokyo)."""
    seeker = withdrawn_hellowork(db_url)
    line = japanese_failure(db_url, ["reinstate", seeker, "--at", "2025-02-17"], 4)
    assert line == (
        "拒否: 本人による利用再開の期限を過ぎています: 退会から31日目で、期限は"
        "30日です（ハローワークの規定）（スタッフは --assisted で利用再開できます）"
        "（状態「退会済み」、できる操作: reinstate, purge）"
    )
    reinstated = succeed_json(["reinstate", seeker, "--at", "2025-02-16T23:59"], db_url)
    assert reinstated["status"] == "active"


def test_a_purge_before_retention_ends_gives_the_day_in_japanese(
    db_url: str,
) -> None:
    seeker = withdrawn_hellowork(db_url)
    line = japanese_failure(
        db_url,
        ["purge", seeker, "--reason", "retention_expired", "--at", "2025-01-18"],
        4,
    )
    assert line.startswith(
        "拒否: 保存期間が終わっていません: 削除できるのは 2030年1月17日 0:00 から"
        "です（ハローワークの規定）"
    )


def test_an_email_already_registered_says_until_when_to_reinstate(
    db_url: str,
) -> None:
    withdrawn_hellowork(db_url)
    line = japanese_failure(
        db_url,
        [
            "register", "--policy", "hellowork", "--name", "山田 太郎",
            "--email", "taro.hellowork@example.jp", "--birth-date", "1988-04-02",
            "--at", "2025-01-20",
        ],
        4,
    )  # fmt: skip
    assert line.startswith("拒否: このメールアドレスはハローワークの規定ですでに登録")
    assert line.endswith(
        "は退会済みです。reinstate を使ってください（本人による利用再開は"
        "2025年2月16日まで）"
    )


def test_an_application_refusal_names_the_application_state(db_url: str) -> None:
    seeker = register(db_url, "pasona")
    succeed_json(["apply", seeker, "--job", "経理", "--at", "2025-01-16"], db_url)
    succeed_json(
        ["close-application", seeker, "A1", "--outcome", "hired", "--at", "2025-01-17"],
        db_url,
    )
    line = japanese_failure(
        db_url,
        ["close-application", seeker, "A1", "--outcome", "rejected"],
        4,
    )
    assert line.startswith("拒否: 応募 A1: close-application できません（応募の状態「")
    assert line.endswith("」、できる操作: なし）")


def test_not_found_and_bad_values_in_japanese(db_url: str) -> None:
    register(db_url, "hellowork")
    nobody = "00000000-0000-4000-8000-000000000000"
    assert japanese_failure(db_url, ["show", nobody], 3) == (
        f"見つかりません: 該当する求職者がいません: {nobody}"
    )
    line = japanese_failure(
        db_url,
        [
            "register", "--policy", "hellowork", "--name", "佐藤 花子",
            "--email", "hanako@example.jp", "--birth-date", "平成31年5月1日",
        ],
        2,
    )  # fmt: skip
    assert line == (
        "エラー: '平成31年5月1日' は日付として読めません: 2019年5月1日 は平成の終わり"
        "より後です。平成は平成元年1月8日から平成31年4月30日までです"
    )
    assert japanese_failure(
        db_url,
        [
            "register", "--policy", "hellowork", "--name", "佐藤 花子",
            "--email", "hanako", "--birth-date", "1990-01-01",
        ],
        2,
    ) == "エラー: メールアドレスではありません: 'hanako'"  # fmt: skip


def test_a_store_that_cannot_be_opened(db_url: str, tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path}/no/such/folder/seekers.db"
    line = japanese_failure(db_url, ["--db", missing, "list"], 6)
    assert line.startswith(f"ストレージを利用できません: {missing}: ")
    assert "データベースがありません" in line


@pytest.mark.parametrize("policy", ["hellowork", "workport"])
def test_json_errors_translate_only_the_message(db_url: str, policy: str) -> None:
    seeker = register(db_url, policy)
    args = ["reinstate", seeker]
    english = json_error(db_url, args, language="en")
    japanese = json_error(db_url, args, language="ja")
    assert english["message"].startswith("cannot reinstate from state 'active'")
    assert japanese["message"].startswith("状態「登録中」では reinstate できません")
    assert {k: v for k, v in japanese.items() if k != "message"} == {
        k: v for k, v in english.items() if k != "message"
    }
    assert japanese["code"] == 4 and japanese["state"] == "active"


def test_english_stays_as_it_was(db_url: str) -> None:
    seeker = register(db_url, "hellowork")
    result = run_cli(["pause", seeker, "--at", "2025-01-16"], db_url=db_url)
    assert one_line_failure(result, 4) == (
        "refused: policy hellowork does not offer pausing "
        f"(state 'active', allowed: {HELLOWORK_ACTIVE})"
    )


def test_a_policy_file_that_is_not_toml_says_where_it_stops(
    db_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "東京支店.toml"
    broken.write_text('name = "東京支店"\nbased_on = \n', encoding="utf-8")
    args = [
        "register", "--policy", str(broken), "--name", "佐藤 花子",
        "--email", "hanako@example.jp", "--birth-date", "1990-01-01",
    ]  # fmt: skip
    assert japanese_failure(db_url, args, 2) == (
        f"エラー: {broken}: TOML として正しくありません: 2行目、12文字目"
    )
    english = one_line_failure(run_cli(args, db_url=db_url), 2)
    assert (
        english
        == f"error: {broken}: not valid TOML: Invalid value (at line 2, column 12)"
    )


def test_a_database_path_that_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "seekers.db"
    folder.mkdir()
    url = f"sqlite:///{folder}"
    japanese = run_cli([*JA, "register", "--policy", "hellowork", "--name", "佐藤",
                        "--email", "h@example.jp", "--birth-date", "1990-01-01"],
                       db_url=url)  # fmt: skip
    assert one_line_failure(japanese, 6) == (
        f"ストレージを利用できません: {url}: データベースファイルを開けません"
    )


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_group_without_its_subcommand_shows_its_help(language: str) -> None:
    """Exit 2 with the group's help as click lays it out, not one squashed
    line; ``--json`` gets click's one-line reason."""
    shown = run_cli(["--lang", language, "audit"])
    assert shown.code == 2 and shown.stdout == ""
    lines = shown.stderr.splitlines()
    assert lines[0] == {"en": "Usage:", "ja": "使い方:"}[language] + (
        " seekers audit [OPTIONS] COMMAND [ARGS]..."
    )
    assert any(line.lstrip().startswith("verify ") for line in lines)
    as_json = run_cli(["--lang", language, "--json", "audit"])
    assert as_json.code == 2
    assert json.loads(as_json.stderr) == {
        "error": {
            "code": 2,
            "message": {
                "en": "Missing command.",
                "ja": "コマンドが指定されていません。",
            }[language],
        }
    }
