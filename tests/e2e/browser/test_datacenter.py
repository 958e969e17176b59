"""The super admin creates a department and a doctor in it through the forms, finds them with the search box, and
is told why the department cannot be deleted (409 datacenter.in_use), with the offer to deactivate it instead.
(Issue 3, acceptance.)
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from .ui import SUPER_ADMIN, choose, doc_screenshot, go_menu, open_signed_in, tid


def _search(page: Page, text: str) -> None:
    tid(page, "catalogue-search").fill(text)
    with page.expect_response(lambda r: "/api/datacenter/" in r.url and r.request.method == "GET"):
        tid(page, "catalogue-search-submit").click()


def _find(admin_api: httpx.Client, namespace: str, code: str) -> dict[str, Any]:
    items = admin_api.get(f"/api/datacenter/{namespace}", params={"q": code}).json()["items"]
    return next(row for row in items if row["code"] == code)


def test_c_create_department_and_doctor_find_them_and_explain_in_use(
        page: Page, admin_api: httpx.Client, hospital: dict[str, Any]) -> None:
    # Fixed codes (each test session has a fresh platform), so that the README screenshot is the same each run.
    dept_code, dept_name = "XXGNK", "心血管内科"
    doctor_code, doctor_name = "D007", "林晓燕"

    open_signed_in(page, *SUPER_ADMIN, path="/datacenter/departments")
    expect(tid(page, "catalogue-departments")).to_be_visible()
    expect(tid(page, "page-title")).to_have_text("科室")
    expect(tid(page, "row-NK")).to_be_visible()

    # A department, through the form.
    tid(page, "catalogue-create").click()
    form = tid(page, "catalogue-form")
    expect(form).to_be_visible()
    tid(page, "field-code").fill(dept_code)
    tid(page, "field-name").fill(dept_name)
    choose(page, "kind", "clinical")
    tid(page, "catalogue-form-submit").click()
    expect(form).to_be_hidden()
    expect(tid(page, f"row-{dept_code}")).to_be_visible()
    department = _find(admin_api, "departments", dept_code)
    assert department["name"] == dept_name and department["kind"] == "clinical" and department["active"]

    # A doctor in it: the department and registration type selects are fed from the API.
    go_menu(page, "menu-datacenter-doctors")
    expect(tid(page, "catalogue-doctors")).to_be_visible()
    expect(tid(page, "page-title")).to_have_text("医生")
    expect(tid(page, "row-D001")).to_be_visible()
    tid(page, "catalogue-create").click()
    expect(form).to_be_visible()
    tid(page, "field-code").fill(doctor_code)
    tid(page, "field-name").fill(doctor_name)
    choose(page, "gender", "female")
    choose(page, "department_id", department["id"])
    choose(page, "title", "attending")
    choose(page, "registration_type_id", hospital["PT"]["id"])
    choose(page, "practice", "outpatient")
    tid(page, "catalogue-form-submit").click()
    expect(form).to_be_hidden()
    row = tid(page, f"row-{doctor_code}")
    expect(row).to_be_visible()
    expect(row).to_contain_text(doctor_name)
    expect(row).to_contain_text(dept_name)  # the reference shown by name, not id
    doctor = _find(admin_api, "doctors", doctor_code)
    assert (doctor["department_id"], doctor["registration_type_id"], doctor["gender"], doctor["title"],
            doctor["practice"]) == (department["id"], hospital["PT"]["id"], "female", "attending", "outpatient")
    doc_screenshot(page, "datacenter-list")

    # Search finds the doctor by name, and not the others.
    _search(page, doctor_name)
    expect(tid(page, f"row-{doctor_code}")).to_be_visible()
    expect(tid(page, "row-D001")).to_have_count(0)

    # A filter narrows the list the same way: the doctors of the new department.
    tid(page, "catalogue-reset").click()
    expect(tid(page, "row-D001")).to_be_visible()
    tid(page, "filter-department_id").click()
    with page.expect_response(lambda r: f"department_id={department['id']}" in r.url):
        tid(page, f"filter-option-department_id-{department['id']}").click()
    expect(tid(page, f"row-{doctor_code}")).to_be_visible()
    expect(tid(page, "row-D001")).to_have_count(0)

    # …and the department by code.
    go_menu(page, "menu-datacenter-departments")
    expect(tid(page, "catalogue-departments")).to_be_visible()
    _search(page, dept_code)
    expect(tid(page, f"row-{dept_code}")).to_be_visible()
    expect(tid(page, "row-NK")).to_have_count(0)

    # Deleting the department the doctor works in: the 409 explained, with the offer to deactivate.
    tid(page, f"row-delete-{dept_code}").click()
    expect(tid(page, "delete-dialog")).to_be_visible()
    with page.expect_response(lambda r: r.request.method == "DELETE") as answer:
        tid(page, "delete-confirm").click()
    assert answer.value.status == 409 and answer.value.json()["code"] == "datacenter.in_use"
    in_use = tid(page, "in-use-dialog")
    expect(in_use).to_be_visible()
    expect(tid(page, "in-use-ref-doctors")).to_have_attribute("data-count", "1")
    explanation = in_use.inner_text()
    assert "医生" in explanation and dept_name in explanation, explanation  # what still refers to it
    assert not re.search(r"datacenter\.in_use|[{}\"]|references", explanation), explanation  # no raw JSON or code
    assert _find(admin_api, "departments", dept_code)["active"], "nothing may change before the user decides"

    tid(page, "in-use-deactivate").click()
    expect(in_use).to_be_hidden()
    expect(tid(page, f"row-activate-{dept_code}")).to_be_visible()
    assert not _find(admin_api, "departments", dept_code)["active"]
    assert _find(admin_api, "doctors", doctor_code)["department_id"] == department["id"]
