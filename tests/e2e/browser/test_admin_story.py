"""The super admin creates an admin and grants datacenter:read in the matrix; that admin signs in, must change the
initial password, sees only 数据中心, sees no write controls and is refused by the API anyway; the audit page shows
what they did. (Issue 3, acceptance.)

The tests run in this order and hand the admin on through `story`; run alone, a test arranges through the API what
the earlier one would have left.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.harness import wait_until

from .ui import (
    ARCHIVES,
    SUPER_ADMIN,
    api_from_page,
    change_password,
    checked,
    doc_screenshot,
    go_menu,
    open_signed_in,
    sign_in,
    tid,
)

# Fixed names (each test session has a fresh platform), so that the README screenshots come out the same each run.
ADMIN_USERNAME = "wangxiaoming"
INITIAL_PASSWORD = "Init#Pass2026"
NEW_PASSWORD = "Chg#Pass2026!"


def _user(admin_api: httpx.Client, username: str) -> dict[str, Any]:
    found = admin_api.get("/api/admin/users", params={"q": username}).json()["items"]
    return next(u for u in found if u["username"] == username)


def _arranged_admin(admin_api: httpx.Client) -> dict[str, Any]:
    """The admin test (a) would have made: created with an initial password, holding datacenter:read."""
    username = f"uiapi{uuid.uuid4().hex[:6]}"
    created = admin_api.post("/api/admin/users", json={"username": username, "display_name": "王晓明",
                                                       "password": INITIAL_PASSWORD, "role": "admin"})
    assert created.status_code == 201, created.text
    put = admin_api.put(f"/api/admin/users/{created.json()['id']}/grants",
                        json=[{"archive": "datacenter", "level": "read"}])
    assert put.status_code == 200, put.text
    return {"username": username, "id": created.json()["id"], "password": INITIAL_PASSWORD, "initial": True}


def test_a_super_admin_creates_an_admin_and_grants_datacenter_read(page: Page, admin_api: httpx.Client,
                                                                   story: dict[str, Any]) -> None:
    username = ADMIN_USERNAME

    # Signed out, the platform opens on sign-in.
    page.goto("/", wait_until="networkidle")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(tid(page, "login-form")).to_be_visible()
    doc_screenshot(page, "sign-in")

    sign_in(page, *SUPER_ADMIN)
    expect(tid(page, "home")).to_be_visible()
    expect(tid(page, "home-card-system")).to_be_visible()
    expect(tid(page, "menu-system")).to_be_visible()
    doc_screenshot(page, "shell")

    # Users page: create the admin.
    go_menu(page, "menu-system-users")
    expect(tid(page, "page-title")).to_have_text("用户管理")
    expect(tid(page, "users-table")).to_be_visible()
    tid(page, "users-create").click()
    form = tid(page, "user-form")
    expect(form).to_be_visible()
    tid(page, "user-form-username").fill(username)
    tid(page, "user-form-display-name").fill("王晓明")
    tid(page, "user-form-password").fill(INITIAL_PASSWORD)
    tid(page, "user-form-role-admin").click()
    tid(page, "user-form-submit").click()
    expect(form).to_be_hidden()
    expect(tid(page, f"user-row-{username}")).to_be_visible()

    created = _user(admin_api, username)
    assert created["role"] == "admin" and created["active"] and created["must_change_password"], created
    assert created["grants"] == []

    # The search box finds them (and only them).
    tid(page, "users-search").fill(username)
    tid(page, "users-search").press("Enter")
    expect(tid(page, f"user-row-{username}")).to_be_visible()
    expect(tid(page, "user-row-admin")).to_have_count(0)

    # Grants matrix: datacenter:read, nothing else.
    tid(page, f"user-grants-{username}").click()
    matrix = tid(page, "grants-matrix")
    expect(matrix).to_be_visible()
    for archive in ARCHIVES:  # a new admin holds nothing
        expect(tid(page, f"grants-row-{archive}")).to_have_attribute("data-level", "none")
    tid(page, "grant-datacenter-write").click()
    tid(page, "grant-pharmacy-read").click()
    tid(page, "grant-pharmacy-none").click()
    tid(page, "grant-datacenter-read").click()
    for archive in ARCHIVES:
        want = "read" if archive == "datacenter" else "none"
        expect(tid(page, f"grants-row-{archive}")).to_have_attribute("data-level", want)
        for level in ("none", "read", "write"):
            assert checked(tid(page, f"grant-{archive}-{level}")) == (level == want), (archive, level)
    doc_screenshot(page, "grants-matrix")
    tid(page, "grants-save").click()
    expect(tid(page, "grants-saved")).to_be_visible()

    assert admin_api.get(f"/api/admin/users/{created['id']}/grants").json() == [
        {"archive": "datacenter", "level": "read"}]
    story["admin"] = {"username": username, "id": created["id"], "password": INITIAL_PASSWORD, "initial": True}


def test_b_read_only_admin_changes_password_sees_only_datacenter_and_is_refused(
        page: Page, admin_api: httpx.Client, story: dict[str, Any], hospital: dict[str, Any]) -> None:
    admin = story.get("admin") or _arranged_admin(admin_api)
    assert admin["initial"], "this test needs an admin who has not signed in yet"

    # First sign-in with the initial password: the password page, and nothing else, until it is changed.
    page.goto("/", wait_until="networkidle")
    sign_in(page, admin["username"], admin["password"])
    expect(page).to_have_url(re.compile(r"/password"))
    expect(tid(page, "password-forced")).to_be_visible()
    page.goto("/datacenter/departments", wait_until="networkidle")
    expect(page).to_have_url(re.compile(r"/password\?redirect="))
    expect(tid(page, "password-forced")).to_be_visible()
    expect(tid(page, "password-cancel")).to_have_count(0)
    change_password(page, admin["password"], NEW_PASSWORD)
    admin.update(password=NEW_PASSWORD, initial=False)
    story["admin"] = admin

    # Back to the page asked for, in the shell: the menu holds 数据中心 only.
    expect(tid(page, "shell")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/datacenter/departments$"))
    sidebar = tid(page, "sidebar")
    top = sidebar.evaluate("el => [...el.children].map(c => c.getAttribute('data-test'))")
    assert top == ["menu-home", "menu-datacenter"], top
    expect(tid(page, "menu-datacenter")).to_contain_text("数据中心")
    for archive in ARCHIVES:
        if archive != "datacenter":
            expect(tid(page, f"menu-{archive}")).to_have_count(0)
    expect(tid(page, "menu-system")).to_have_count(0)
    expect(sidebar).not_to_contain_text("系统管理")

    # The header's grants summary says the same.
    tid(page, "grants-button").click()
    summary = tid(page, "grants-summary")
    expect(summary).to_be_visible()
    expect(summary.locator('[data-test^="grant-"]')).to_have_count(1)
    expect(tid(page, "grant-datacenter")).to_have_attribute("data-level", "read")
    page.keyboard.press("Escape")

    # Data-center lists without any write control: rows to read, a search box, no create/edit/delete.
    expect(tid(page, "catalogue-departments")).to_be_visible()
    expect(tid(page, "row-NK")).to_be_visible()
    expect(tid(page, "catalogue-search")).to_be_visible()
    for control in ("catalogue-create", "row-edit-NK", "row-delete-NK", "row-deactivate-NK"):
        expect(tid(page, control)).to_have_count(0)
    go_menu(page, "menu-datacenter-doctors")
    expect(tid(page, "catalogue-doctors")).to_be_visible()
    expect(tid(page, "row-D001")).to_be_visible()
    for control in ("catalogue-create", "row-edit-D001", "row-delete-D001", "row-deactivate-D001"):
        expect(tid(page, control)).to_have_count(0)

    # Trying anyway, with the page's own token: the server refuses.
    refused = api_from_page(page, "POST", "/api/datacenter/departments",
                            {"code": "HACK1", "name": "越权科室", "kind": "clinical"})
    assert refused["status"] == 403, refused
    assert refused["body"]["code"] == "auth.forbidden", refused
    refused = api_from_page(page, "DELETE", f"/api/datacenter/departments/{hospital['NK']['id']}")
    assert refused["status"] == 403 and refused["body"]["code"] == "auth.forbidden", refused
    assert admin_api.get("/api/datacenter/departments", params={"q": "HACK1"}).json()["total"] == 0

    # The home page offers the data center, read only; a system page is refused inside the shell.
    go_menu(page, "menu-home")
    expect(tid(page, "home-card-datacenter")).to_have_attribute("data-level", "read")
    expect(tid(page, "home").locator('[data-test^="home-card-"][data-level]')).to_have_count(1)
    expect(tid(page, "home-card-system")).to_have_count(0)
    page.goto("/system/users", wait_until="networkidle")
    expect(tid(page, "forbidden")).to_be_visible()
    story["refused"] = admin["username"]


def _arranged_actions(admin_api: httpx.Client) -> str:
    """What test (b) would have done, through the API: first sign-in, password change, a refused write."""
    admin = _arranged_admin(admin_api)
    base = str(admin_api.base_url).rstrip("/")
    first = httpx.post(f"{base}/api/auth/login", json={"username": admin["username"], "password": INITIAL_PASSWORD})
    assert first.status_code == 200, first.text
    changed = httpx.post(f"{base}/api/auth/password",
                         json={"old_password": INITIAL_PASSWORD, "new_password": NEW_PASSWORD},
                         headers={"Authorization": f"Bearer {first.json()['access_token']}"})
    assert changed.status_code == 200, changed.text
    refused = httpx.post(f"{base}/api/datacenter/departments",
                         json={"code": "HACK1", "name": "越权科室", "kind": "clinical"},
                         headers={"Authorization": f"Bearer {changed.json()['access_token']}"})
    assert refused.status_code == 403, refused.text
    return admin["username"]


def test_e_audit_page_shows_what_the_admin_did(page: Page, admin_api: httpx.Client, story: dict[str, Any]) -> None:
    username = story.get("refused") or _arranged_actions(admin_api)

    def audited() -> dict[str, Any] | None:  # the trail is written in batches, a moment after the request
        found = admin_api.get("/api/admin/audit", params={"user": username, "size": 100}).json()
        return found if any(e["status"] == 403 for e in found["items"]) else None

    expected = wait_until(audited, 10, 0.2, f"the refused write of {username} in the audit trail")

    open_signed_in(page, *SUPER_ADMIN, path="/system/audit")
    expect(tid(page, "page-title")).to_have_text("审计日志")
    expect(tid(page, "audit-table")).to_be_visible()

    # Everything about the admin: what the super admin did to them, and what they did themselves.
    tid(page, "audit-filter-user").fill(username)
    shown = _search_audit(page, username)
    assert shown["total"] >= expected["total"] and shown["items"], shown
    actions = {e["action"] for e in shown["items"]}
    assert {"admin.user_created", "admin.grants_changed", "auth.login", "auth.password_changed",
            "request"} <= actions, actions
    rows = tid(page, "audit-row")
    expect(rows).to_have_count(len(shown["items"]))
    for n in range(len(shown["items"])):
        expect(rows.nth(n)).to_contain_text(username)
    texts = rows.all_inner_texts()
    assert any(re.search(r"\b403\b", t) and "/api/datacenter/departments" in t for t in texts), texts
    assert any("/api/auth/password" in t for t in texts), texts

    # Only the refusals: user and status filters together.
    tid(page, "audit-filter-status").click()
    tid(page, "audit-status-4xx").click()
    refused = _search_audit(page, "status_class=4")["items"]
    assert refused and all(400 <= e["status"] < 500 and e["username"] == username for e in refused), refused
    statuses = tid(page, "audit-table").locator('[data-test="audit-status"]')
    expect(statuses).to_have_count(len(refused))
    for n in range(len(refused)):
        expect(statuses.nth(n)).to_have_text(re.compile(r"^\s*4\d\d\s*$"))
    expect(statuses.filter(has_text=re.compile(r"^\s*403\s*$")).first).to_be_visible()

    # The grant change, by action: one row, saying what changed.
    tid(page, "audit-reset").click()
    tid(page, "audit-filter-user").fill(username)
    tid(page, "audit-filter-action").click()
    tid(page, "audit-action-admin.grants_changed").click()
    changes = _search_audit(page, "action=admin.grants_changed")["items"]
    assert [c["detail"]["after"] for c in changes] == [{"datacenter": "read"}], changes
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(username)


def _search_audit(page: Page, marker: str) -> dict[str, Any]:
    """Clicks search and returns the page of audit rows the UI received (its URL holding `marker`)."""
    with page.expect_response(lambda r: "/api/admin/audit" in r.url and marker in r.url) as answer:
        tid(page, "audit-search").click()
    assert answer.value.status == 200, answer.value.text()
    return answer.value.json()
