"""The reading of a name (フリガナ, ``--name-kana``), on both stores.

Typed in katakana or hiragana, full- or half-width, with a space, an
ideographic space or ``・`` between its parts, it is kept in katakana with
one space between parts, sealed with the rest of the personal data, shown,
exported, and found (``find --name-kana``) through the keyed-hash index
``reading_index``: one row per search key (the whole reading without
separators, and each part). Anything that is not kana is a usage error that
writes nothing. A purge takes the seeker's rows with the key; imports
bring readings in; the PostgreSQL grants keep the index to the writers; a
store set up before the index gets it on its next command.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from adapters.postgres import SCHEMA_MARKER, SCHEMA_VERSION
from adapters.roles import AUDITOR, OPERATOR, PRIVACY, REPORTER
from adapters.sqlite_store import SCHEMA_MARK
from services.importing import CSV_HEADER
from tests.cli.steps import fail, one_line_failure, succeed, succeed_json
from tests.helpers import ledger_for, run_cli
from tests.integrity.support import events_table, raw

TARO = "ヤマダ タロウ"
NOT_KANA = "the reading of a name is written in katakana or hiragana: {!r}"
NOT_KANA_JA = "フリガナはカタカナかひらがなで書いてください: {!r}"
EMPTY = "the reading of the name must not be empty"
EMPTY_JA = "フリガナが空です"
ONE_OF_THEM = "error: give --email or --name-kana (one of them)"
PREVIOUS_MARK = 0x5EE4_0002


def register(db_url: str, email: str, *extra: str, policy: str = "workport") -> str:
    """A new account named 山田 太郎; its id."""
    registered = succeed_json(
        ["register", "--name", "山田 太郎", "--email", email, "--birth-date",
         "1990-04-01", "--policy", policy, "--at", "2025-01-15", *extra],
        db_url,
    )  # fmt: skip
    return str(registered["id"])


def kana(db_url: str, seeker: str) -> object:
    return succeed_json(["show", seeker], db_url)["name_kana"]


def found(db_url: str, typed: str) -> list[tuple[str, str]]:
    """(policy, id) of each account ``find --name-kana`` lists, in its order."""
    accounts = succeed_json(["find", "--name-kana", typed], db_url)["accounts"]
    return [(a["policy"], a["id"]) for a in accounts]


def index_rows(db_url: str, seeker: str | None = None) -> int:
    """Rows of ``reading_index`` (of one seeker, or all), read directly."""
    if seeker is None:
        return int(raw(db_url, "SELECT count(*) FROM reading_index")[0][0])
    query = "SELECT count(*) FROM reading_index WHERE seeker_id = ?"
    return int(raw(db_url, query, (seeker,))[0][0])


def nothing_created(db_url: str, folder: Path) -> None:
    """No store at all: no SQLite file nor key file, no PostgreSQL table."""
    if db_url.startswith("sqlite"):
        assert sorted(p.name for p in folder.iterdir()) == []
        return
    query = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    assert raw(db_url, query)[0][0] == 0


# -- registration ------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("やまだ たろう", TARO),
        ("ヤマダ タロウ", TARO),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", TARO),  # half-width katakana
        ("やまだ\u3000たろう", TARO),  # the ideographic space
        ("ヤマダ・タロウ", TARO),
        ("ﾔﾏﾀﾞ･ﾀﾛｳ", TARO),  # half-width middle dot
        ("  やまだ \u3000 ・ たろう  ", TARO),  # spaces and dots run together
        ("やまだたろう", "ヤマダタロウ"),  # no separator: one part
        ("さいとう ゆーこ", "サイトウ ユーコ"),  # the long-vowel mark
        ("ゔぁん　あん・ゆいー", "ヴァン アン ユイー"),  # three parts
    ],
)
def test_a_reading_is_stored_in_katakana_one_space_between_parts(
    db_url: str, typed: str, stored: str
) -> None:
    seeker = register(db_url, "taro@example.jp", "--name-kana", typed)
    assert kana(db_url, seeker) == stored
    assert index_rows(db_url, seeker) == len(stored.split(" ")) + (" " in stored)


def _kana_lines(db_url: str, seeker: str, *options: str) -> list[str]:
    shown = succeed([*options, "show", seeker], db_url).stdout.splitlines()
    return [line for line in shown if "フリガナ" in line or "(kana)" in line]


def test_show_prints_the_reading_in_english_and_japanese(db_url: str) -> None:
    seeker = register(db_url, "taro@example.jp", "--name-kana", "やまだ　たろう")
    [english] = _kana_lines(db_url, seeker)
    assert re.fullmatch(r"  name \(kana\) +ヤマダ タロウ", english), english
    [japanese] = _kana_lines(db_url, seeker, "--lang", "ja")
    assert re.fullmatch(r"  フリガナ +ヤマダ タロウ", japanese), japanese
    without = register(db_url, "hanako@example.jp")
    assert kana(db_url, without) is None
    assert _kana_lines(db_url, without) == []
    assert _kana_lines(db_url, without, "--lang", "ja") == []
    assert index_rows(db_url, without) == 0
    for who, reading in ((seeker, TARO), (without, None)):
        exported = succeed_json(["export-data", who], db_url)["personal"]
        assert exported["name_kana"] == reading


BAD_READINGS = {  # what is typed, and the refusal's quote of it (None: empty)
    "kanji": ("山田 太郎", "山田 太郎"),
    "kana and kanji": ("やまだ 太郎", "やまだ 太郎"),
    "Latin": ("Yamada Taro", "Yamada Taro"),
    "full-width Latin": ("ＹＡＭＡＤＡ", "YAMADA"),
    "digit": ("ヤマダ１", "ヤマダ1"),
    "empty": ("", None),
    "only spaces": (" \u3000 ", None),
    "only a middle dot": ("・", None),
    "only the long-vowel mark": ("ー", "ー"),
    "a part starting with the long-vowel mark": ("ヤマダ ーコ", "ヤマダ ーコ"),
}


def refusal(given: str | None, lang: str = "en") -> str:
    """The one line refusing a reading that is not kana (None: empty)."""
    if lang == "ja":
        return "エラー: " + (EMPTY_JA if given is None else NOT_KANA_JA.format(given))
    return "error: " + (EMPTY if given is None else NOT_KANA.format(given))


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("why", sorted(BAD_READINGS))
def test_a_reading_that_is_not_kana_is_a_usage_error_that_creates_nothing(
    db_url: str, tmp_path: Path, why: str, lang: str
) -> None:
    typed, given = BAD_READINGS[why]
    refused = run_cli(
        ["--lang", lang, "register", "--name", "山田 太郎", "--name-kana", typed,
         "--email", "taro@example.jp", "--birth-date", "1990-04-01",
         "--policy", "workport", "--at", "2025-01-15"],
        db_url=db_url,
    )  # fmt: skip
    assert one_line_failure(refused, 2) == refusal(given, lang)
    nothing_created(db_url, tmp_path)


# -- find --------------------------------------------------------------------


def test_find_by_the_whole_reading_or_one_of_its_parts(db_url: str) -> None:
    taro = register(db_url, "taro@example.jp", "--name-kana", "ヤマダ タロウ")
    jiro = register(db_url, "jiro@example.jp", "--name-kana", "やまだ・じろう")
    hanako = register(
        db_url, "hanako@example.jp", "--name-kana", "ﾔﾏﾀﾞ ﾊﾅｺ", policy="hellowork"
    )
    register(db_url, "ichiro@example.jp", "--name-kana", "すずき いちろう")
    yamadas = [("hellowork", hanako), *sorted([("workport", taro), ("workport", jiro)])]
    for typed in ("ヤマダ", "やまだ", "ﾔﾏﾀﾞ", " ヤマダ\u3000"):
        assert found(db_url, typed) == yamadas, typed
    for typed in ("ヤマダタロウ", "やまだ たろう", "ヤマダ・タロウ", "ﾔﾏﾀﾞ\u3000ﾀﾛｳ"):
        assert found(db_url, typed) == [("workport", taro)], typed
    assert found(db_url, "たろう") == [("workport", taro)]
    assert found(db_url, "ハナコ") == [("hellowork", hanako)]
    # Whole keys only: not a prefix, not the parts in another order.
    for typed in ("ヤマ", "タロウ ヤマダ", "ヤマダタ", "タナカ"):
        assert found(db_url, typed) == [], typed
    statuses = succeed_json(["find", "--name-kana", "じろう"], db_url)["accounts"]
    assert statuses == [{"id": jiro, "policy": "workport", "status": "active"}]
    nobody = succeed(["find", "--name-kana", "タナカ"], db_url).stdout
    assert nobody == "no account whose name reads so\n"
    nobody_ja = succeed(["--lang", "ja", "find", "--name-kana", "たなか"], db_url)
    assert nobody_ja.stdout == "そのフリガナのアカウントはありません\n"
    printed = succeed(["find", "--name-kana", "ヤマダ"], db_url).stdout.splitlines()
    assert [line.split()[0] for line in printed[2:]] == [s for _, s in yamadas]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["find"], ONE_OF_THEM),
        (["find", "--email", "taro@example.jp", "--name-kana", "ヤマダ"], ONE_OF_THEM),
        (["--lang", "ja", "find"],
         "エラー: --email か --name-kana のどちらか一方を指定してください"),
        (["find", "--name-kana", "yamada"], refusal("yamada")),
        (["find", "--name-kana", "山田"], refusal("山田")),
        (["--lang", "ja", "find", "--name-kana", "ﾔﾏﾀﾞ1"], refusal("ヤマダ1", "ja")),
        (["find", "--name-kana", "\u3000"], refusal(None)),
    ],
)  # fmt: skip
def test_find_needs_one_kana_reading_or_one_email(
    db_url: str, args: list[str], line: str
) -> None:
    register(db_url, "taro@example.jp", "--name-kana", TARO)
    assert one_line_failure(fail(args, db_url, 2), 2) == line


def test_a_refused_registration_leaves_no_reading_behind(db_url: str) -> None:
    taro = register(db_url, "taro@example.jp", "--name-kana", TARO)
    assert index_rows(db_url) == 3  # ヤマダタロウ, ヤマダ, タロウ
    again = ["register", "--name", "佐藤 健", "--name-kana", "さとう けん",
             "--email", "taro@example.jp", "--birth-date", "1990-04-01",
             "--policy", "workport", "--at", "2025-01-16"]  # fmt: skip
    line = one_line_failure(fail(again, db_url, 4), 4)
    assert line == (
        "refused: email already registered under policy workport: "
        f"seeker {taro} is active"
    )
    bad = [*again[:4], "さとう 健", *again[5:]]
    bad_line = one_line_failure(fail(bad, db_url, 2), 2)
    assert bad_line == refusal("さとう 健")
    assert index_rows(db_url) == index_rows(db_url, taro) == 3
    assert raw(db_url, "SELECT DISTINCT seeker_id FROM reading_index") == [(taro,)]
    assert found(db_url, "サトウ") == found(db_url, "けん") == []
    listed = succeed_json(["list"], db_url)["accounts"]
    assert [a["id"] for a in listed] == [taro]


# -- sealed ------------------------------------------------------------------


def stored_bytes(db_url: str) -> bytes:
    """Everything the store holds: the SQLite files, or on PostgreSQL every
    event's state and every public table's rows as text."""
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        files = (path, path.with_name(path.name + "-wal"))
        return b"".join(p.read_bytes() for p in files if p.exists())
    states = raw(db_url, f"SELECT state FROM {events_table(db_url)}")
    tables = raw(db_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    texts = [
        raw(db_url, f"SELECT coalesce(string_agg(t::text, ' '), '') FROM \"{n}\" t")
        for (n,) in tables
    ]
    return b"".join(bytes(s) for (s,) in states) + str(texts).encode()


def test_find_skips_index_rows_of_a_registration_that_never_completed(
    db_url: str,
) -> None:
    """The blind indexes are written before the ``Registered`` event; a
    process that died in between leaves rows naming no account. ``find``
    lists the accounts that exist and does not fail on the others."""
    seeker = register(db_url, "taro@example.jp", "--name-kana", TARO)
    ledger = ledger_for(db_url)
    try:
        vault = ledger.vault
        assert vault is not None
        vault.index_readings([("pasona", TARO, uuid.uuid4())])
        assert vault.claim_email("pasona", "gone@example.jp", uuid.uuid4()) is None
    finally:
        ledger.close()
    assert found(db_url, "ヤマダ") == [("workport", seeker)]
    nobody = succeed(["find", "--email", "gone@example.jp"], db_url).stdout
    assert nobody == "no account with that email\n"


def test_the_reading_is_sealed_never_stored_in_plaintext(db_url: str) -> None:
    typed, stored = "くすのき\u3000あやめ", "クスノキ アヤメ"
    seeker = register(db_url, "ayame@example.jp", "--name-kana", typed)
    succeed(["apply", seeker, "--job", "Clerk", "--at", "2025-01-16"], db_url)
    assert found(db_url, "アヤメ") == [("workport", seeker)]
    assert kana(db_url, seeker) == stored
    held = stored_bytes(db_url)
    assert b"workport" in held  # the scan sees what is stored in the clear
    for plain in (stored, "クスノキアヤメ", "クスノキ", "アヤメ", typed, "くすのき",
                  "あやめ"):  # fmt: skip
        for form in (plain.encode(), plain.encode().hex().encode()):
            assert form not in held, (plain, form)
    if db_url.startswith("postgresql"):
        search = (
            f"SELECT count(*) FROM {events_table(db_url)} "
            "WHERE position(?::bytea IN state) > 0"
        )
        for plain in (stored, "クスノキ", "くすのき"):
            assert raw(db_url, search, (plain.encode(),))[0][0] == 0


# -- purge -------------------------------------------------------------------

PURGES = {
    "erase on withdrawal": [
        ["request-withdrawal", "{s}", "--channel", "email", "--reason", "job_found",
         "--erase-data", "--at", "2025-02-01"],
        ["withdraw", "{s}", "--at", "2025-02-02"],
    ],
    "purge on request": [
        ["request-withdrawal", "{s}", "--channel", "email", "--reason", "job_found",
         "--at", "2025-02-01"],
        ["withdraw", "{s}", "--at", "2025-02-02"],
        ["purge", "{s}", "--reason", "deletion_request", "--at", "2025-02-03"],
    ],
}  # fmt: skip


@pytest.mark.parametrize("route", sorted(PURGES))
def test_a_purge_takes_the_reading_and_its_index_rows(db_url: str, route: str) -> None:
    taro = register(db_url, "taro@example.jp", "--name-kana", "やまだ たろう")
    hanako = register(
        db_url, "hanako@example.jp", "--name-kana", "ヤマダ ハナコ", policy="hellowork"
    )
    exported = succeed_json(["export-data", taro], db_url)
    assert exported["personal"]["name_kana"] == TARO
    assert found(db_url, "ヤマダ") == [("hellowork", hanako), ("workport", taro)]
    for step in PURGES[route]:
        succeed([arg.replace("{s}", taro) for arg in step], db_url)
    shown = succeed_json(["show", taro], db_url)
    assert shown["status"] == "purged"
    assert shown["name"] is shown["name_kana"] is None
    assert index_rows(db_url, taro) == 0
    assert index_rows(db_url, hanako) == 3
    assert found(db_url, "ヤマダ") == [("hellowork", hanako)]
    for typed in ("タロウ", "ヤマダタロウ", "やまだ たろう"):
        assert found(db_url, typed) == [], typed
    erased = run_cli(["--json", "export-data", taro], db_url=db_url)
    assert erased.code == 0, erased.stderr
    assert erased.stderr.startswith("personal data erased on 2025-02-0")
    assert (erased.json()["erased"], erased.json()["personal"]) == (True, None)
    assert kana(db_url, hanako) == "ヤマダ ハナコ"


# -- import ------------------------------------------------------------------

JSONL = """\
{"ref": "J-1", "type": "Registered", "occurred_at": "2025-01-10", "actor": "clerk", "policy": "workport", "name": "佐藤 花子", "name_kana": "さとう\u3000はなこ", "email": "hanako@example.jp", "birth_date": "1990-01-01"}
{"ref": "J-2", "type": "Registered", "occurred_at": "2025-01-10", "actor": "clerk", "policy": "workport", "name": "佐藤 一郎", "name_kana": "佐藤", "email": "ichiro@example.jp", "birth_date": "1990-01-01"}
{"ref": "J-3", "type": "Registered", "occurred_at": "2025-01-10", "actor": "clerk", "policy": "hellowork", "name": "佐藤 健", "name_kana": "ｻﾄｳ･ｹﾝ", "email": "ken@example.jp", "birth_date": "1990-01-01"}
"""  # noqa: E501
HEADER = ",".join(CSV_HEADER)
ROW = "{ref},workport,鈴木 {ref},{ref}@example.jp,1985-06-30,,,,2025-01-10,legacy"


def _import(db_url: str, path: Path, text: str, code: int) -> Any:
    path.write_text(text, encoding="utf-8")
    done = run_cli(["--json", "import", str(path)], db_url=db_url)
    assert done.code == code, done.stderr
    return done.json()


def test_imported_readings_are_stored_and_found(db_url: str, tmp_path: Path) -> None:
    jsonl = _import(db_url, tmp_path / "old.jsonl", JSONL, 1)
    assert jsonl["rejections"] == [
        {"line": 2, "ref": "J-2", "why": NOT_KANA.format("佐藤")}
    ]
    ids: dict[str, str] = jsonl["ids"]
    assert sorted(ids) == ["J-1", "J-3"]
    with_kana = f"{HEADER},name_kana\n{ROW.format(ref='c1')},すずき いちろう\n" + (
        f"{ROW.format(ref='c2')},\n"
    )
    ids |= _import(db_url, tmp_path / "kana.csv", with_kana, 0)["ids"]
    plain = f"{HEADER}\n{ROW.format(ref='c3')}\n"
    ids |= _import(db_url, tmp_path / "plain.csv", plain, 0)["ids"]
    readings = {ref: kana(db_url, seeker) for ref, seeker in ids.items()}
    assert readings == {
        "J-1": "サトウ ハナコ", "J-3": "サトウ ケン", "c1": "スズキ イチロウ",
        "c2": None, "c3": None,
    }  # fmt: skip
    sato = [("hellowork", ids["J-3"]), ("workport", ids["J-1"])]
    assert found(db_url, "さとう") == sato
    assert found(db_url, "サトウハナコ") == [("workport", ids["J-1"])]
    assert found(db_url, "イチロウ") == [("workport", ids["c1"])]
    assert succeed_json(["find", "--email", "ichiro@example.jp"], db_url) == {
        "accounts": []
    }
    assert index_rows(db_url) == 9
    for extra in ("shoe_size", "name_kana,shoe_size", "kana"):
        path = tmp_path / "extra.csv"
        path.write_text(f"{HEADER},{extra}\n{ROW.format(ref='c4')},27\n")
        line = one_line_failure(fail(["import", str(path)], db_url, 2), 2)
        assert line == (
            f"error: line 1: the CSV header must be {HEADER} (then name_kana, if given)"
        )
    assert index_rows(db_url) == 9
    assert len(succeed_json(["list"], db_url)["accounts"]) == 5


# -- PostgreSQL roles --------------------------------------------------------

PASSWORD = "kana-role-pw"


@pytest.fixture
def logins(pg_url: str) -> Iterator[dict[str, str]]:
    """A store with roles installed, and a login URL for each of four groups."""
    tag = urlsplit(pg_url).path.lstrip("/")
    names = {role: f"kana_{role.removeprefix('seekers_')}_{tag}" for role in
             (OPERATOR, PRIVACY, AUDITOR, REPORTER)}  # fmt: skip
    succeed(["migrate"], pg_url)
    succeed(["roles", "install"], pg_url)
    host = urlsplit(pg_url).netloc.rpartition("@")[2]
    with psycopg.connect(pg_url, autocommit=True) as connection:
        for name in names.values():
            connection.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{PASSWORD}'")
    try:
        for role, name in names.items():
            succeed(["roles", "grant", role, name], pg_url)
        yield {
            role: urlunsplit(urlsplit(pg_url)._replace(netloc=f"{n}:{PASSWORD}@{host}"))
            for role, n in names.items()
        }
    finally:
        with psycopg.connect(pg_url, autocommit=True) as connection:
            for name in names.values():
                connection.execute(f'DROP ROLE "{name}"')


@pytest.mark.postgres
def test_roles_keep_the_reading_index_to_the_writers(
    pg_url: str, logins: dict[str, str]
) -> None:
    taro = register(pg_url, "taro@example.jp", "--name-kana", TARO)
    hanako = register(
        logins[OPERATOR], "hanako@example.jp", "--name-kana", "やまだ はなこ"
    )
    both = sorted([("workport", taro), ("workport", hanako)])
    assert found(logins[PRIVACY], "ヤマダ") == found(logins[OPERATOR], "やまだ") == both
    assert found(logins[PRIVACY], "はなこ") == [("workport", hanako)]
    for role in (REPORTER, AUDITOR):
        login = urlsplit(logins[role]).username
        refused = run_cli(["find", "--name-kana", "ヤマダ"], db_url=logins[role])
        assert one_line_failure(refused, 7) == (
            f"forbidden: login '{login}' may not find "
            f"(needs role {OPERATOR} or role {PRIVACY})"
        )
    with psycopg.connect(logins[AUDITOR]) as auditor:
        rows = auditor.execute("SELECT seeker_id FROM reading_index").fetchall()
        assert sorted(rows) == sorted([(taro,)] * 3 + [(hanako,)] * 3)
    for role, query in ((AUDITOR, "SELECT digest FROM reading_index"),
                        (AUDITOR, "SELECT * FROM reading_index"),
                        (REPORTER, "SELECT seeker_id FROM reading_index")):  # fmt: skip
        with (
            psycopg.connect(logins[role]) as connection,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            connection.execute(query)
    for role, *step in (
        (OPERATOR, "request-withdrawal", hanako, "--channel", "phone", "--reason",
         "job_found", "--at", "2025-02-01"),
        (OPERATOR, "withdraw", hanako, "--at", "2025-02-02"),
        (PRIVACY, "purge", hanako, "--reason", "deletion_request",
         "--at", "2025-02-03"),
    ):  # fmt: skip
        succeed(step, logins[role], actor="kana.clerk")
    assert index_rows(pg_url, hanako) == 0
    assert found(logins[PRIVACY], "ヤマダ") == [("workport", taro)]


# -- a store set up before the reading index ----------------------------------


def test_a_store_without_the_reading_index_is_set_up_again(tmp_path: Path) -> None:
    store = tmp_path / "seekers.db"
    db_url = f"sqlite:///{store}"
    first = register(db_url, "first@example.jp")
    with sqlite3.connect(store) as connection:  # as the previous version left it
        connection.execute("DROP TABLE reading_index")
        connection.execute(f"PRAGMA user_version = {PREVIOUS_MARK}")
    connection.close()
    assert succeed_json(["show", first], db_url)["name_kana"] is None
    with sqlite3.connect(store) as connection:
        mark = connection.execute("PRAGMA user_version").fetchone()[0]
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert mark == SCHEMA_MARK
    assert {"reading_index", "reading_index_seeker"} <= names
    taro = register(db_url, "taro@example.jp", "--name-kana", "やまだ たろう")
    assert kana(db_url, taro) == TARO
    assert found(db_url, "ヤマダ") == [("workport", taro)]
    assert index_rows(db_url) == 3


@pytest.mark.postgres
def test_a_postgres_store_upgraded_by_its_owner_lets_the_writers_use_the_index(
    pg_url: str, logins: dict[str, str]
) -> None:
    """A store of the previous schema (no reading_index), roles installed,
    upgraded by the owner's next command, as any store is: the operator
    registers with a reading and finds it, as on a store made new."""
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute("DROP TABLE reading_index")
        connection.execute(f"UPDATE {SCHEMA_MARKER} SET version = {SCHEMA_VERSION - 1}")
    assert succeed_json(["list"], pg_url) == {"accounts": []}
    assert index_rows(pg_url) == 0  # the owner's command made the table again
    taro = register(logins[OPERATOR], "taro@example.jp", "--name-kana", TARO)
    assert found(logins[OPERATOR], "ヤマダ") == [("workport", taro)]
