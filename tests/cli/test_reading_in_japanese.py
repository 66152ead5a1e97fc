"""The reading side in Japanese (SPEC §5, "Language"; issue #21 §1): ``show``
(and the account view a recording command prints), ``history``,
``policies``, ``list``, every report and ``find`` under ``--lang ja``, with
dates as people write them (``2019年5月1日 0:00``) and, with ``--era``, in
the Japanese era, exact at the Heisei/Reiwa boundary (``平成31年4月30日``,
``令和元年5月1日``); counters (``1件``, ``30日``); and ``--json`` byte for
byte the same whatever the language or the era.

English output is pinned by the rest of the suite; here only that a run in
English after a Japanese one (in one process) is English again, and that an
English table lines up a Japanese name (two columns a wide character).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import pytest

from domain import i18n
from domain.dates_for_people import write_era
from tests.cli.steps import EMAIL, NAME, register_args
from tests.helpers import CliResult, run_cli


@pytest.fixture(autouse=True)
def english_afterwards(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each run chooses its language and era; leave the process as it was."""
    monkeypatch.setenv("LANGUAGE", "en")
    yield
    i18n.activate("en")
    write_era(False)


def ok(args: list[str], db_url: str) -> CliResult:
    result = run_cli(args, db_url=db_url)
    assert result.code == 0, f"{args}: exit {result.code}: {result.stderr}"
    return result


def ja(args: list[str], db_url: str, *, era: bool = False) -> str:
    """``seekers --lang ja [--era] ARGS``: its stdout, after a clean exit
    with nothing on stderr."""
    result = ok(["--lang", "ja", *(["--era"] if era else []), *args], db_url)
    assert result.stderr == "", result.stderr
    return result.stdout


def register(db_url: str, policy: str, at: str, *extra: str) -> str:
    document = ok(["--json", *register_args(policy, at=at, extra=extra)], db_url).json()
    return str(document["id"])


def record(db_url: str, *args: str) -> None:
    ok(["--json", *args], db_url)


