"""设置 through a real server: one's own password for every role, user accounts for admins.

Each change must take effect where it matters — at the login form and at the token endpoint —
and be audited without the password; a refused change must leave the account as it was.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from megacity.bootstrap import Megacity
from megacity.store.tables import audit_events
from tests.conftest import PASSWORD
from tests.integration.test_pages_roles import HTML, PageLogin, csrf_of, flash_of


@pytest.fixture
def pages(server: str, login: Any) -> Iterator[PageLogin]:
    from tests.integration.page_clients import page_clients

    with page_clients(server, login) as make:
        yield make


def _post(client: httpx.Client, path: str, **fields: str) -> str:
    """POST a settings form with the page's CSRF token; the flash message of the page it lands on."""
    token = csrf_of(client.get("/settings").text)
    answer = client.post(path, data={"csrf_token": token, **fields})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/settings#")
    return html.unescape(flash_of(client.get("/settings").text))


def _can_log_in(server: str, name: str, password: str) -> bool:
    answer = httpx.post(f"{server}/api/auth/token", data={"username": name, "password": password})
    return answer.status_code == 200


def _audited(megacity: Megacity, action: str) -> list[dict[str, Any]]:
    with megacity.engine.connect() as conn:
        rows = conn.execute(select(audit_events).where(audit_events.c.action == action)).mappings().all()
    return [dict(r) for r in rows]


def test_every_role_changes_its_own_password(pages: PageLogin, server: str, megacity: Megacity) -> None:
    unit = pages("unit")
    page = unit.get("/settings").text
    assert "我的账户" in page and "东华门街道" in page and 'id="password-form"' in page
    assert 'id="users"' not in page and "assessment.weights" not in page  # admins only
    new = "a-new-password-42"

    assert "两次输入的新密码不一致" in _post(
        unit, "/settings/password", current_password=PASSWORD, new_password=new, new_password_again=new + "x"
    )
    assert "the current password is wrong" in _post(
        unit,
        "/settings/password",
        current_password="wrong-password",
        new_password=new,
        new_password_again=new,
    )
    assert "at least 8 characters" in _post(
        unit,
        "/settings/password",
        current_password=PASSWORD,
        new_password="short",
        new_password_again="short",
    )
    assert _can_log_in(server, "unit", PASSWORD), "refused changes leave the password as it was"
    assert _audited(megacity, "change_password") == []

    assert "密码已修改" in _post(
        unit, "/settings/password", current_password=PASSWORD, new_password=new, new_password_again=new
    )
    assert _can_log_in(server, "unit", new) and not _can_log_in(server, "unit", PASSWORD)
    (event,) = _audited(megacity, "change_password")
    assert event["actor"] == "unit" and PASSWORD not in json.dumps(event, default=str)
    assert new not in json.dumps(event, default=str)


def test_admin_creates_disables_and_enables_accounts(
    pages: PageLogin, server: str, megacity: Megacity
) -> None:
    admin = pages("admin")
    page = admin.get("/settings").text
    assert 'id="users"' in page and 'id="new-user"' in page and "assessment.weights" in page
    assert 'data-user="admin"' in page

    done = _post(
        admin,
        "/settings/users",
        username="wangjing-2",
        role="unit_handler",
        unit_code="110105026",
        password=PASSWORD,
    )
    assert "已创建账户：wangjing-2" in done
    assert _can_log_in(server, "wangjing-2", PASSWORD)
    row = admin.get("/settings").text.split('data-user="wangjing-2"')[1].split("</tr>")[0]
    assert "望京街道" in row and "停用" in row
    (created,) = _audited(megacity, "create_user")[-1:]
    assert created["actor"] == "admin"

    again = _post(admin, "/settings/users", username="wangjing-2", role="analyst", password=PASSWORD)
    assert "user 'wangjing-2' already exists" in again
    no_unit = _post(admin, "/settings/users", username="no-unit", role="unit_handler", password=PASSWORD)
    assert "a unit_handler needs an existing unit code" in no_unit
    assert "unknown role 'system'" in _post(
        admin, "/settings/users", username="x-user", role="system", password=PASSWORD
    )
    assert "1 to 64" in _post(
        admin, "/settings/users", username="two words", role="analyst", password=PASSWORD
    )
    assert not _can_log_in(server, "no-unit", PASSWORD) and not _can_log_in(server, "x-user", PASSWORD)

    assert "已停用账户：wangjing-2" in _post(admin, "/settings/users/wangjing-2/active", active="false")
    assert not _can_log_in(server, "wangjing-2", PASSWORD)
    assert "已启用账户：wangjing-2" in _post(admin, "/settings/users/wangjing-2/active", active="true")
    assert _can_log_in(server, "wangjing-2", PASSWORD)
    assert "不能停用自己的账户" in _post(admin, "/settings/users/admin/active", active="false")
    assert _can_log_in(server, "admin", PASSWORD)
    assert "没有名为 nobody 的账户" in _post(admin, "/settings/users/nobody/active", active="false")


def test_only_admins_manage_accounts(pages: PageLogin, server: str) -> None:
    analyst = pages("analyst")
    token = csrf_of(analyst.get("/settings").text)
    made = analyst.post(
        "/settings/users",
        data={"csrf_token": token, "username": "sneaky", "role": "admin", "password": PASSWORD},
    )
    assert made.status_code == 403
    pages("auditor")  # the account exists
    off = analyst.post("/settings/users/auditor/active", data={"csrf_token": token, "active": "false"})
    assert off.status_code == 403 and _can_log_in(server, "auditor", PASSWORD)
    assert not _can_log_in(server, "sneaky", PASSWORD)
    forged = analyst.post("/settings/password", data={"current_password": PASSWORD, "new_password": "x" * 9})
    assert forged.status_code == 403  # no CSRF token
    assert httpx.get(f"{server}/settings", headers=HTML, follow_redirects=False).status_code == 303
