"""``make demo``: a realistic lifecycle across the three policies.

Runs the real ``seekers`` entry point on a fresh SQLite file, printing each
command line and what the operator and the auditor see.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import sqlite3
import sys
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import click

from cli.main import main

DEMO_DB = Path("demo-data") / "seekers.db"


class Demo:
    def __init__(self, db: Path) -> None:
        self.db_url = f"sqlite:///{db}"

    def run(
        self, *args: str, actor: str = "advisor.kato", limit: int | None = None
    ) -> int:
        """Run one ``seekers`` command as an operator would, echoing it
        (its output cut after ``limit`` lines)."""
        argv = ["--db", self.db_url, "--actor", actor, *args]
        shown = " ".join(shlex.quote(a) for a in args)
        click.secho(f"\n$ seekers {shown}", fg="cyan", bold=True)
        buffer = StringIO()
        code = 0
        with redirect_stdout(buffer):
            try:
                main(argv)
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else 1
        lines = buffer.getvalue().rstrip().splitlines()
        if limit is not None and len(lines) > limit:
            hidden = len(lines) - limit
            lines = [*lines[:limit], f"... ({hidden} more lines)"]
        click.echo("\n".join(lines))
        if code:
            click.secho(f"(exit {code})", fg="yellow")
        return code

    def new_id(
        self,
        *args: str,
        actor: str = "advisor.kato",
        options: tuple[str, ...] = (),
    ) -> str:
        """Register and return the new account's id (JSON output, not printed);
        ``options`` are global ones (``--lang ja``), shown before the command."""
        argv = ["--db", self.db_url, "--actor", actor, *options, "--json", "register"]
        shown = " ".join(shlex.quote(a) for a in [*options, "register", *args])
        click.secho(f"\n$ seekers {shown}", fg="cyan", bold=True)
        buffer = StringIO()
        with redirect_stdout(buffer):
            try:
                main([*argv, *args])
            except SystemExit as done:
                if done.code:
                    raise
        seeker_id: str = json.loads(buffer.getvalue())["id"]
        click.echo(f"registered {seeker_id}")
        return seeker_id


def section(title: str) -> None:
    click.secho(f"\n\n=== {title} ===", fg="green", bold=True)


def run_demo(db: Path = DEMO_DB) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    for leftover in db.parent.glob(db.name + "*"):
        leftover.unlink()
    demo = Demo(db)

    section("HelloWork: applications, an interview, a blocked withdrawal")
    taro = demo.new_id(
        "--name", "山田 太郎", "--email", "taro.yamada@example.jp",
        "--birth-date", "1988-04-02", "--policy", "hellowork",
        "--channel", "counter", "--at", "2025-01-15",
    )  # fmt: skip
    demo.run("apply", taro, "--job", "Warehouse logistics", "--route", "self",
             "--at", "2025-01-20")  # fmt: skip
    demo.run("apply", taro, "--job", "Forklift operator", "--route", "agency",
             "--at", "2025-01-22")  # fmt: skip
    demo.run("schedule-interview", taro, "A2", "--on", "2025-02-03T10:00",
             "--at", "2025-01-27")  # fmt: skip
    demo.run("request-withdrawal", taro, "--channel", "web", "--at", "2025-02-01")
    demo.run("close-application", taro, "A1", "--outcome", "rejected",
             "--at", "2025-02-02")  # fmt: skip
    demo.run("request-withdrawal", taro, "--channel", "web", "--reason",
             "other_agency", "--at", "2025-02-02")  # fmt: skip
    demo.run("withdraw", taro, "--at", "2025-02-02T12:00")
    click.echo("(the open agency application A2 was declined on withdrawal)")

    section("HelloWork: self-service reinstatement on day 30 and day 31")
    demo.run("reinstate", taro, "--at", "2025-03-04T09:00")
    click.echo("(2025-02-02 → 2025-03-04 is day 30: allowed)")
    hanako = demo.new_id(
        "--name", "佐藤 花子", "--email", "hanako.sato@example.jp",
        "--birth-date", "1995-11-20", "--policy", "hellowork", "--channel", "web",
        "--at", "2025-01-10",
    )  # fmt: skip
    demo.run("request-withdrawal", hanako, "--channel", "web", "--reason",
             "job_found", "--at", "2025-02-02")  # fmt: skip
    demo.run("withdraw", hanako, "--at", "2025-02-02")
    demo.run("reinstate", hanako, "--at", "2025-03-05T09:00")
    demo.run("reinstate", hanako, "--assisted", "--at", "2025-03-05T09:30",
             actor="counter.staff.ito")  # fmt: skip

    section("Workport: pause, a last-minute email decline, an unreachable spell")
    ken = demo.new_id(
        "--name", "Ken Watanabe", "--email", "ken.w@example.com",
        "--birth-date", "1990-07-07", "--phone", "090-1234-5678",
        "--policy", "workport", "--channel", "app", "--advisor", "Suzuki",
        "--at", "2025-03-01",
    )  # fmt: skip
    demo.run("apply", ken, "--job", "Backend engineer", "--at", "2025-03-03")
    demo.run("apply", ken, "--job", "SRE", "--at", "2025-03-03T11:00")
    demo.run("schedule-interview", ken, "A1", "--on", "2025-03-10T14:00",
             "--at", "2025-03-05")  # fmt: skip
    demo.run("decline-interview", ken, "A1", "--channel", "email", "--note",
             "feeling unwell", "--at", "2025-03-10T08:30")  # fmt: skip
    demo.run("pause", ken, "--reason", "family matters", "--at", "2025-03-12")
    demo.run("contact", ken, "--channel", "phone", "--outcome", "no_answer",
             "--at", "2025-03-13")  # fmt: skip
    demo.run("resume", ken, "--at", "2025-04-01")
    demo.run("contact", ken, "--channel", "phone", "--outcome", "no_answer",
             "--at", "2025-04-10")  # fmt: skip
    demo.run("mark-unreachable", ken, "--at", "2025-04-15")
    demo.run("schedule-interview", ken, "A2", "--on", "2025-04-20T10:00",
             "--at", "2025-04-16")  # fmt: skip
    demo.run("contact", ken, "--channel", "email", "--outcome", "reached",
             "--at", "2025-04-25")  # fmt: skip

    section("Workport: withdrawal declining open applications, erasure on request")
    demo.run("schedule-interview", ken, "A2", "--on", "2025-05-12T10:00",
             "--final", "--round", "2", "--at", "2025-05-01")  # fmt: skip
    demo.run("request-withdrawal", ken, "--channel", "phone", "--at", "2025-05-08")
    demo.run("request-withdrawal", ken, "--channel", "phone", "--reason",
             "no_suitable_jobs", "--erase-data", "--at", "2025-05-08")  # fmt: skip
    demo.run("withdraw", ken, "--at", "2025-05-09")

    section("Pasona: identity check on withdrawal by phone, erased at once")
    yui = demo.new_id(
        "--name", "Yui Tanaka", "--email", "yui.tanaka@example.jp",
        "--birth-date", "1993-02-14", "--policy", "pasona",
        "--advisor", "Mori", "--at", "2025-04-01",
    )  # fmt: skip
    demo.run("apply", yui, "--job", "Marketing manager", "--at", "2025-04-03")
    demo.run("request-withdrawal", yui, "--channel", "web", "--reason",
             "job_found", "--at", "2025-05-20")  # fmt: skip
    demo.run("request-withdrawal", yui, "--channel", "phone", "--reason",
             "job_found", "--verify-name", "Yui Tanaka",
             "--verify-birth-date", "1993-02-15", "--at", "2025-05-20")  # fmt: skip
    demo.run("request-withdrawal", yui, "--channel", "phone", "--reason",
             "job_found", "--verify-name", "Yui  Tanaka",
             "--verify-birth-date", "1993-02-14", "--at", "2025-05-20")  # fmt: skip
    demo.run("withdraw", yui, "--at", "2025-05-21")
    demo.run("reinstate", yui, "--assisted", "--at", "2025-05-22")

    section("HelloWork: lapsed registration purged on request")
    demo.run("lapse", hanako, "--at", "2025-06-01", actor="system:sweep")
    demo.run("purge", hanako, "--reason", "retention_expired", "--at", "2025-06-02")
    demo.run("purge", hanako, "--reason", "deletion_request", "--at", "2025-06-02")
    demo.run("apply", hanako, "--job", "Anything")

    section("Personal data: found without storing the email, exported on request")
    demo.run("find", "--email", "Taro.Yamada@example.jp", actor="counter.staff.ito")
    demo.run("register", "--name", "山田 太郎", "--email", "taro.yamada@example.jp",
             "--birth-date", "1988-04-02", "--policy", "hellowork",
             "--at", "2025-05-01")  # fmt: skip
    demo.run("export-data", taro, actor="counter.staff.ito", limit=12)
    demo.run("export-data", ken, actor="counter.staff.ito", limit=6)

    section("What the auditor sees")
    demo.run("history", ken, actor="auditor.abe")
    demo.run("show", ken, "--as-of", "2025-04-20", actor="auditor.abe")
    demo.run("history", yui, actor="auditor.abe")
    demo.run("show", taro, actor="auditor.abe")
    demo.run("history", taro, "--known-at", "2025-01-01", actor="auditor.abe")

    section("A whole agency: 600 simulated seekers over six years")
    demo.run("simulate", "--seekers", "600", "--seed", "7", actor="simulator")

    section("The sweep: time rules applied to every account that is due")
    demo.run("sweep", "--dry-run", actor="system:sweep", limit=8)
    demo.run("sweep", actor="system:sweep", limit=8)
    demo.run("sweep", actor="system:sweep")
    demo.run("history", taro, actor="auditor.abe")

    section("What the manager sees")
    demo.run("list", "--status", "withdrawn", "--policy", "workport", limit=8)
    for report in (
        "status",
        "withdrawals",
        "reinstatements",
        "declines",
        "retention",
        "unreachable",
    ):
        demo.run("report", report, actor="manager.ono", limit=14)
    demo.run(
        "report", "withdrawals", "--format", "csv", "--from", "2025-01-01",
        "--to", "2025-03-31", actor="manager.ono", limit=10,
    )  # fmt: skip
    demo.run("projections", "status", actor="manager.ono")
    demo.run("audit", "replay", actor="auditor.abe")
    auditors_files = auditor_proves_the_log(demo, db)

    section("Pictures: the rulebook, the manager's report, an auditor's timeline")
    pictures = [
        (db.parent / "rulebook-workport.svg",
         ["policies", "--diagram", "svg", "--policy", "workport"], "advisor.kato"),
        (db.parent / "rulebook-workport.mmd",
         ["policies", "--diagram", "mermaid", "--policy", "workport"],
         "advisor.kato"),
        (db.parent / "report.html", ["report", "html"], "manager.ono"),
        (db.parent / "timeline-ken.html", ["history", ken, "--format", "html"],
         "auditor.abe"),
    ]  # fmt: skip
    for path, args, actor in pictures:
        path.unlink(missing_ok=True)  # a picture listed below is this run's
        demo.run(*args, "--output", str(path), actor=actor)
    japanese = at_the_counter_in_japanese(demo, db)
    announce([db, *auditors_files, *(path for path, _, _ in pictures), *japanese])


def at_the_counter_in_japanese(demo: Demo, db: Path) -> list[Path]:
    """One seeker's life as the people at a HelloWork counter see it
    (``--lang ja``), typed as a Japanese keyboard types it: a reading in
    hiragana, a full-width email, an era birth date, Japanese dates for
    ``--at``; found again at the counter by her family name's reading."""
    section("日本語: ハローワークの窓口で、ある求職者の一年 (--lang ja)")
    ja = ("--lang", "ja")
    kaori = demo.new_id(
        "--name", "鈴木 かおり", "--name-kana", "すずき　かおり",
        "--email", "ｋａｏｒｉ．ｓｕｚｕｋｉ＠ｅｘａｍｐｌｅ．ｊｐ",
        "--birth-date", "平成2年5月6日", "--policy", "hellowork",
        "--channel", "counter", "--at", "令和7年1月6日", options=ja,
    )  # fmt: skip
    demo.run(*ja, "find", "--name-kana", "スズキ")
    demo.run(*ja, "apply", kaori, "--job", "一般事務", "--route", "agency",
             "--at", "令和7年1月8日")  # fmt: skip
    demo.run(*ja, "schedule-interview", kaori, "A1", "--on", "2025年1月20日 10:00",
             "--at", "令和7年1月10日")  # fmt: skip
    demo.run(*ja, "pause", kaori, "--at", "令和7年1月12日")
    demo.run(*ja, "decline-interview", kaori, "A1", "--channel", "phone",
             "--note", "体調不良のため", "--at", "令和7年1月15日")  # fmt: skip
    demo.run(*ja, "request-withdrawal", kaori, "--channel", "counter",
             "--reason", "job_found", "--at", "令和7年2月3日")  # fmt: skip
    demo.run(*ja, "withdraw", kaori, "--at", "R7.2.3")
    demo.run(*ja, "reinstate", kaori, "--at", "令和7年3月6日")
    click.echo("(2025年2月3日の退会から31日目: 本人による利用再開はできません)")
    demo.run(*ja, "reinstate", kaori, "--at", "令和7年3月5日")
    demo.run(*ja, "history", kaori, actor="auditor.abe")
    demo.run(*ja, "--era", "show", kaori, actor="auditor.abe")
    demo.run(*ja, "report", "status", actor="manager.ono")
    pictures = [
        (db.parent / "report-ja.html", ["report", "html"], "manager.ono"),
        (db.parent / "timeline-kaori-ja.html",
         ["history", kaori, "--format", "html"], "auditor.abe"),
    ]  # fmt: skip
    for path, args, actor in pictures:
        path.unlink(missing_ok=True)
        demo.run(*ja, *args, "--output", str(path), actor=actor)
    return [path for path, _, _ in pictures]


