"""The audit machinery and the importer in Japanese (issue #21 §1, SPEC §5
"Language").

Under ``--lang ja`` an auditor reads a verification finding, a forged
checkpoint signature, a tampered evidence bundle or a file that is none of
these, an importer's bad lines and a master key file open to others in
Japanese, through the real entry point; under ``--json`` the codes (a
finding's ``kind``, its account, version and event, an error's ``code``, a
rejected line's number and ref) are exactly the English run's, and only the
human text (a finding's ``detail``, an error's ``message``, a line's
``why``) is Japanese. The English runs beside them keep today's words.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain import i18n
from tests.cli.steps import one_line_failure
from tests.helpers import CliResult, run_cli
from tests.integrity.support import account_param, events_table, raw


@pytest.fixture(autouse=True)
def english_afterwards(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each run activates its language; leave the process as it was."""
    monkeypatch.setenv("LANGUAGE", "en")
    yield
    i18n.activate("en")


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def _register(db_url: str, email: str = "aya@example.jp") -> str:
    done = run_cli(
        ["--json", "register", "--name", "森 彩", "--email", email,
         "--birth-date", "1990-01-01", "--policy", "workport",
         "--at", "2025-01-10"],
        db_url=db_url,
    )  # fmt: skip
    assert done.code == 0, done.stderr
    return str(done.json()["id"])


def _findings(result: CliResult) -> list[dict[str, Any]]:
    assert result.code == 1, result.stderr
    findings: list[dict[str, Any]] = result.json()["findings"]
    return findings


def _codes(findings: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (f["kind"], f["account"], f["version"], f["notification_id"]) for f in findings
    ]


# -- a tampered store ------------------------------------------------------


def test_a_tampered_event_is_a_japanese_finding_and_keeps_its_codes(
    db_url: str,
) -> None:
    seeker = _register(db_url)
    applied = run_cli(
        ["apply", seeker, "--job", "Driver", "--route", "agency",
         "--at", "2025-01-11"],
        db_url=db_url,
    )  # fmt: skip
    assert applied.code == 0, applied.stderr
    table = events_table(db_url)
    where = "WHERE originator_id = ? AND originator_version = 2"
    state = bytes(
        raw(
            db_url,
            f"SELECT state FROM {table} {where}",
            (account_param(db_url, seeker),),
        )[0][0]
    )
    raw(
        db_url,
        f"UPDATE {table} SET state = ? {where}",
        (state.replace(b"Driver", b"Pilots"), account_param(db_url, seeker)),
    )

    english = _findings(run_cli(["--json", "audit", "verify"], db_url=db_url))
    nid = english[0]["notification_id"]
    japanese = run_cli(["--lang", "ja", "audit", "verify"], db_url=db_url)
    assert japanese.code == 1, japanese.stderr
    assert japanese.stdout.splitlines()[1] == (
        f"  改ざん（アカウント {seeker}、バージョン 2、イベント #{nid}）: "
        "保存された内容（状態またはトピック）がハッシュチェーンに記録されたものと"
        "異なります"
    )
    in_japanese = _findings(
        run_cli(["--lang", "ja", "--json", "audit", "verify"], db_url=db_url)
    )
    assert _codes(in_japanese) == _codes(english) == [("altered", seeker, 2, nid)]
    assert english[0]["detail"] == (
        "stored bytes (state or topic) differ from what was chained"
    )
    assert in_japanese[0]["detail"] == (
        "保存された内容（状態またはトピック）がハッシュチェーンに記録されたものと異なります"
    )
    plain = run_cli(["audit", "verify"], db_url=db_url).stdout.splitlines()
    assert plain[1] == (
        f"  altered (account {seeker}, version 2, event #{nid}): "
        "stored bytes (state or topic) differ from what was chained"
    )


# -- checkpoints and evidence bundles --------------------------------------


