"""The language switch turns the whole screen English — the shell, the page, the tables, the dialogs and Element
Plus's own texts — and back. (Issue 3, acceptance.)

Everything on screen is checked for Chinese but data that is Chinese by nature — the names the API returns (doctors,
departments, users), the signed-in user's display name — and the switch itself, whose label names the other
language (中文).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from .ui import CJK, SUPER_ADMIN, chinese_in_chrome, go_menu, open_signed_in, tid

CHROME_ONLY = [
    '[data-test="user-menu"]',  # avatar letter and display name (超级管理员); the role tag is checked on its own
    '[data-test="lang-switch"]',  # "中文": the way back
    '[data-test="home-greeting"]',  # "Hello, <display name>"; checked on its own
    '[data-test="grants-summary"]',  # its title carries the display name; the note is checked on its own
]


def _assert_english(page: Page, where: str, data: set[str] = frozenset()) -> None:
    """No Chinese on screen but `data` (the names in table rows, which are Chinese by nature): every label, tag,
    button, placeholder and Element Plus text is English — in table rows too (gender, title, status, actions)."""
    found = chinese_in_chrome(page, CHROME_ONLY, data)
    assert not found, f"Chinese left on {where}: {found}"
    assert not CJK.search(page.title()), page.title()


def _names(admin_api: httpx.Client, path: str, *keys: str) -> set[str]:
    items = admin_api.get(path, params={"size": 100}).json()["items"]
    return {item[key] for item in items for key in keys if item.get(key)}


def _headers(page: Page, table: str) -> list[str]:
    texts = [t.strip() for t in tid(page, table).locator("th").all_inner_texts()]
    return [t for t in texts if t]


def test_d_language_switch_turns_the_whole_screen_english(page: Page, admin_api: httpx.Client,
                                                         hospital: dict[str, Any]) -> None:
    doctors = _names(admin_api, "/api/datacenter/doctors", "name", "department_name", "registration_type_name")
    users = _names(admin_api, "/api/admin/users", "display_name")

    open_signed_in(page, *SUPER_ADMIN, path="/datacenter/doctors")
    expect(tid(page, "page-title")).to_have_text("医生")
    expect(tid(page, "row-D001")).to_be_visible()
    assert any(CJK.search(h) for h in _headers(page, "catalogue-table"))
    assert chinese_in_chrome(page, CHROME_ONLY, doctors), "the check must see the chrome's Chinese before the switch"

    tid(page, "lang-switch").click()
    expect(tid(page, "page-title")).to_have_text("Doctors")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # The shell: menu, breadcrumbs, header.
    expect(tid(page, "menu-home")).to_have_text("Home")
    expect(tid(page, "menu-datacenter")).to_contain_text("Data center")
    expect(tid(page, "menu-datacenter-doctors")).to_have_text("Doctors")
    expect(tid(page, "menu-datacenter-departments")).to_have_text("Departments")
    expect(tid(page, "menu-system")).to_contain_text("System")
    expect(tid(page, "menu-system-users")).to_have_text("Users")
    expect(tid(page, "menu-system-audit")).to_have_text("Audit log")
    expect(tid(page, "breadcrumbs")).to_have_text(re.compile(r"Home\s*/\s*Data center\s*/\s*Doctors"))
    expect(tid(page, "user-role")).to_have_text("Super admin")
    expect(tid(page, "grants-button")).to_have_text("My permissions")

    # The list: column headers, search, pagination (Element Plus's own words) — everything but the data.
    headers = _headers(page, "catalogue-table")
    assert "Code" in headers and "Name" in headers, headers
    assert not any(CJK.search(h) for h in headers), headers
    expect(tid(page, "row-D001")).to_contain_text("张建国")  # data stays as it is
    _assert_english(page, "the doctors list", doctors)

    # The create dialog: labels, placeholders, the selects' own texts.
    tid(page, "catalogue-create").click()
    form = tid(page, "catalogue-form")
    expect(form).to_be_visible()
    expect(form).to_contain_text("Code")
    _assert_english(page, "the create dialog", doctors)
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()

    # The header's grants popover.
    tid(page, "grants-button").click()
    expect(tid(page, "grants-super-admin")).to_be_visible()
    assert not CJK.search(tid(page, "grants-super-admin").inner_text())
    page.keyboard.press("Escape")

    # A system page and the home page.
    go_menu(page, "menu-system-users")
    expect(tid(page, "page-title")).to_have_text("Users")
    expect(tid(page, "users-table")).to_be_visible()
    headers = _headers(page, "users-table")
    assert headers and not any(CJK.search(h) for h in headers), headers
    _assert_english(page, "the users page", users)

    go_menu(page, "menu-home")
    expect(tid(page, "home")).to_be_visible()
    expect(tid(page, "home-greeting")).to_have_text(re.compile(r"^Hello, "))
    _assert_english(page, "the home page")

    # The choice is remembered across a reload, and the switch goes back.
    page.reload(wait_until="networkidle")
    expect(tid(page, "page-title")).to_have_text("Home")
    tid(page, "lang-switch").click()
    expect(tid(page, "page-title")).to_have_text("首页")
    expect(tid(page, "menu-datacenter")).to_contain_text("数据中心")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
