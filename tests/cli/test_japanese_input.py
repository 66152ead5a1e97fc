"""Input as people type it (SPEC §5, issue #21), on both stores.

Full-width letters, digits, ``＠``, ``．``, ``－`` and spaces count as ASCII
in every option that takes an email, a phone, a date, an id or a code, and
in every field of an import file; half-width katakana in names becomes
full-width; every date option takes ``2026年2月2日``, ``令和8年2月2日`` and
``R8.2.2``. Paths and database URLs are taken byte for byte. A store
written before all this still finds its emails.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import click
import pytest

from cli.main import COMMANDS, cli
from cli.params import TEXT, VERBATIM
from tests.cli.steps import fail, one_line_failure, succeed, succeed_json
from tests.helpers import run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def full_width(text: str) -> str:
    """``text`` as a Japanese keyboard in full-width mode types it."""
    return text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)} | {0x20: 0x3000})


TARO = "taro@example.jp"
TARO_FULL = "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ"


def register(db_url: str, *extra: str, actor: str = "tester") -> Any:
    return succeed_json(["register", *extra], db_url, actor=actor)


def test_registration_takes_every_field_as_typed(db_url: str) -> None:
    assert full_width(TARO) == TARO_FULL
    account = register(
        db_url,
        "--name", "ﾔﾏﾀﾞ　ﾀﾛｳ",  # half-width katakana, an ideographic space
        "--email", TARO_FULL,
        "--phone", "０９０－１２３４－５６７８",
        "--birth-date", "昭和63年4月2日",
        "--policy", "ｗｏｒｋｐｏｒｔ",
        "--channel", "ａｐｐ",
        "--advisor", "Ｍｏｒｉ　Ｋｅｎ",
        "--at", "令和７年１月１５日",
        actor="ｓａｔｏ",
    )  # fmt: skip
    assert account["name"] == "ヤマダ タロウ"
    assert account["email"] == TARO
    assert account["phone"] == "090-1234-5678"
    assert account["birth_date"] == "1988-04-02"
    assert account["registered_at"] == "2025-01-15T00:00:00+09:00"
    assert account["registration_channel"] == "app"
    assert account["advisor"] == "Mori Ken"
    history = succeed_json(["history", full_width(account["id"])], db_url)
    assert [e["actor"] for e in history["events"]] == ["sato"]


def test_names_keep_their_kanji_and_kana(db_url: str) -> None:
    account = register(
        db_url,
        "--name", "髙橋　﨑子（ﾀｶﾊｼ ｻｷｺ）",
        "--email", "saki@example.jp",
        "--birth-date", "H2.5.6",
        "--policy", "workport",
        "--at", "2025-01-15",
    )  # fmt: skip
    assert account["name"] == "髙橋 﨑子(タカハシ サキコ)"
    assert account["birth_date"] == "1990-05-06"


@pytest.mark.parametrize(
    "typed",
    [
        "０９０ー１２３４ー５６７８",  # the long-vowel mark: an IME's "-" in kana mode
        "090ｰ1234ｰ5678",  # its half-width form
        "090−1234−5678",  # the minus sign
        "090‐1234‐5678",  # the hyphen
        "090‑1234‑5678",  # the non-breaking hyphen
        "090–1234—5678",  # en and em dashes
        "０９０―１２３４－５６７８",  # the horizontal bar, the full-width hyphen-minus
    ],
)
def test_a_phone_takes_every_dash_people_type(db_url: str, typed: str) -> None:
    account = register(
        db_url,
        "--name", "サトー ユーコ", "--phone", typed, "--email", TARO,
        "--birth-date", "1988-04-02", "--policy", "workport", "--at", "2025-01-15",
    )  # fmt: skip
    assert account["phone"] == "090-1234-5678"
    assert account["name"] == "サトー ユーコ"  # in a name, ー is a letter


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("090ーABCDー5678", "090-ABCD-5678"),
        ("090ー1234ー5678ー", "090-1234-5678-"),  # a dash too many, at the end
        ("ー090ー1234ー5678", "-090-1234-5678"),
    ],
)
def test_a_phone_that_is_not_one_is_still_refused(
    db_url: str, typed: str, read: str
) -> None:
    refused = fail(
        ["register", "--name", "Taro", "--phone", typed, "--email", TARO,
         "--birth-date", "1988-04-02", "--policy", "workport"],
        db_url,
        2,
    )  # fmt: skip
    assert one_line_failure(refused, 2) == f"error: not a phone number: {read!r}"


def test_one_email_typed_two_ways_is_one_address(db_url: str) -> None:
    first = register(
        db_url,
        "--name", "Taro Yamada", "--email", TARO, "--birth-date", "1988-04-02",
        "--policy", "pasona", "--at", "2025-01-15",
    )  # fmt: skip
    again = fail(
        ["register", "--name", "Taro Yamada", "--email", f"　{TARO_FULL}　",
         "--birth-date", "S63.4.2", "--policy", "ｐａｓｏｎａ", "--at", "R7.1.16"],
        db_url,
        4,
    )  # fmt: skip
    line = one_line_failure(again, 4)
    assert line == (
        f"refused: email already registered under policy pasona: seeker "
        f"{first['id']} is active"
    )
    # Under another policy it is another account, as for an ASCII email.
    register(
        db_url,
        "--name", "Taro Yamada", "--email", "ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＪＰ",
        "--birth-date", "1988-04-02", "--policy", "workport", "--at", "2025-01-15",
    )  # fmt: skip
    for typed in (TARO, TARO_FULL, "Taro@Example.JP", "ＴＡＲＯ＠ｅｘａｍｐｌｅ．ｊｐ"):
        found = succeed_json(["find", "--email", typed], db_url)["accounts"]
        assert sorted(a["policy"] for a in found) == ["pasona", "workport"], typed
        assert first["id"] in {a["id"] for a in found}


def test_japanese_dates_and_full_width_ids_in_every_option(
    db_url: str, tmp_path: Path
) -> None:
    account = register(
        db_url,
        "--name", "Yamada Taro", "--email", TARO, "--policy", "pasona",
        "--advisor", "Kato",
        "--birth-date", "Ｓ６３．４．２",
        "--at", "2025年1月15日",
    )  # fmt: skip
    seeker = full_width(account["id"])  # the id typed in full width too
    applied = succeed_json(
        ["apply", seeker, "--job", "Ｗａｒｅｈｏｕｓｅ", "--route", "ｓｅｌｆ",
         "--at", "R7.1.16", "--request-id", "ｒｅｑ－ａｐｐｌｙ－１"],
        db_url,
    )  # fmt: skip
    assert applied["application"] == "A1"
    repeated = run_cli(
        ["--json", "apply", account["id"], "--job", "Warehouse", "--at", "R7.1.16",
         "--request-id", "req-apply-1"],
        db_url=db_url,
    )  # fmt: skip
    assert repeated.code == 0, repeated.stderr
    assert "request req-apply-1 was already recorded" in repeated.stderr
    assert repeated.json()["application"] == "A1"
    scheduled = succeed_json(
        ["schedule-interview", seeker, "Ａ１", "--on", "令和７年１月２５日　１４：００",
         "--round", "２", "--at", "令和7年1月17日 9:30"],
        db_url,
    )  # fmt: skip
    [application] = scheduled["applications"]
    assert application["job"] == "Warehouse"
    assert application["route"] == "self"
    assert application["interview_at"] == "2025-01-25T14:00:00+09:00"
    assert application["interview_round"] == 2
    succeed_json(
        ["decline-interview", seeker, "ａ１", "--channel", "ｐｈｏｎｅ",
         "--at", "r7/1/18 10:00"],
        db_url,
    )  # fmt: skip
    requested = succeed_json(
        ["request-withdrawal", seeker, "--channel", "ｅｍａｉｌ",
         "--reason", "ｊｏｂ＿ｆｏｕｎｄ", "--verify-name", "ＹＡＭＡＤＡ　ＴＡＲＯ",
         "--verify-birth-date", "昭和６３年４月２日", "--at", "令和７年１月１９日"],
        db_url,
    )  # fmt: skip
    assert requested["withdrawal"]["reason"] == "job_found"
    succeed_json(["withdraw", seeker, "--at", "令和7年1月20日 8時"], db_url)

    def version(*options: str) -> int:
        shown = succeed_json(["show", seeker, *options], db_url)
        return int(shown["version"])

    assert version("--as-of", "令和7年1月16日") == 2
    assert version("--as-of", "令和7年1月17日 9:30") == 3
    assert version("--as-of", full_width("2025-01-17T09:30")) == 3
    assert version("--as-of", "R7.1.17 9:29") == 2
    assert version("--as-of", "R7.1.20", "--known-at", "令和５０年１月１日") == 5
    assert version("--known-at", full_width("2068-01-01")) == 7
    events = succeed_json(["history", seeker, "--as-of", "2025年1月18日 10時"], db_url)
    assert [e["type"] for e in events["events"]] == [
        "Registered", "Applied", "InterviewScheduled", "InterviewDeclined"
    ]  # fmt: skip
    gone = run_cli(["history", seeker, "--known-at", "令和元年5月1日"], db_url=db_url)
    assert "nothing recorded by then" in one_line_failure(gone, 3)

    def withdrawals(start: str, end: str) -> list[dict[str, Any]]:
        rows = succeed_json(
            ["report", "ｗｉｔｈｄｒａｗａｌｓ", "--from", start, "--to", end], db_url
        )["rows"]
        assert isinstance(rows, list)
        return rows

    [row] = withdrawals("令和7年1月1日", "R7.1.31")
    assert (row["month"], row["reason"], row["count"]) == ("2025-01", "job_found", 1)
    assert withdrawals(full_width("2025-01-01"), full_width("2025-01-31")) == [row]
    assert withdrawals("令和7年2月1日", "令和7年2月28日") == []
    page = tmp_path / "report.html"
    succeed(
        ["report", "html", "--from", "令和6年12月1日", "--to", "令和7年1月31日",
         "--output", str(page)],
        db_url,
    )  # fmt: skip
    assert "2024-12" in page.read_text(encoding="utf-8")
    swept = succeed_json(["sweep", "--dry-run", "--at", "Ｒ７．１．２１"], db_url)
    assert swept["at"] == "2025-01-21T00:00:00+09:00"
    listed = succeed_json(["list", "--policy", "ｐａｓｏｎａ"], db_url)["accounts"]
    assert [a["id"] for a in listed] == [account["id"]]


def test_an_impossible_japanese_date_is_a_one_line_usage_error(db_url: str) -> None:
    account = register(
        db_url,
        "--name", "Yamada Taro", "--email", TARO, "--policy", "workport",
        "--birth-date", "1988-04-02", "--at", "2025-01-15",
    )  # fmt: skip
    seeker = account["id"]
    heisei = (
        "平成 runs from 平成元年1月8日 (1989-01-08) to 平成31年4月30日 (2019-04-30)"
    )
    reiwa = "令和 began on 令和元年5月1日 (2019-05-01)"
    showa = (
        "昭和 runs from 昭和元年12月25日 (1926-12-25) to 昭和64年1月7日 (1989-01-07)"
    )
    cases: list[tuple[list[str], str]] = [
        (["register", "--name", "A", "--email", "a@example.jp", "--policy",
          "workport", "--birth-date", "平成31年5月1日"], heisei),
        (["register", "--name", "A", "--email", "a@example.jp", "--policy",
          "workport", "--birth-date", "1990-01-01", "--at", "令和0年1月1日"], reiwa),
        (["apply", seeker, "--job", "J", "--at", "平成32年1月1日"], heisei),
        (["schedule-interview", seeker, "A1", "--on", "令和元年4月30日"], reiwa),
        (["request-withdrawal", seeker, "--channel", "phone",
          "--verify-birth-date", "昭和64年1月8日"], showa),
        (["show", seeker, "--as-of", "R0.5.1"], reiwa),
        (["history", seeker, "--known-at", "H31.5.1"], heisei),
        (["report", "withdrawals", "--from", "昭和65年1月1日"], showa),
        (["report", "withdrawals", "--to", "平成32年"], heisei),
        (["sweep", "--dry-run", "--at", "令和元年4月30日 9:00"], reiwa),
    ]  # fmt: skip
    for args, span in cases:
        line = one_line_failure(fail(args, db_url, 2), 2)
        assert line.startswith("error: '"), line
        assert "is not a date" in line and line.endswith(span), line
    bad_day = fail(["apply", seeker, "--job", "J", "--at", "令和7年2月30日"], db_url, 2)
    assert one_line_failure(bad_day, 2) == (
        "error: '令和7年2月30日' is not a date: there is no day 2025-02-30"
    )
    garbled = fail(["show", seeker, "--as-of", "令和7年2月"], db_url, 2, as_json=True)
    message = garbled.error()["error"]["message"]
    assert message.startswith("not an ISO 8601 date or date-time: '令和7年2月' (")
    assert "2026年2月2日, 2026/2/2, 令和8年2月2日, 令和元年5月1日 or R8.2.2" in message


def test_an_import_file_is_read_as_typed(db_url: str, tmp_path: Path) -> None:
    def line(**fields: Any) -> str:
        return json.dumps(fields, ensure_ascii=False)

    events = tmp_path / "ｌｅｇａｃｙ.jsonl"  # the path itself is taken as given
    events.write_text(
        "\n".join([
            line(ref="Ｈ－００１", type="Registered", occurred_at="令和6年1月10日",
                 actor="ｌｅｇａｃｙ：ｃｏｕｎｔｅｒ", policy="ｈｅｌｌｏｗｏｒｋ",
                 name="ｻﾄｳ ﾊﾙﾄ", email="ｈａｒｕｔｏ＠ｅｘａｍｐｌｅ．ｊｐ",
                 birth_date="平成2年4月1日", phone="０９０－１２３４－５６７８",
                 channel="ｃｏｕｎｔｅｒ"),
            line(ref="Ｈ－００１", type="Applied", occurred_at="R6.1.15 9:00",
                 actor="legacy", job="倉庫ﾋﾟｯｷﾝｸﾞ", route="ｓｅｌｆ",
                 application_id="Ａ１"),
            line(ref="Ｈ－００１", type="InterviewScheduled",
                 occurred_at="2024年1月20日", actor="legacy",
                 application_id="ａ１", interview_at="令和６年１月２５日　１４：００"),
            line(ref="H-002", type="Registered", occurred_at="2024-01-11",
                 actor="legacy", policy="hellowork", name="Haruto Sato",
                 email="HARUTO@example.jp", birth_date="1990-04-01"),
            line(ref="H-003", type="Registered", occurred_at="平成31年5月1日",
                 actor="legacy", policy="hellowork", name="Yui Suzuki",
                 email="yui@example.jp", birth_date="1992-07-15"),
        ]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    result = run_cli(["--json", "import", str(events)], db_url=db_url)
    assert result.code == 1, result.stderr
    report = result.json()
    assert (report["events"], report["rejected"]) == (3, 2)
    whys = {r["ref"]: r["why"] for r in report["rejections"]}
    assert whys["H-002"] == (
        "email already registered under policy hellowork "
        "(ref 'Ｈ－００１' in this file)"
    )
    assert whys["H-003"].startswith(
        "occurred_at: '平成31年5月1日' is not a date: "
        "2019-05-01 is after the end of 平成"
    )
    assert "line 5: occurred_at: '平成31年5月1日' is not a date" in result.stderr
    # The ref is the old system's key, kept byte for byte (the account id
    # is derived from it for good); every other field is read as typed.
    seeker = report["ids"]["Ｈ－００１"]
    account = succeed_json(["show", seeker], db_url)
    assert (account["name"], account["email"]) == ("サトウ ハルト", "haruto@example.jp")
    assert (account["phone"], account["birth_date"]) == ("090-1234-5678", "1990-04-01")
    assert account["registered_at"] == "2024-01-10T00:00:00+09:00"
    assert account["registration_channel"] == "counter"
    [application] = account["applications"]
    assert (application["id"], application["job"], application["route"]) == (
        "A1", "倉庫ピッキング", "self"
    )  # fmt: skip
    assert application["applied_at"] == "2024-01-15T09:00:00+09:00"
    assert application["interview_at"] == "2024-01-25T14:00:00+09:00"
    history = succeed_json(["history", seeker], db_url)["events"]
    assert history[0]["actor"] == "legacy:counter"
    found = succeed_json(["find", "--email", "haruto@example.jp"], db_url)
    assert [a["id"] for a in found["accounts"]] == [seeker]
    # A rerun finds every line already in, typed either way.
    again = run_cli(["--json", "import", str(events)], db_url=db_url)
    assert again.code == 1
    assert (again.json()["events"], again.json()["already"]) == (0, 3)

    registrations = tmp_path / "registrations.csv"
    registrations.write_text(
        "ref,policy,name,email,birth_date,phone,channel,advisor,occurred_at,actor\n"
        "C-1,ｗｏｒｋｐｏｒｔ,ﾀﾅｶ ｿｳﾀ,ｓｏｔａ＠ｅｘａｍｐｌｅ．ｊｐ,"
        "Ｓ６３．１２．２４,０３ー１２３４ー５６７８,ａｐｐ,Ｍｏｒｉ,令和6年2月1日,"
        "ｌｅｇａｃｙ\n",
        encoding="utf-8",
    )
    imported = succeed_json(["import", str(registrations)], db_url)
    csv_account = succeed_json(["show", imported["ids"]["C-1"]], db_url)
    assert csv_account["name"] == "タナカ ソウタ"
    assert csv_account["email"] == "sota@example.jp"
    assert csv_account["birth_date"] == "1988-12-24"
    assert csv_account["phone"] == "03-1234-5678"
    assert csv_account["advisor"] == "Mori"
    assert csv_account["registered_at"] == "2024-02-01T00:00:00+09:00"


def test_paths_and_urls_are_taken_byte_for_byte(tmp_path: Path) -> None:
    """Half-width katakana and full-width letters in a file name would be
    changed by NFKC: the file named is the file used."""
    store = tmp_path / "ｽﾄｱ.db"
    url = f"sqlite:///{store}"
    policy = tmp_path / "ﾎﾟﾘｼｰ.toml"
    policy.write_text('based_on = "workport"\nname = "agency"\n', encoding="utf-8")
    register(
        url,
        "--name", "Aya Mori", "--email", "aya@example.jp", "--birth-date",
        "1990-01-01", "--policy", str(policy), "--at", "2025-01-15",
    )  # fmt: skip
    assert store.exists()
    assert not (tmp_path / "ストア.db").exists()
    diagram = tmp_path / "ｽﾞ.mmd"
    succeed(["policies", "--diagram", "mermaid", "--output", str(diagram)], url)
    assert diagram.exists()


def _copy_fixture(tmp_path: Path, folder: str, database: str) -> str:
    for name in (database, f"{database}.key"):
        shutil.copy(FIXTURES / folder / name, tmp_path / name)
    (tmp_path / f"{database}.key").chmod(0o600)
    return f"sqlite:///{tmp_path / database}"


@pytest.mark.parametrize(
    ("folder", "database", "email", "seeker"),
    [
        ("legacy_store", "legacy.db", "taro@example.jp",
         "b1e607c5-1a68-452e-9d0e-80c735fd3b1a"),
        ("chained_v1_store", "v1.db", "aya@example.jp",
         "92ac2fe9-277e-44e9-865f-cb073b1d36a4"),
    ],
)  # fmt: skip
def test_a_store_written_before_still_finds_its_emails_typed_either_way(
    tmp_path: Path, folder: str, database: str, email: str, seeker: str
) -> None:
    """Its blind index was computed from the ASCII emails, which NFKC
    leaves as they are: the same digests, found in either form."""
    url = _copy_fixture(tmp_path, folder, database)
    for typed in (email, full_width(email), email.upper()):
        found = run_cli(
            ["--json", "find", "--email", typed],
            db_url=url,
            env={"SEEKERS_MASTER_KEY": None},  # the fixture's own key file
        )
        assert found.code == 0, found.stderr
        assert [a["id"] for a in found.json()["accounts"]] == [seeker], typed


def _parameters() -> list[tuple[str, click.Parameter]]:
    found: list[tuple[str, click.Parameter]] = [
        (f"seekers {p.name}", p) for p in cli.params
    ]
    context = click.Context(cli)
    for name in sorted(COMMANDS):
        command = cli.get_command(context, name)
        assert command is not None
        commands = (
            [(f"{name} {sub}", c) for sub, c in command.commands.items()]
            if isinstance(command, click.Group)
            else [(name, command)]
        )
        for label, each in commands:
            found += [(f"{label} {p.name}", p) for p in each.params]
    return found


VERBATIM_PARAMETERS = {
    "seekers db_url", "seekers read_url", "history output", "report output",
    "import file", "register policy_name", "policies policy", "policies output",
}  # fmt: skip
"""Paths and URLs given as plain text; every other path is a ``click.Path``."""


def test_every_text_parameter_is_read_as_typed_unless_it_is_a_path() -> None:
    text = [label for label, p in _parameters() if p.type is TEXT]
    verbatim = {label for label, p in _parameters() if p.type is VERBATIM}
    plain = [
        label
        for label, p in _parameters()
        if isinstance(p.type, click.types.StringParamType)
        and p.type not in (TEXT, VERBATIM)
    ]
    assert plain == []
    assert verbatim == VERBATIM_PARAMETERS
    for expected in (
        "register name", "register email", "register phone", "register birth_date",
        "find email", "apply seeker", "schedule-interview application",
        "schedule-interview on", "apply at", "show as_of", "show known_at",
        "report start", "report end", "request-withdrawal verify_birth_date",
        "request-withdrawal verify_name", "sweep at", "seekers actor",
        "roles grant login", "list after",
    ):  # fmt: skip
        assert expected in text, expected
