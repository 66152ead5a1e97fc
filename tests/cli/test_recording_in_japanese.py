"""The recording and operations commands in Japanese (SPEC §5, "Language";
issue #21 §1), and in English word for word as before.

Each command is run under ``--lang ja`` and under ``--lang en`` on both
stores (``roles`` on PostgreSQL only), and a key line of each is expected
exactly: the notes a recording command adds, the sweep, ``simulate``,
``projections``, ``import``, ``audit``, ``roles`` and ``migrate``, the
progress line (on a terminal), and the errors these commands raise
themselves. Codes are shown through the glossary, counts with Japanese
counters, dates as ``2026年1月1日 0:00`` (``令和8年…`` with ``--era``); ids,
command names, file paths and SQL role names stay as typed. ``--json``
keeps its English.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from unicodedata import east_asian_width

import psycopg
import pytest

from domain import i18n
from domain.glossary import label
from tests.cli.test_interrupts import saved_events
from tests.helpers import CliResult, run_cli, seekers_env, seekers_script

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "import" / "agency.jsonl"
"""44 lines: 27 events of 5 good accounts, 9 bad lines (16 lines rejected
with the rest of their accounts), line 44 repeating line 17."""


@pytest.fixture(autouse=True)
def english_afterwards(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each run activates its language; leave the process as it was."""
    monkeypatch.setenv("LANGUAGE", "en")
    yield
    i18n.activate("en")


def seekers(lang: str, db_url: str | None, *args: str) -> CliResult:
    return run_cli(["--lang", lang, *args], db_url=db_url)


def ok(lang: str, db_url: str | None, *args: str) -> CliResult:
    result = seekers(lang, db_url, *args)
    assert result.code == 0, (args, result.stdout, result.stderr)
    return result