def columns(line: str) -> int:
    """The columns ``line`` takes on a terminal (a wide character: two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.fixture
def paused(db_url: str) -> str:
    """A Workport account registered a minute before Reiwa began, with a
    self-application whose final interview is scheduled, then paused."""
    seeker = register(db_url, "workport", "2019-04-30T23:59", "--advisor", "Sato")
    record(
        db_url,
        *("apply", seeker, "--job", "Line cook", "--route", "self"),
        *("--at", "2019-05-01T00:00"),
    )
    record(
        db_url,
        *("schedule-interview", seeker, "A1", "--on", "2019-05-10T10:00"),
        *("--final", "--at", "2019-05-02T09:00"),
    )
    record(db_url, "pause", seeker, "--at", "2019-05-05")
    return seeker


# -- show ----------------------------------------------------------------------


def test_show_in_japanese(db_url: str, paused: str) -> None:
    lines = ja(["show", paused], db_url).splitlines()
    assert lines[:7] == [
        f"求職者 {paused}（ワークポートの規定、バージョン 4）",
        "  状態               サービス停止中（2019年5月5日 0:00 から）",
        f"  氏名               {NAME}",
        f"  メールアドレス     {EMAIL}",
        "  生年月日           1990年4月1日",
        "  担当アドバイザー   Sato",
        "  最終活動日時       2019年5月2日 9:00",
    ]
    assert lines[7:9] == [
        "  応募",
        "    A1   自己応募 面接予定 Line cook  面接 2019年5月10日 10:00（1次・最終）",
    ]
    # The commands as they are typed, each with its name; wrapped under the
    # value's first column.
    assert lines[9].startswith("  実行できる操作     resume（サービスの再開）、")
    allowed = " ".join(line.strip() for line in lines[9:]).split("実行できる操作")[1]
    assert "request-withdrawal（退会申請）" in allowed
    assert all(line.startswith(" " * 21) for line in lines[10:])
    assert all(columns(line) <= 100 for line in lines)


def test_show_with_the_era(db_url: str, paused: str) -> None:
    lines = ja(["show", paused], db_url, era=True).splitlines()
    assert lines[1] == "  状態               サービス停止中（令和元年5月5日 0:00 から）"
    assert lines[4] == "  生年月日           平成2年4月1日"
    assert "面接 令和元年5月10日 10:00（1次・最終）" in lines[8]


def test_a_recording_command_prints_its_account_in_japanese(
    db_url: str, paused: str
) -> None:
    output = ja(["resume", paused, "--at", "2019-05-06"], db_url)
    lines = output.splitlines()
    assert lines[0] == "記録しました: サービスの再開"
    assert lines[1] == f"求職者 {paused}（ワークポートの規定、バージョン 5）"
    assert lines[2] == "  状態               登録中（2019年5月6日 0:00 から）"
    assert re.fullmatch(r"  リクエストID       [0-9a-f-]{36}", lines[-1])


def test_an_account_whose_data_was_erased_on_withdrawal(db_url: str) -> None:
    seeker = register(db_url, "pasona", "2019-02-01")
    record(
        db_url,
        *("request-withdrawal", seeker, "--channel", "web", "--reason", "other"),
        *("--at", "2019-02-03"),
    )
    record(db_url, "withdraw", seeker, "--at", "2019-02-04")
    lines = ja(["show", seeker], db_url).splitlines()
    assert lines[1] == "  状態               個人情報削除済み（2019年2月4日 0:00 から）"
    assert lines[2] == "  個人情報は削除済みです"
    assert "  退会申請の経路     Web（マイページ）" in lines
    assert "  退会理由           その他" in lines
    assert "  削除の理由         退会時の削除" in lines
    assert lines[-1] == "  実行できる操作     なし（最終状態）"


# -- history -------------------------------------------------------------------


def test_history_in_japanese(db_url: str, paused: str) -> None:
    lines = ja(["history", paused], db_url).splitlines()
    assert lines[0] == (
        f"求職者 {paused} の履歴（時刻は Asia/Tokyo、* はさかのぼって記録したもの）"
    )
    assert lines[1].split() == [
        "バージョン",
        "発生日時",
        "記録日時",
        "操作者",
        "イベント",
        "状態",
        "内容",
    ]
    rows = lines[3:]
    assert len(rows) == 4
    cells = [re.split(r" {2,}", row.rstrip()) for row in rows]
    assert cells[0][0] == "1"
    assert cells[0][1] == "2019年4月30日 23:59 *"
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}", cells[0][2])
    # Who: the actor, and the login that recorded it (the OS user on SQLite,
    # the database login on PostgreSQL).
    assert re.fullmatch(r"tester（ログイン \S+ 経由）", cells[0][3])
    assert cells[0][4:] == [
        "求職登録",
        "- → 登録中",
        "担当アドバイザー：Sato、規定：ワークポート",
    ]
    assert cells[1][1] == "2019年5月1日 0:00 *"
    assert cells[1][4:] == [
        "応募",
        "登録中 → 登録中",
        "応募：A1、求人：Line cook、応募経路：自己応募",
    ]
    assert cells[2][4:] == [
        "面接日程の設定",
        "登録中 → 登録中",
        "応募：A1、最終面接：はい、面接日時：2019年5月10日 10:00、面接の回：1次",
    ]
    assert cells[3][4:] == ["サービスの停止", "登録中 → サービス停止中"]
    # Every column starts at the same terminal column on every line.
    starts = [columns(lines[1][: lines[1].index("イベント")])]
    starts += [columns(row[: row.index(cells[n][4])]) for n, row in enumerate(rows)]
    assert len(set(starts)) == 1


def test_an_english_table_lines_up_japanese_names_too(db_url: str, paused: str) -> None:
    """An agency working in English still has Japanese actors and job titles:
    a wide character takes two columns there too, so the columns after it
    start where the header's do."""
    resumed = run_cli(
        ["resume", paused, "--at", "2019-05-06"], db_url=db_url, actor="佐藤"
    )
    assert resumed.code == 0, resumed.stderr
    lines = ok(["history", paused], db_url).stdout.splitlines()
    assert "佐藤" in lines[-1]
    header_start = columns(lines[1][: lines[1].index("event")])
    for row in lines[3:]:
        event = re.split(r" {2,}", row.rstrip())[4]
        assert columns(row[: row.index(event)]) == header_start, row