def test_a_forged_checkpoint_signature_and_a_file_that_is_no_checkpoint(
    tmp_path: Path,
) -> None:
    db_url = _sqlite(tmp_path)
    _register(db_url)
    key = tmp_path / "audit.key"
    assert run_cli(["audit", "keygen", "--output", str(key)]).code == 0
    kept = tmp_path / "auditor.txt"
    signed = run_cli(
        ["audit", "checkpoint", "--output", str(kept), "--sign-key", str(key)],
        db_url=db_url,
    )
    assert signed.code == 0, signed.stderr
    text = kept.read_text()
    line = next(each for each in text.splitlines() if each.startswith("\u2014"))
    forged = line[:-6] + ("A" if line[-6] != "A" else "B") + line[-5:]
    kept.write_text(text.replace(line, forged))
    given = ["--checkpoint", str(kept), "--public-key", f"{key}.pub"]

    japanese = run_cli(["--lang", "ja", "audit", "verify", *given], db_url=db_url)
    assert japanese.code == 1, japanese.stderr
    assert japanese.stdout.splitlines()[1] == (
        "  署名: チェックポイント auditor.txt には指定の公開鍵の署名がありますが、"
        "検証できません（署名の偽造か、チェックポイントの改ざん）"
    )
    english = run_cli(["--json", "audit", "verify", *given], db_url=db_url)
    in_japanese = run_cli(
        ["--lang", "ja", "--json", "audit", "verify", *given], db_url=db_url
    )
    assert _codes(_findings(in_japanese)) == _codes(_findings(english))
    assert _codes(_findings(english)) == [("signature", None, None, None)]

    not_one = tmp_path / "notes.txt"
    not_one.write_text("チェックポイントのメモ\n")
    line = one_line_failure(
        run_cli(
            ["--lang", "ja", "audit", "verify", "--checkpoint", str(not_one)],
            db_url=db_url,
        ),
        2,
    )
    assert line.endswith(
        f"{not_one}: チェックポイントではありません"
        "（発行元、サイズ、ルート、時刻、空行の順に必要です）"
    )
    document = json.loads(
        one_line_failure(
            run_cli(
                ["--lang", "ja", "--json", "audit", "verify", "--checkpoint",
                 str(not_one)],
                db_url=db_url,
            ),
            2,
        )
    )  # fmt: skip
    assert document["error"]["code"] == 2
    assert document["error"]["message"].startswith(
        f"{not_one}: チェックポイントではありません"
    )


def test_a_tampered_evidence_bundle_and_a_file_that_is_no_bundle(
    tmp_path: Path,
) -> None:
    db_url = _sqlite(tmp_path)
    seeker = _register(db_url)
    bundle = tmp_path / "evidence.json"
    proved = run_cli(["audit", "prove", seeker, "--output", str(bundle)], db_url=db_url)
    assert proved.code == 0, proved.stderr
    document = json.loads(bundle.read_text())
    document["events"][0]["principal"] = "mallory"  # who wrote it, rewritten
    bundle.write_text(json.dumps(document))

    japanese = run_cli(["--lang", "ja", "audit", "verify", "--bundle", str(bundle)])
    assert japanese.code == 1, japanese.stderr
    finding = japanese.stdout.splitlines()[1]
    assert finding.startswith(
        f"  改ざん（アカウント {seeker}、バージョン 1、イベント #"
    )
    assert finding.endswith("）: ハッシュチェーンが途切れています")
    english = run_cli(["--json", "audit", "verify", "--bundle", str(bundle)])
    in_japanese = run_cli(
        ["--lang", "ja", "--json", "audit", "verify", "--bundle", str(bundle)]
    )
    assert _codes(_findings(in_japanese)) == _codes(_findings(english))
    assert [f["detail"] for f in _findings(english)] == ["stream chain broken"]

    not_json = tmp_path / "evidence.txt"
    not_json.write_text("証拠\n")
    line = one_line_failure(
        run_cli(["--lang", "ja", "audit", "verify", "--bundle", str(not_json)]), 2
    )
    assert line.endswith(f"{not_json}: 証拠一式ではありません（JSON ではありません）")
    line = one_line_failure(run_cli(["audit", "verify", "--bundle", str(not_json)]), 2)
    assert line == f"error: {not_json}: not an evidence bundle (not JSON)"


# -- the importer -----------------------------------------------------------


def _line(**fields: Any) -> str:
    base = {"occurred_at": "2025-01-10T09:00:00+09:00", "actor": "佐藤"}
    return json.dumps({**base, **fields}, ensure_ascii=False)


