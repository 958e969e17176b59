"""A scheduler with scheduling:read only sees the week grid, a session's details and the templates, but no control
that writes — and the server refuses the write anyway.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import expect

from tests.harness import Platform, wait_until
from tests.hospital import ok

from .conftest import Pages
from .ui import api_from_page, go_menu, open_signed_in, tid

READER = "sun.chakan"


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def test_read_only_scheduler_sees_no_write_controls(ui: Pages, platform: Platform, admin_api: httpx.Client) -> None:
    # Arranged by the super admin: a doctor with a session today (morning) and a standing template (night).
    api = "/api/datacenter"
    dept = ok(admin_api.post(f"{api}/departments", json={"code": "PBEK", "name": "小儿内科", "kind": "clinical"}), 201)
    reg_type = ok(admin_api.post(f"{api}/registration-types", json={"code": "PBZJ", "name": "副主任号",
                                                                    "fee": "18.00"}), 201)
    doctor = ok(admin_api.post(f"{api}/doctors", json={
        "code": "PBD01", "name": "韩雪梅", "gender": "female", "department_id": dept["id"], "title": "associate_chief",
        "registration_type_id": reg_type["id"], "practice": "outpatient"}), 201)
    today = _today()
    monday = today - timedelta(days=today.weekday())
    session = ok(admin_api.post("/api/scheduling/schedules", json={
        "doctor_id": doctor["id"], "schedule_date": today.isoformat(), "session": "morning", "quota": 12}), 201)
    template = ok(admin_api.post("/api/scheduling/templates", json={
        "doctor_id": doctor["id"], "weekday": today.isoweekday(), "session": "night", "quota": 8}), 201)
    assert (session["doctor_name"], session["fee"]) == (doctor["name"], "18.00"), session

    reader = platform.create_admin(READER, {"scheduling": "read"})
    with platform.client(reader["access_token"]) as reader_api:  # what the reader's screens read (the replica)
        def arranged() -> bool:
            week = ok(reader_api.get("/api/scheduling/schedules/week", params={"week_start": monday.isoformat()}))
            templates = ok(reader_api.get("/api/scheduling/templates", params={"doctor_id": doctor["id"]}))
            return any(s["id"] == session["id"] for s in week["items"]) and templates["total"] == 1

        wait_until(arranged, 15, 0.2, "the session and the template in the reader's lists")

    page = ui.page()
    open_signed_in(page, READER, reader["password"], "/scheduling/week")
    top = tid(page, "sidebar").evaluate("el => [...el.children].map(c => c.getAttribute('data-test'))")
    assert top == ["menu-home", "menu-scheduling"], top

    # The week: the session is there, with its counts; nothing offers to write.
    cell = tid(page, f"week-cell-{doctor['id']}-{today.isoformat()}-morning")
    expect(cell).to_have_attribute("data-schedule-id", str(session["id"]))
    expect(cell).to_have_attribute("data-quota", "12")
    expect(cell).to_have_attribute("data-remaining", "12")
    expect(tid(page, "week-refresh")).to_be_visible()
    for control in ("week-generate", "week-copy", "week-create"):
        expect(tid(page, control)).to_have_count(0)
    # The doctor's empty cells (the template gives them a row) are not offered for a new session…
    empty = tid(page, f"week-cell-{doctor['id']}-{today.isoformat()}-afternoon")
    expect(empty).to_have_attribute("data-state", "empty")
    expect(empty).not_to_have_attribute("role", "button")
    empty.click()
    # …and the session's details have no action but closing them.
    cell.click()
    detail = tid(page, "schedule-detail")
    expect(detail).to_be_visible()
    expect(detail).to_have_attribute("data-schedule-id", str(session["id"]))
    expect(tid(page, "schedule-detail-quota")).to_have_text("12")
    expect(tid(page, "schedule-form")).to_have_count(0)  # the empty cell clicked first opened no form
    for control in ("schedule-edit", "schedule-close", "schedule-reopen", "schedule-cancel"):
        expect(tid(page, control)).to_have_count(0)
    tid(page, "schedule-detail-close").click()
    expect(detail).to_be_hidden()

    # The templates: listed, not editable.
    go_menu(page, "menu-scheduling-templates")
    expect(tid(page, f"template-row-{template['id']}")).to_be_visible()
    for control in ("templates-create", f"template-edit-{template['id']}", f"template-delete-{template['id']}"):
        expect(tid(page, control)).to_have_count(0)

    # Trying anyway, with the page's own token: refused, and nothing changed.
    refused: dict[str, Any] = api_from_page(page, "POST", f"/api/scheduling/schedules/{session['id']}/close")
    assert refused["status"] == 403 and refused["body"]["code"] == "auth.forbidden", refused
    assert ok(admin_api.get(f"/api/scheduling/schedules/{session['id']}"))["status"] == "open"