def test_the_english_account_view_lines_up_its_long_labels(db_url: str) -> None:
    """An English label longer than the usual column ("withdrawal channel")
    moves every value of that view to one column; the request id is the
    block's last line, and a suggestion comes after the block."""
    seeker = register(db_url, "workport", "2025-01-15")
    printed = ok(
        ["request-withdrawal", seeker, "--channel", "app", "--reason",
         "advisor_mismatch", "--erase-data", "--at", "2025-01-20"],
        db_url,
    ).stdout.splitlines()  # fmt: skip
    labels = ("status", "name", "email", "birth date", "last activity",
              "withdrawal reason", "withdrawal channel", "erasure requested",
              "allowed", "request")  # fmt: skip
    width = max(map(len, labels))
    shown = {line[2 : 2 + width].rstrip(): line for line in printed[2:]}
    for label in labels:
        line = shown[label]
        assert line[2 + width] == " " and line[3 + width] != " ", line
    request = printed.index(shown["request"])
    assert printed[request - 1] == shown["allowed"]
    assert printed[request + 1 :] != []
    assert all(line.startswith("suggest instead: ") for line in printed[request + 1 :])


def test_history_with_the_era_at_the_boundary(db_url: str, paused: str) -> None:
    western = ja(["history", paused], db_url)
    era = ja(["history", paused], db_url, era=True)
    assert "2019年4月30日 23:59 *" in western and "2019年5月1日 0:00 *" in western
    assert "令和" not in western and "平成" not in western
    assert "平成31年4月30日 23:59 *" in era
    assert "令和元年5月1日 0:00 *" in era
    assert "面接日時：令和元年5月10日 10:00" in era
    # The era is this run's choice: the next run without --era has none.
    assert ja(["history", paused], db_url) == western


def test_history_of_a_reinstatement_and_a_declined_interview(db_url: str) -> None:
    seeker = register(db_url, "hellowork", "2019-04-01T10:00")
    record(db_url, "apply", seeker, "--job", "営業職", "--at", "2019-04-10")
    record(
        db_url,
        *("schedule-interview", seeker, "A1", "--on", "2019-04-30T23:30"),
        *("--at", "2019-04-20"),
    )
    record(
        db_url,
        *("decline-interview", seeker, "A1", "--channel", "email"),
        *("--at", "2019-04-30T10:00"),
    )
    record(
        db_url,
        *("request-withdrawal", seeker, "--channel", "counter", "--at", "2019-05-01"),
    )
    record(db_url, "withdraw", seeker, "--at", "2019-05-01T09:00")
    record(db_url, "reinstate", seeker, "--at", "2019-05-11")
    output = ja(["history", seeker], db_url)
    assert "応募：A1、求人：営業職、応募経路：紹介" in output
    assert (
        "応募：A1、経路：メール、直前の辞退：はい、面接までの時間：13.5時間" in output
    )
    assert "退会時点の状況：選考の合間" in output
    assert "退会からの日数：10日、再開の方法：本人による再開" in output
    show = ja(["show", seeker], db_url)
    assert "    A1   紹介     面接辞退 営業職  面接 2019年4月30日 23:30（1次）" in show
    assert "[面接辞退]" in show


# -- policies ------------------------------------------------------------------