def test_bad_import_lines_in_japanese_keep_their_numbers_and_refs(
    tmp_path: Path,
) -> None:
    db_url = _sqlite(tmp_path)
    registered = {
        "type": "Registered",
        "policy": "workport",
        "name": "阿部 健",
        "birth_date": "1990-01-01",
    }
    file = tmp_path / "agency.jsonl"
    file.write_text(
        "\n".join(
            [
                _line(ref="G-1", email="ken@example.jp", **registered),
                '{"ref": "B-json", "type": ',
                _line(ref="B-first", type="Applied", job="事務", route="agency"),
                _line(ref="B-back", email="mio@example.jp", **registered),
                _line(
                    ref="B-back",
                    type="Applied",
                    job="事務",
                    route="agency",
                    occurred_at="2025-01-09T09:00:00+09:00",
                ),
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    japanese = run_cli(["--lang", "ja", "import", str(file)], db_url=db_url)
    assert japanese.code == 1
    lines = japanese.stderr.splitlines()
    assert lines[0] == "2行目: JSON ではありません: 27文字目"  # where it stopped
    assert lines[1:] == [
        "3行目: 'ref' が 'B-first' の最初の行は求職登録にしてください"
        "（応募になっています）",
        "5行目: 'ref' が 'B-back' の行の時刻がさかのぼっています: "
        "2025年1月9日 9:00 は 2025年1月10日 9:00 より前です",
    ]

    english = run_cli(["--json", "import", "--dry-run", str(file)], db_url=db_url)
    in_japanese = run_cli(
        ["--lang", "ja", "--json", "import", "--dry-run", str(file)], db_url=db_url
    )
    rejections = english.json()["rejections"]
    assert [(r["line"], r["ref"]) for r in rejections] == [
        (2, "B-json"),
        (3, "B-first"),
        (5, "B-back"),
    ]
    assert [(r["line"], r["ref"]) for r in in_japanese.json()["rejections"]] == [
        (r["line"], r["ref"]) for r in rejections
    ]
    assert rejections[1]["why"] == (
        "the first line of ref 'B-first' must be Registered, not Applied"
    )
    assert rejections[2]["why"] == (
        "time goes backwards for ref 'B-back': "
        "2025-01-09T09:00:00+09:00 is before 2025-01-10T09:00:00+09:00"
    )


# -- the master key ---------------------------------------------------------


def test_a_master_key_file_open_to_others_is_refused_in_japanese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEEKERS_MASTER_KEY")  # the key file beside the store
    db_url = _sqlite(tmp_path)
    key_file = tmp_path / "ledger.db.key"
    made = run_cli(
        ["--lang", "ja", "--json", "register", "--name", "森 彩",
         "--email", "aya@example.jp", "--birth-date", "1990-01-01",
         "--policy", "workport", "--at", "2025-01-10"],
        db_url=db_url,
    )  # fmt: skip
    assert made.code == 0, made.stderr
    seeker = str(made.json()["id"])
    assert (
        f"マスター鍵のファイル {key_file} を作成しました（権限 0600）。"
        "このファイルがないと、この台帳の個人情報は読めません。"
        "バックアップを取るか、代わりに SEEKERS_MASTER_KEY を設定してください"
    ) in made.stderr
    os.chmod(key_file, 0o644)

    line = one_line_failure(run_cli(["--lang", "ja", "show", seeker], db_url=db_url), 6)
    assert line.endswith(
        f"'{key_file}' の権限 0644 は開きすぎています。"
        f"マスター鍵は所有者だけが読めるようにしてください（chmod 600 {key_file}）"
    )
    document = json.loads(
        one_line_failure(
            run_cli(["--lang", "ja", "--json", "show", seeker], db_url=db_url), 6
        )
    )
    assert document["error"]["code"] == 6
    assert document["error"]["message"].startswith(f"'{key_file}' の権限 0644 は")
    line = one_line_failure(run_cli(["show", seeker], db_url=db_url), 6)
    assert line.endswith(
        f"permissions 0644 for '{key_file}' are too open: the master key must "
        f"be readable by its owner only; chmod 600 {key_file}"
    )