def failure(lang: str, db_url: str | None, code: int, *args: str) -> str:
    """The one stderr line of a failure, nothing on stdout."""
    result = seekers(lang, db_url, *args)
    assert result.code == code, (args, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def lines(text: str) -> list[str]:
    return text.splitlines()


def register(db_url: str, *, policy: str = "workport", at: str = "2024-01-10") -> str:
    email = f"{uuid.uuid4().hex[:10]}@example.jp"
    result = run_cli(
        ["--json", "register", "--name", "森 彩", "--email", email,
         "--birth-date", "1990-01-01", "--policy", policy, "--at", at],
        db_url=db_url,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    return str(result.json()["id"])


def in_japanese(kind: str, code: str) -> str:
    """The glossary's Japanese for a code (the catalog's word, not this test's)."""
    i18n.activate("ja")
    try:
        return label(kind, code)
    finally:
        i18n.activate("en")


def cells(row: str) -> list[str]:
    """A table row's cells (columns are two or more spaces apart)."""
    return re.split(r" {2,}", row.strip())


def width(text: str) -> int:
    return sum(2 if east_asian_width(c) in "WF" else 1 for c in text)


# -- recording commands --------------------------------------------------------


def test_apply_names_the_new_application(db_url: str) -> None:
    seeker = register(db_url)
    japanese = ok("ja", db_url, "apply", seeker, "--job", "事務", "--at", "2024-01-11")
    assert "応募ID: A1" in lines(japanese.stdout)
    english = ok("en", db_url, "apply", seeker, "--job", "Clerk", "--at", "2024-01-12")
    assert "application: A2" in lines(english.stdout)


def test_request_withdrawal_suggests_what_to_do_instead(db_url: str) -> None:
    withdrawal = ("request-withdrawal", "--channel", "phone", "--reason",
                  "no_suitable_jobs", "--at", "2024-01-12")  # fmt: skip
    seeker = register(db_url)
    japanese = ok("ja", db_url, withdrawal[0], seeker, *withdrawal[1:])
    suggestions = [line for line in lines(japanese.stdout) if "選択肢" in line]
    assert suggestions == [
        "退会以外の選択肢: サービスの停止（cancel-withdrawal のあと pause）",
        "退会以外の選択肢: 希望条件を広げる: ほかの職種・勤務地・条件",
    ]
    other = register(db_url)
    english = ok("en", db_url, withdrawal[0], other, *withdrawal[1:])
    assert [line for line in lines(english.stdout) if "instead" in line] == [
        "suggest instead: pause the service (cancel-withdrawal, then pause)",
        "suggest instead: widen the search: other job types, areas or conditions",
    ]
    third = register(db_url)
    document = ok("ja", db_url, "--json", withdrawal[0], third, *withdrawal[1:])
    assert json.loads(document.stdout)["suggested_alternatives"] == [
        "pause the service (cancel-withdrawal, then pause)",
        "widen the search: other job types, areas or conditions",
    ]


# -- sweep and simulate --------------------------------------------------------


def test_sweep_says_what_it_did_with_dates_and_reasons_in_japanese(
    db_url: str,
) -> None:
    # HelloWork: lapsed 2020-04-01, purge due 2025-04-01.
    seeker = register(db_url, policy="hellowork", at="2020-01-10")
    looked = ok("ja", db_url, "sweep", "--at", "2026-01-01", "--dry-run")
    said = lines(looked.stdout)
    assert (
        said[0] == "2026年1月1日 0:00 時点の期限処理（確認のみ）: 2件を実行する予定です"
    )
    assert cells(said[1]) == ["ID", "処理", "理由", "発効日時"]
    assert cells(said[3]) == [
        seeker,
        in_japanese("command", "lapse"),
        in_japanese("lapse reason", "registration_expired"),
        "2020年4月1日 0:00",
    ]
    assert cells(said[4]) == [
        seeker,
        in_japanese("command", "purge"),
        in_japanese("purge reason", "retention_expired"),
        "2025年4月1日 0:00",
    ]
    era = ok("ja", db_url, "--era", "sweep", "--at", "2026-01-01", "--dry-run")
    assert lines(era.stdout)[0].startswith("令和8年1月1日 0:00 時点の期限処理")

    english = ok("en", db_url, "sweep", "--at", "2026-01-01", "--dry-run")
    assert lines(english.stdout)[:3] == [
        "sweep at 2026-01-01T00:00:00+09:00: would do 2 action(s)",
        "id                                    command  reason                "
        "effective",
        "------------------------------------  -------  --------------------  "
        "----------------",
    ]
    assert cells(lines(english.stdout)[3]) == [
        seeker, "lapse", "registration_expired", "2020-04-01 00:00",
    ]  # fmt: skip

    done = ok("ja", db_url, "sweep", "--at", "2026-01-01")
    assert (
        lines(done.stdout)[0] == "2026年1月1日 0:00 時点の期限処理: 2件を実行しました"
    )
    again = ok("en", db_url, "sweep", "--at", "2026-01-01")
    assert again.stdout == "sweep at 2026-01-01T00:00:00+09:00: did 0 action(s)\n"


def test_sweep_refuses_the_future_in_japanese(db_url: str) -> None:
    japanese = failure("ja", db_url, 2, "sweep", "--at", "2099-01-01")
    assert japanese.endswith(
        "--at 2099年1月1日 0:00 は未来の日時です。"
        "先の日時で実行できるのは --dry-run のときだけです"
    )
    english = failure("en", db_url, 2, "sweep", "--at", "2099-01-01")
    assert english == (
        "error: --at 2098-12-31T15:00:00+00:00 is in the future; "
        "only a --dry-run may look ahead"
    )


def test_simulate_counts_in_japanese_and_names_the_states(db_url: str) -> None:
    states = ("active", "paused", "unreachable", "lapsed", "withdrawal_requested",
              "withdrawn", "purged")  # fmt: skip
    japanese = ok("ja", db_url, "simulate", "--seekers", "12", "--years", "1")
    first, *rest = lines(japanese.stdout)
    assert re.fullmatch(
        r"求職者 12人、イベント \d+件を生成しました"
        r"（ルールにより拒否されたコマンド \d+件）。所要時間 \d+\.\d秒",
        first,
    ), first
    names = {in_japanese("account state", state) for state in states}
    counted = 0
    for line in rest:
        shown = re.fullmatch(r"  (\S+)( +)(\d+)", line)
        assert shown is not None and shown[1] in names, line
        assert width(shown[1]) + len(shown[2]) == 22, line  # the counts aligned
        counted += int(shown[3])
    assert counted == 12

    english = ok("en", db_url, "simulate", "--seekers", "12", "--seed", "7")
    first, *rest = lines(english.stdout)
    assert re.fullmatch(
        r"simulated 12 seekers, \d+ events \(\d+ commands refused by the rules\) "
        r"in \d+\.\d s",
        first,
    ), first
    for line in rest:
        shown = re.fullmatch(r"  (\S+)( +)(\d+)", line)
        assert shown is not None and shown[1] in states, line
        assert len(shown[1]) + len(shown[2]) == 22, line


def test_ctrl_c_during_simulate_says_what_was_kept_in_japanese(
    tmp_path: Path,
) -> None:
    store = tmp_path / "seekers.db"
    process = subprocess.Popen(
        [seekers_script(), "--db", f"sqlite:///{store}",
         "--lang", "ja", "simulate", "--seekers", "200000", "--seed", "3"],
        env=seekers_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    # Ctrl-C once a first batch is saved, not after a fixed pause that a busy
    # machine may spend starting up.
    deadline = time.monotonic() + 120
    while not saved_events(store):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"simulate saved nothing: {process.communicate(timeout=60)[1]}")
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stderr = process.communicate(timeout=60)[1]
    assert process.returncode == 130, stderr
    last = [line for line in stderr.splitlines() if line.strip()][-1]
    # One label before the sentence (cli/errors.py's word for "interrupted"),
    # not two: the sentence itself does not say it again in Japanese.
    assert re.fullmatch(
        r"[^ ]+: 求職者 200000人のうち \d+人をバッチ単位で保存しました"
        r"（書きかけのものはありません）。'seekers projections catch-up' で"
        r"プロジェクションに反映できます。もう一度実行するときは --seed に 3 "
        r"以外を指定してください",
        last,
    ), last


# -- projections ---------------------------------------------------------------


def test_projections_status_catch_up_and_rebuild_in_japanese(db_url: str) -> None:
    register(db_url)
    status = ok("ja", db_url, "projections", "status")
    header, _rule, *rows = lines(status.stdout)
    assert cells(header) == ["プロジェクション", "位置", "ログの末尾", "遅れ", "再構築"]
    assert [cells(row)[0] for row in rows] == ["accounts", "audit_trail"]
    assert cells(lines(ok("en", db_url, "projections", "status").stdout)[0]) == [
        "projection", "position", "head", "lag", "rebuild",
    ]  # fmt: skip

    caught_up = lines(ok("ja", db_url, "projections", "catch-up").stdout)
    assert caught_up[:2] == [
        "accounts の追いつき処理: イベント 0件",
        "audit_trail の追いつき処理: イベント 0件",
    ]
    assert re.fullmatch(r"所要時間 \d+\.\d\d秒", caught_up[2]), caught_up

    rebuilt = lines(ok("ja", db_url, "projections", "rebuild", "accounts").stdout)
    assert rebuilt[0] == "accounts の再構築: イベント 1件"
    assert re.fullmatch(r"所要時間 \d+\.\d\d秒", rebuilt[1]), rebuilt

    english = lines(ok("en", db_url, "projections", "rebuild", "accounts").stdout)
    assert english[0] == "rebuild accounts: 1 event(s)"
    assert re.fullmatch(r"in \d+\.\d\d s", english[1]), english


def test_a_poll_that_is_not_a_number_of_seconds_in_japanese() -> None:
    japanese = failure("ja", None, 2, "projections", "run", "--poll", "inf")
    assert japanese.endswith(
        "'inf' は秒数として正しくありません（0.05〜3600 の数を指定してください）"
    )
    english = failure("en", None, 2, "projections", "run", "--poll", "inf")
    assert english == (
        "error: Invalid value for '--poll': 'inf' is not a number of seconds "
        "from 0.05 to 3600"
    )


def _follow_then_stop(db_url: str, lang: str) -> list[str]:
    """``projections run`` as its own process: its stderr lines once it
    follows the log and is sent SIGTERM."""
    process = subprocess.Popen(
        [seekers_script(), "--db", db_url, "--lang", lang, "projections", "run"],
        env=seekers_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        ready, _, _ = select.select([process.stderr], [], [], 30)
        assert ready, "projections run said nothing in 30 s"
        first = process.stderr.readline()
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=10)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 0, (first, rest)
    return [first.rstrip("\n"), *rest.splitlines()]


def test_projections_run_says_how_it_follows_and_that_it_stopped(
    db_url: str,
) -> None:
    register(db_url)
    said = _follow_then_stop(db_url, "ja")
    how = (
        "PostgreSQL の購読" if db_url.startswith("postgresql") else "SQLite: ポーリング"
    )
    assert said[0] == f"ログを追跡しています（{how}）。Ctrl-C で停止します"
    assert said[-1] == "停止しました"
    english = _follow_then_stop(db_url, "en")
    how = (
        "PostgreSQL subscription"
        if db_url.startswith("postgresql")
        else ("SQLite: polling")
    )
    assert english[0] == f"following the log ({how}); Ctrl-C to stop"
    assert english[-1] == "stopped"


# -- import --------------------------------------------------------------------


def test_import_summary_counts_in_japanese(db_url: str) -> None:
    looked = seekers("ja", db_url, "import", str(FIXTURE), "--dry-run")
    assert looked.code == 1
    assert looked.stdout == (
        "確認のみ: イベント 27件を 5件のアカウントに取り込む予定です"
        "（新規 5件、既存への追加 0件）。取り込み済み 1行、却下 16行"
        "（不正な行 9行と、同じアカウントの残りの行）\n"
    )
    result = seekers("ja", db_url, "import", str(FIXTURE))
    assert result.code == 1
    assert result.stdout == (
        "イベント 27件を 5件のアカウントに取り込みました"
        "（新規 5件、既存への追加 0件）。取り込み済み 1行、却下 16行"
        "（不正な行 9行と、同じアカウントの残りの行）\n"
    )
    said = lines(result.stderr)
    assert (
        "注: 44行目は17行目と同じ内容です（ref 'W-001'）。"
        "取り込み済みとして飛ばしました" in said
    )
    assert [line.split(": ")[0] for line in said if not line.startswith("注")] == [
        f"{n}行目" for n in (29, 31, 33, 36, 38, 39, 40, 42, 43)
    ]

    again = seekers("en", db_url, "import", str(FIXTURE))
    assert again.code == 1
    assert again.stdout == (
        "imported 0 event(s) into 0 account(s) (0 new, 0 continued); "
        "28 line(s) already in; 16 line(s) rejected (9 bad, the rest of their "
        "accounts)\n"
    )
    assert (
        "note: line 44 repeats line 17 (ref 'W-001'): skipped as already in"
        in lines(again.stderr)
    )
    assert "line 29: not JSON" in again.stderr


def test_import_of_a_file_that_cannot_be_read_in_japanese(
    db_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "nothing.jsonl"
    japanese = failure("ja", db_url, 2, "import", str(missing))
    assert japanese.endswith(f"{missing} を読み込めません: ファイルがありません")
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(b"ref,name\nx,Jos\xe9\n")
    assert failure("ja", db_url, 2, "import", str(latin)).endswith(
        f"{latin} を読み込めません: UTF-8 のテキストではありません（バイト位置 14）"
    )
    assert failure("en", db_url, 2, "import", str(tmp_path)) == (
        f"error: cannot read {tmp_path}: a directory, not a file"
    )


# -- the progress line, on a terminal -----------------------------------------


def _stderr_on_a_terminal(db_url: str, *args: str, code: int = 0) -> str:
    """stderr of ``seekers`` run with stderr on a pseudo-terminal, where the
    progress line shows (it never does in a pipe)."""
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [seekers_script(), "--db", db_url, *args],
            env=seekers_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=follower,
            timeout=120,
            check=False,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while select.select([leader], [], [], 0.5)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal is closed: all read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert done.returncode == code, b"".join(chunks)
    return b"".join(chunks).decode()


def _last_progress(stderr: str) -> str:
    """The progress line as last drawn (each draw starts with a carriage return)."""
    return stderr.replace("\r\n", "\n").split("\r")[-1].strip()


def test_the_progress_line_counts_in_japanese(db_url: str) -> None:
    register(db_url)
    register(db_url)
    japanese = _last_progress(
        _stderr_on_a_terminal(db_url, "--lang", "ja", "audit", "verify")
    )
    assert re.fullmatch(r"verify \[#{30}\] 2/2件 [\d,]+件/秒 残り 0:00:00", japanese)
    english = _last_progress(
        _stderr_on_a_terminal(db_url, "--lang", "en", "audit", "verify")
    )
    assert re.fullmatch(r"verify \[#{30}\] 2/2 events [\d,]+ ev/s ETA 0:00:00", english)
    lines_in = _last_progress(
        _stderr_on_a_terminal(db_url, "--lang", "ja", "import", str(FIXTURE), code=1)
        .replace("\r\n", "\n")
        .split("\n")[0]
    )
    assert re.fullmatch(r"import \[#{30}\] 44/44行 [\d,]+行/秒 残り 0:00:00", lines_in)


# -- audit ---------------------------------------------------------------------


def test_audit_verify_export_prove_and_replay_in_japanese(
    db_url: str, tmp_path: Path
) -> None:
    seeker = register(db_url)
    register(db_url)
    assert ok("ja", db_url, "audit", "verify").stdout == (
        "イベントログを検証しました: イベント 2件、ストリーム 2件、"
        "チェックポイント 0件。改ざんは検知されませんでした\n"
    )
    assert ok("en", db_url, "audit", "verify").stdout == (
        "verified the event log: 2 events in 2 stream(s), 0 checkpoint(s): "
        "no findings\n"
    )

    exported = tmp_path / "export"
    assert ok("ja", db_url, "audit", "export", "--output", str(exported)).stdout == (
        f"イベント 2件を {exported} にエクスポートしました（ツリーサイズ 2）\n"
    )
    assert ok("ja", None, "audit", "verify", "--export", str(exported)).stdout == (
        f"エクスポート（{exported}）を検証しました: イベント 2件、ストリーム 2件、"
        "チェックポイント 0件。改ざんは検知されませんでした\n"
    )

    bundle = tmp_path / "bundle.json"
    proven = ok("ja", db_url, "audit", "prove", seeker, "--output", str(bundle))
    assert proven.stdout == (
        f"求職者 {seeker} の証拠一式: イベント 1件をログのチェックポイントに照らして"
        f"証明し、{bundle} に書き出しました\n"
    )
    checked = ok("ja", None, "audit", "verify", "--bundle", str(bundle))
    assert lines(checked.stdout)[0] == (
        f"求職者 {seeker} の証拠一式を検証しました: イベント 1件、"
        "ストリーム 1件、チェックポイント 0件。改ざんは検知されませんでした"
    )

    assert ok("ja", db_url, "audit", "replay").stdout == (
        "アカウント 2件の履歴を現在のルールで再生しました: "
        "ルールが拒否するイベント 0件\n"
    )
    assert ok("en", db_url, "audit", "replay").stdout == (
        "replayed 2 account(s): 0 event(s) the rules would refuse\n"
    )
    both = ("audit", "verify", "--export", str(exported), "--bundle", str(bundle))
    assert failure("ja", None, 2, *both).endswith(
        "--export と --bundle は同時に指定できません。どちらか一方を指定してください"
    )
    assert failure("en", None, 2, *both) == (
        "error: give --export or --bundle, not both"
    )


def test_audit_keygen_and_a_signed_checkpoint_in_japanese(
    db_url: str, tmp_path: Path
) -> None:
    register(db_url)
    key = tmp_path / "audit.key"
    made = lines(ok("ja", None, "audit", "keygen", "--output", str(key)).stdout)
    assert made[:2] == [
        f"署名鍵: {key}（権限 0600。秘密にしてください）",
        f"公開鍵: {key}.pub（監査人に渡してください）",
    ]
    assert re.fullmatch(
        r"検証鍵: \S+（署名付きノート形式、ノート対応ツール用）", made[2]
    )
    english = lines(
        ok("en", None, "audit", "keygen", "--output", str(tmp_path / "k")).stdout
    )
    assert english[0] == f"signing key  {tmp_path / 'k'} (mode 0600: keep it secret)"

    kept = tmp_path / "checkpoint.txt"
    signed = ok("ja", db_url, "audit", "checkpoint", "--sign-key", str(key),
                "--output", str(kept))  # fmt: skip
    assert (
        signed.stdout == f"イベント 1件のチェックポイントを {kept} に書き出しました\n"
    )
    verified = ok("ja", db_url, "audit", "verify", "--checkpoint", str(kept),
                  "--public-key", f"{key}.pub")  # fmt: skip
    assert lines(verified.stdout)[0] == (
        "イベントログを検証しました: イベント 1件、ストリーム 1件、"
        "チェックポイント 2件。改ざんは検知されませんでした"  # the store's and ours
    )


# -- roles and migrate ---------------------------------------------------------


def test_roles_on_sqlite_say_there_are_none_in_japanese(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'seekers.db'}"
    register(url)
    assert ok("ja", url, "roles").stdout == (
        "SQLite のストア: 一人の利用者のための一つのファイルで、ロールはありません\n"
    )
    document = ok("ja", url, "--json", "roles").json()
    assert document["note"] == "SQLite store: one file for one user, no roles"
    assert failure("ja", url, 2, "roles", "install").endswith(
        "ロールは PostgreSQL の機能です。SQLite のストアは一人の利用者のための"
        "一つのファイルです"
    )
    assert failure("en", url, 2, "roles", "install") == (
        "error: roles are PostgreSQL's: a SQLite store is one file for one user"
    )


@pytest.mark.postgres
def test_roles_and_migrate_in_japanese(pg_url: str) -> None:
    ready = ok("en", pg_url, "--json", "migrate").json()["done"]
    assert ready.startswith("schema of ") and ready.endswith(" is ready")
    shown_url = ready.removeprefix("schema of ").removesuffix(" is ready")
    assert ok("ja", pg_url, "migrate").stdout == (
        f"{shown_url} のスキーマの準備ができました\n"
    )

    listed = lines(ok("ja", pg_url, "roles").stdout)
    assert listed[0] == (
        "単一ログインモード: このストアにはロールが作成されていません。ストアの"
        "所有者がすべてのコマンドを実行します（所有者が 'seekers roles install' "
        "を実行するとロールを作成します）"
    )
    assert cells(listed[1]) == [
        "コマンド", "operator", "privacy", "auditor", "reporter", "admin",
    ]  # fmt: skip
    assert "（ストアの所有者はすべてのコマンドを実行できます）" in listed
    assert "seekers_operator: -" in listed

    assert ok("ja", pg_url, "roles", "install").stdout == (
        "ロールを作成しました: seekers_operator, seekers_privacy, seekers_auditor, "
        "seekers_reporter, seekers_admin。ログはどのロールにも追記のみ許可されます\n"
    )
    document = ok("ja", pg_url, "--json", "roles", "install").json()
    assert document == {
        "done": "roles installed: seekers_operator, seekers_privacy, "
        "seekers_auditor, seekers_reporter, seekers_admin; the log is "
        "append-only for all"
    }

    nobody = f"nobody_{uuid.uuid4().hex[:8]}"
    assert failure(
        "ja", pg_url, 3, "roles", "grant", "seekers_operator", nobody
    ).endswith(f"ログイン '{nobody}'（データベースにそのロールはありません）")

    login = f"clerk_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute(f'CREATE ROLE "{login}" LOGIN')
    try:
        granted = ok("ja", pg_url, "roles", "grant", "seekers_auditor", login)
        assert granted.stdout == f"{login} に seekers_auditor を付与しました\n"
        revoked = ok("ja", pg_url, "roles", "revoke", "seekers_auditor", login)
        assert revoked.stdout == f"{login} の seekers_auditor を取り消しました\n"
        english = ok("en", pg_url, "roles", "grant", "seekers_auditor", login)
        assert english.stdout == f"granted seekers_auditor to {login}\n"
        ok("en", pg_url, "roles", "revoke", "seekers_auditor", login)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as connection:
            connection.execute(f'DROP ROLE IF EXISTS "{login}"')


# -- --output files ------------------------------------------------------------


def test_an_output_that_cannot_be_written_in_japanese(
    db_url: str, tmp_path: Path
) -> None:
    register(db_url)
    nowhere = tmp_path / "no" / "report.html"
    japanese = failure("ja", db_url, 2, "report", "html", "--output", str(nowhere))
    assert japanese.endswith(
        f"--output {nowhere}: フォルダー {nowhere.parent} がありません"
    )
    folder = failure("ja", db_url, 2, "report", "html", "--output", str(tmp_path))
    assert folder.endswith(
        f"--output {tmp_path}: フォルダーです。ファイル名を指定してください"
    )
    english = failure("en", db_url, 2, "report", "html", "--output", str(nowhere))
    assert english == f"error: --output {nowhere}: no such folder {nowhere.parent}"


def test_a_checkpoint_note_is_the_same_in_every_language(db_url: str) -> None:
    """The checkpoint itself (a signed note) is a machine format: its origin,
    size and root read the same under ``--lang ja``."""
    register(db_url)
    printed = ok("ja", db_url, "audit", "checkpoint").stdout
    assert printed.isascii()
    english = ok("en", db_url, "audit", "checkpoint").stdout
    assert english.splitlines()[:3] == printed.splitlines()[:3]
