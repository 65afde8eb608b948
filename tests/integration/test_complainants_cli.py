"""`megacity analyse complainants|abnormal` and `megacity complainant ...` as a user runs them."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from megacity.bootstrap import Megacity
from megacity.cli import app as cli
from megacity.domain.enums import Channel, Kind
from megacity.services.intake import NewRequest, submit
from megacity.store.tables import audit_events

LEAK = "小区东门外污水管道破裂，污水漫到人行道上，气味很大，请派人维修管道"
HEADER = [
    "id",
    "received_at",
    "text",
    "complainant_id",
    "street_code",
    "category_code",
    "unit_code",
    "satisfaction",
    "dispute_count",
    "reopen_count",
    "overdue",
    "escalation",
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def sample(tmp_path: Path) -> Path:
    rows = [
        [
            "a1",
            "2025-03-01T09:00:00+08:00",
            LEAK,
            "p-a",
            "110101001",
            "010216",
            "110101001",
            "dissatisfied",
            "0",
            "0",
            "false",
            "none",
        ],
        [
            "a2",
            "2025-03-04T09:00:00+08:00",
            "已经反映多次了，" + LEAK,
            "p-a",
            "110101001",
            "010216",
            "110101001",
            "dissatisfied",
            "1",
            "0",
            "false",
            "none",
        ],
        [
            "b1",
            "2025-03-02T20:00:00+08:00",
            "公园长椅损坏",
            "p-b",
            "110101002",
            "010201",
            "110101002",
            "satisfied",
            "0",
            "1",
            "true",
            "district",
        ],
        [
            "c1",
            "2025-03-03 10:00:00",
            "夜间施工噪音",
            "",
            "110101002",
            "010201",
            "110101002",
            "",
            "0",
            "0",
            "false",
            "none",
        ],
    ]
    return write_csv(tmp_path / "t.csv", rows)


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_complainants_command_in_a_real_process(tmp_path: Path) -> None:
    out = tmp_path / "p.csv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "megacity",
            "analyse",
            "complainants",
            "--tickets",
            str(sample(tmp_path)),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "complainants 2 frequent 0 repeat 0 unsatisfied 0"
    found = {r["complainant_id"]: r for r in rows_of(out)}
    assert set(found) == {"p-a", "p-b"}
    assert (found["p-a"]["requests"], found["p-a"]["repeats"], found["p-a"]["unsatisfied"]) == ("2", "1", "2")
    assert found["p-a"]["first_seen"] == "2025-03-01T09:00:00+08:00"


def test_abnormal_command_labels_every_order_and_writes_the_report(tmp_path: Path) -> None:
    out, report = tmp_path / "a.csv", tmp_path / "a.md"
    args = [
        "analyse",
        "abnormal",
        "--tickets",
        str(sample(tmp_path)),
        "--out",
        str(out),
        "--report",
        str(report),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "orders 4 disputed 1 excluded 0 reopened 1 overdue 1 escalated 1 abnormal 2"
    )
    labels = {r["id"]: r for r in rows_of(out)}
    assert list(labels) == ["a1", "a2", "b1", "c1"]
    assert labels["a2"]["labels"] == "disputed" and labels["a2"]["labels_zh"] == "派单异议"
    assert labels["b1"]["labels"] == "reopened|overdue|escalated" and labels["c1"]["abnormal"] == "0"
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# 异常工单分析\n\n工单 4 单。") and "| 派单异议 | 1 | 25.0% |" in text
    assert "证据不足，暂无建议。" in text
    english = tmp_path / "en.md"
    args = [*args[:-1], str(english), "--lang", "en"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert english.read_text(encoding="utf-8").startswith("# Abnormal orders (异常工单)\n\n4 orders.")


def test_user_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    good = sample(tmp_path)
    bare = tmp_path / "bare.csv"
    bare.write_text("id,received_at,text,complainant_id\nx,2025-03-01T09:00:00+08:00,t,p\n", encoding="utf-8")
    no_person = tmp_path / "np.csv"
    no_person.write_text("id,received_at\nx,2025-03-01T09:00:00+08:00\n", encoding="utf-8")
    out = str(tmp_path / "o.csv")
    cases = [
        ["analyse", "complainants", "--out", out],
        ["analyse", "complainants", "--tickets", str(good), "--database", "sqlite:///x.db", "--out", out],
        ["analyse", "complainants", "--tickets", str(tmp_path / "missing.csv"), "--out", out],
        ["analyse", "complainants", "--tickets", str(no_person), "--out", out],
        ["analyse", "abnormal", "--tickets", str(bare), "--out", out],
        ["analyse", "abnormal", "--database", f"sqlite:///{tmp_path / 'none.db'}", "--out", out],
        ["analyse", "abnormal", "--tickets", str(good), "--out", str(tmp_path / "no" / "dir.csv")],
        ["analyse", "abnormal", "--tickets", str(good), "--out", out, "--lang", "fr"],
    ]
    for args in cases:
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)


def new_request(megacity: Megacity, text: str) -> str:
    request = NewRequest(
        channel=Channel.PHONE,
        kind=Kind.COMPLAINT,
        title="污水",
        text=text,
        street_code="110101001",
        name="王小明",
        phone="13912345678",
    )
    ticket, _ = submit(app=megacity, request=request, actor="operator", role="operator")
    assert ticket.complainant_id
    return ticket.complainant_id


def test_directory_commands_on_both_engines(megacity: Megacity, database_url: str) -> None:
    person = new_request(megacity, LEAK)
    new_request(megacity, "已经反映多次了，" + LEAK)
    db = ["--database", database_url]

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["complainant", *args, *db])
        assert result.exit_code == code, result.output
        return result.output if code == 0 else result.stderr

    assert run("designate", person, "--label", "repeat", "--plan", "每周回访", "--actor", "zhang").startswith(
        f"{person}\tactive\trepeat\t"
    )
    assert run("designate", person, "--label", "repeat", code=2).startswith("error: ")
    assert run("designate", "p-nobody", "--label", "repeat", code=2).startswith("error: no request")
    assert run("designate", person, "--label", "bad", code=2).startswith("error: ")
    assert f"{person}\tactive\trepeat,frequent" in run(
        "update", person, "--label", "repeat", "--label", "frequent"
    )
    assert run("note", person, "--text", "已上门").startswith("note ")
    shown = run("show", person)
    assert "plan: 每周回访" in shown and "已上门" in shown and "requests 2 repeats 1" in shown
    assert "13912345678" not in shown and "王小明" not in shown
    assert f"{person}\tclosed" in run("close", person, "--reason", "已解决")
    assert run("note", person, "--text", "x", code=2).startswith("error: ")
    assert run("list", "--status", "closed").startswith(person)
    with megacity.uow(write=False) as uow:
        trail = uow.connection.execute(
            select(audit_events.c.action, audit_events.c.actor)
            .where(audit_events.c.action.like("complainant_%"))
            .order_by(audit_events.c.seq)
        ).all()
    assert [tuple(r) for r in trail] == [
        ("complainant_designate", "zhang"),
        ("complainant_update", trail[1][1]),
        ("complainant_note", trail[2][1]),
        ("complainant_close", trail[3][1]),
    ]
    assert trail[1][1].startswith("cli:")