def announce(files: list[Path]) -> None:
    """List the files the demo wrote; exit 1 naming any that is missing or
    empty (a demo that claims a file it did not make is a failed demo)."""
    click.echo("\nWritten:\n" + "\n".join(f"  {path}" for path in files))
    absent = [path for path in files if not path.is_file() or not path.stat().st_size]
    if absent:
        for path in absent:
            click.secho(
                f"demo: {path} was not written (or is empty)", fg="red", err=True
            )
        sys.exit(1)
    click.secho(f"\nDemo ledger: {files[0]}", fg="green")


def auditor_proves_the_log(demo: Demo, db: Path) -> list[Path]:
    """SPEC §8 as the auditor lives it: a signed checkpoint kept outside the
    agency, verify before and after a purge, one seeker's evidence checked
    offline, and a tampered copy of the store caught. Returns the files it
    wrote."""
    folder = db.parent
    key = folder / "agency-audit.key"
    kept = folder / "auditor.checkpoint"
    bundle = folder / "aoi.evidence.json"
    for leftover in (key, key.with_name(key.name + ".pub"), kept, bundle):
        leftover.unlink(missing_ok=True)

    section("Audit integrity: a signed checkpoint the auditor keeps")
    demo.run("audit", "keygen", "--output", str(key), actor="agency.admin")
    aoi = demo.new_id(
        "--name", "青井 葵", "--email", "aoi.aoi@example.jp",
        "--birth-date", "1999-09-09", "--policy", "hellowork", "--channel", "web",
        "--at", "2025-06-10",
    )  # fmt: skip
    demo.run("request-withdrawal", aoi, "--channel", "web", "--reason",
             "job_found", "--at", "2025-06-20")  # fmt: skip
    demo.run("withdraw", aoi, "--at", "2025-06-21")
    demo.run("audit", "checkpoint", "--sign-key", str(key), "--output", str(kept),
             actor="agency.admin")  # fmt: skip
    click.echo(kept.read_text(encoding="utf-8").rstrip())
    demo.run("audit", "verify", "--checkpoint", str(kept), "--public-key",
             f"{key}.pub", actor="auditor.abe")  # fmt: skip

    section("Audit integrity: a purge destroys the key, the history still verifies")
    demo.run("purge", aoi, "--reason", "deletion_request", "--at", "2025-06-22")
    demo.run("show", aoi, actor="auditor.abe", limit=4)
    demo.run("audit", "verify", "--checkpoint", str(kept), "--public-key",
             f"{key}.pub", actor="auditor.abe")  # fmt: skip

    section("Audit integrity: one seeker's evidence, verified offline")
    demo.run("audit", "prove", aoi, "--sign-key", str(key), "--output", str(bundle),
             actor="agency.admin")  # fmt: skip
    click.secho(
        f"\n$ seekers audit verify --bundle {bundle} --public-key {key}.pub"
        "   # no database: the ombudsman's machine",
        fg="cyan",
        bold=True,
    )
    buffer = StringIO()
    with redirect_stdout(buffer), contextlib.suppress(SystemExit):
        main(["audit", "verify", "--bundle", str(bundle), "--public-key",
              f"{key}.pub"])  # fmt: skip
    click.echo(buffer.getvalue().rstrip())

    section("Audit integrity: someone edits the database behind the ledger's back")
    tampered = folder / "tampered.db"
    for suffix in ("", ".key"):  # the key file, unless SEEKERS_MASTER_KEY is set
        source = db.with_name(db.name + suffix)
        if source.exists():
            target = tampered.with_name(tampered.name + suffix)
            target.write_bytes(source.read_bytes())
            target.chmod(0o600)
    with sqlite3.connect(tampered) as connection:
        (rowid, state) = connection.execute(
            "SELECT rowid, state FROM stored_events WHERE topic LIKE '%Withdrawn' "
            "ORDER BY rowid LIMIT 1"
        ).fetchone()
        forged = state.replace(
            b'"timing":"between_selections"', b'"timing":"final_stage"'
        )
        if forged == state:
            forged = state + b" "
        connection.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?", (forged, rowid)
        )
    click.echo(f"(changed one Withdrawn event, #{rowid}, in a copy: {tampered})")
    Demo(tampered).run("audit", "verify", "--checkpoint", str(kept),
                       actor="auditor.abe")  # fmt: skip
    return [key, key.with_name(key.name + ".pub"), kept, bundle, tampered]


def cli_main() -> None:
    run_demo(Path(sys.argv[1]) if len(sys.argv) > 1 else DEMO_DB)


if __name__ == "__main__":
    cli_main()