def test_policies_in_japanese(db_url: str) -> None:
    lines = ja(["policies"], db_url).splitlines()
    assert lines[0].split() == [
        "ルール",
        "ハローワーク",
        "パソナキャリア",
        "ワークポート",
    ]
    rows = {row.split()[0]: row.split()[1:] for row in lines[2:15]}
    assert rows["求職登録の有効期限"] == ["2か月", "-", "-"]
    assert rows["本人による利用再開の期限"] == ["30日", "-", "-"]
    assert rows["個人情報の保存期間"] == ["5年", "-", "3年"]
    assert rows["サービスの停止"] == ["いいえ", "いいえ", "はい"]
    assert rows["退会申請の経路"] == [
        "Web（マイページ）、窓口",
        "Web（マイページ）",
        "電話、メール、フォーム、アプリ",
    ]
    assert (
        "アカウントのライフサイクル（状態: 実行できる操作。規定による制限の前）"
        in lines
    )
    assert (
        "  退会済み              reinstate（利用再開）、purge（個人情報の削除）"
        in lines
    )
    assert "  個人情報削除済み      （最終状態）" in lines
    assert "応募のライフサイクル" in lines
    assert "  未応募                apply（応募）" in lines


# -- list, find and the reports ---------------------------------------------------


@pytest.fixture
def population(db_url: str) -> dict[str, str]:
    """One account in each place the reports look."""
    withdrawn = register(db_url, "hellowork", "2019-04-01")
    record(
        db_url,
        *("request-withdrawal", withdrawn, "--channel", "counter"),
        *("--at", "2019-05-01"),
    )
    record(db_url, "withdraw", withdrawn, "--at", "2019-05-01T09:00")
    unreachable = register(
        db_url,
        *("workport", "2019-01-07", "--advisor", "Tanaka"),
        *("--email", "hanako@example.com"),
    )
    record(
        db_url,
        *("request-withdrawal", unreachable, "--channel", "phone"),
        *("--reason", "job_found", "--at", "2019-03-01"),
    )
    record(db_url, "withdraw", unreachable, "--at", "2019-03-02")
    record(db_url, "reinstate", unreachable, "--assisted", "--at", "2019-03-20")
    record(db_url, "mark-unreachable", unreachable, "--at", "2019-03-22")
    declined = register(
        db_url, "hellowork", "2019-04-02", "--email", "jiro@example.com"
    )
    record(db_url, "apply", declined, "--job", "Baker", "--at", "2019-04-10")
    record(
        db_url,
        *("schedule-interview", declined, "A1", "--on", "2019-04-30T23:30"),
        *("--at", "2019-04-20"),
    )
    record(
        db_url,
        *("decline-interview", declined, "A1", "--channel", "email"),
        *("--at", "2019-04-30T10:00"),
    )
    return {"withdrawn": withdrawn, "unreachable": unreachable, "declined": declined}


def table_rows(output: str) -> list[list[str]]:
    """A table's lines (heading, then rows; the rule line left out), cut
    into cells at two or more spaces."""
    lines = output.splitlines()
    assert set(lines[1]) <= {"-", " "}, output
    return [re.split(r" {2,}", line.rstrip()) for line in [lines[0], *lines[2:]]]


def test_list_in_japanese(db_url: str, population: dict[str, str]) -> None:
    output = ja(["list"], db_url)
    lines = output.splitlines()
    assert lines[-1] == "3件"
    rows = table_rows("\n".join(lines[:-1]))
    assert rows[0] == [
        "ID",
        "規定",
        "状態",
        "状態の開始",
        "選考中",
        "担当",
    ]
    assert [
        population["unreachable"],
        "ワークポート",
        "連絡不通",
        "2019年3月22日 0:00",
        "0",
        "Tanaka",
    ] in rows
    assert [
        population["withdrawn"],
        "ハローワーク",
        "退会済み",
        "2019年5月1日 9:00",
        "0",
    ] in rows


def test_a_list_page_says_where_the_next_starts_in_japanese(
    db_url: str, population: dict[str, str]
) -> None:
    result = ok(["--lang", "ja", "list", "--limit", "1"], db_url)
    assert result.stdout.splitlines()[-1] == "1件"
    assert re.fullmatch(r"次のページ: --after \S+\n", result.stderr)


@pytest.mark.parametrize(
    ("report", "heading", "row"),
    [
        ("status", ["規定", "状態", "件数"], ["ワークポート", "連絡不通", "1"]),
        (
            "withdrawals",
            ["月", "規定", "退会理由", "経路", "退会時点の状況", "件数"],
            ["2019年5月", "ハローワーク", "指定なし", "窓口", "応募なし", "1"],
        ),
        (
            "reinstatements",
            ["月", "規定", "再開の方法", "件数", "退会から再開までの平均日数"],
            ["2019年3月", "ワークポート", "スタッフによる再開", "1", "18.0日"],
        ),
        (
            "retention",
            ["ID", "規定", "状態", "無効になった日時", "削除予定"],
            [
                "{withdrawn}",
                "ハローワーク",
                "退会済み",
                "2019年5月1日 9:00",
                "2024年5月1日 9:00",
            ],
        ),
        (
            "declines",
            ["月", "規定", "経路", "直前の辞退", "件数", "要確認"],
            ["2019年4月", "ハローワーク", "メール", "はい", "1", "はい"],
        ),
    ],
)
def test_every_report_in_japanese(
    db_url: str,
    population: dict[str, str],
    report: str,
    heading: list[str],
    row: list[str],
) -> None:
    rows = table_rows(ja(["report", report], db_url))
    assert rows[0] == heading
    assert [cell.format(**population) for cell in row] in rows[1:]


def test_the_unreachable_report_counts_days_in_japanese(
    db_url: str, population: dict[str, str]
) -> None:
    rows = table_rows(ja(["report", "unreachable"], db_url))
    assert rows[0] == [
        "ID",
        "規定",
        "連絡不通の開始",
        "不通の日数",
        "試行回数",
        "選考中",
    ]
    (only,) = rows[1:]
    assert only[:3] == [population["unreachable"], "ワークポート", "2019年3月22日 0:00"]
    assert re.fullmatch(r"\d{4,}日", only[3])


def test_report_months_in_the_era(db_url: str, population: dict[str, str]) -> None:
    rows = table_rows(ja(["report", "withdrawals"], db_url, era=True))
    months = [row[0] for row in rows[1:]]
    assert months == ["平成31年3月", "令和元年5月"]


def test_find_in_japanese(db_url: str, population: dict[str, str]) -> None:
    rows = table_rows(ja(["find", "--email", "hanako@example.com"], db_url))
    assert rows == [
        ["ID", "規定", "状態"],
        [population["unreachable"], "ワークポート", "連絡不通"],
    ]
    nothing = ja(["find", "--email", "nobody@example.com"], db_url)
    assert nothing == "そのメールアドレスで登録されたアカウントはありません\n"


# -- what never changes with the language ------------------------------------------


def test_json_is_the_same_bytes_in_any_language_and_era(
    db_url: str, population: dict[str, str]
) -> None:
    commands = [
        ["show", population["declined"]],
        ["history", population["unreachable"]],
        ["policies"],
        ["list"],
        ["find", "--email", "hanako@example.com"],
        *(["report", name] for name in ("status", "withdrawals", "reinstatements")),
        *(["report", name] for name in ("retention", "declines", "unreachable")),
        ["report", "withdrawals", "--format", "csv"],
    ]
    for args in commands:
        plain = ok(["--json", *args], db_url).stdout
        japanese = ok(["--lang", "ja", "--era", "--json", *args], db_url).stdout
        assert japanese == plain, args


def test_english_after_japanese_in_one_process(db_url: str, paused: str) -> None:
    assert "サービス停止中" in ja(["show", paused], db_url, era=True)
    english = ok(["show", paused], db_url).stdout.splitlines()
    assert english[0] == f"Seeker {paused}  (policy workport, version 4)"
    assert english[1] == "  status        paused since 2019-05-05 00:00"
    assert "  birth date    1990-04-01" in english
    era_in_english = ok(["--era", "show", paused], db_url).stdout.splitlines()
    assert era_in_english == english  # --era changes only Japanese output
