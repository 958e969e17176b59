"""One patient's whole outpatient visit, through the real screens, by the people who do each step with only their
own grants (the outpatient issue's acceptance):

1. a scheduler (scheduling:write, datacenter:read) puts a doctor's clinic session on today in the 排班表 week grid;
2. a registration clerk (outpatient:write) on 用户挂号 chooses the department, date and session, creates the patient
   with 快速建档 (a valid ID card), registers, collects the fee by WeChat Pay and sees the receipt;
3. on 处方划价 the clerk prices 3 × a 12.35 drug (37.05); on 项目划价 an 85.50 exam;
4. on 药品缴费 and 项目缴费 the clerk collects both, and the bill follows;
5. an exam technician (outpatient:write) on 项目检查 records findings and conclusion and uploads a PDF report, which
   is listed and previewed;
6. a records clerk (outpatient:read) finds the patient in 门诊患者库 and sees the whole visit in the history: the
   prescription, the exam with its report, the three payments, paid 147.55 = 25.00 + 37.05 + 85.50.

The master data (department, registration type with its fee, doctor, drug, exam item) is arranged through the API
by the super admin: this test is not about the data center. What the screens did is checked through the API too.
Before a screen reads a list from the replica, the test waits (through the API, as that user) until the list shows
what an earlier step wrote; in the browser it waits only on elements and responses.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

from tests.harness import Platform, wait_until
from tests.hospital import id_card, ok

from .conftest import Pages
from .ui import answered, api_call, checked, doc_screenshot, go_menu, open_signed_in, pick, tid

HOSPITAL_ZONE = ZoneInfo("Asia/Shanghai")

# Fixed names (each test session has a fresh platform), so that the README screenshots come out the same each run.
SCHEDULER, CLERK, EXAMINER, RECORDS = "zhou.paiban", "li.guahao", "wu.jiancha", "chen.bingan"
DEPARTMENT = {"code": "MZXNK", "name": "心血管内科", "kind": "clinical"}
EXAM_DEPARTMENT = {"code": "MZFSK", "name": "放射科", "kind": "medical_technical"}
REGISTRATION_TYPE = {"code": "MZPT", "name": "普通门诊", "fee": "25.00"}
DOCTOR = {"code": "MZD01", "name": "郑国华", "gender": "male", "title": "attending", "practice": "outpatient"}
DRUG = {"code": "MZDR01", "name": "硝苯地平缓释片", "specification": "20mg×30片", "dosage_form": "片剂",
        "category": "western", "retail_price": "12.35", "low_stock_threshold": 10}
ITEM = {"code": "MZCT01", "name": "冠状动脉CT造影", "price": "85.50", "result_required": True}
SESSION = "afternoon"
QUOTA = 20

PATIENT_NAME = "林秀英"
PATIENT_BIRTH = date(1985, 3, 14)
PATIENT_ID_CARD = id_card(PATIENT_BIRTH, 42)  # 17th digit 2: a woman
PATIENT_PHONE = "13912345678"
FINDINGS = "左前降支近段可见非钙化斑块，管腔轻度狭窄（约30%）；余冠状动脉未见明显狭窄。"
CONCLUSION = "冠状动脉粥样硬化，左前降支轻度狭窄。"

FEE, DRUG_LINE, ITEM_LINE = Decimal("25.00"), Decimal("37.05"), Decimal("85.50")
TOTAL = FEE + DRUG_LINE + ITEM_LINE  # 147.55


def hospital_today() -> date:
    return datetime.now(HOSPITAL_ZONE).date()


def report_pdf(text: str = "Coronary CTA report") -> bytes:
    """A small, well-formed one-page PDF (header, objects, cross-reference table with exact offsets, trailer)."""
    content = f"BT /F1 18 Tf 72 760 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# -- arranged through the API ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clinic(platform: Platform, admin_api: httpx.Client) -> dict[str, Any]:
    """The master data of the visit, made by the super admin in the data center (ids by name)."""
    api = "/api/datacenter"
    dept = ok(admin_api.post(f"{api}/departments", json=DEPARTMENT), 201)
    exam_dept = ok(admin_api.post(f"{api}/departments", json=EXAM_DEPARTMENT), 201)
    reg_type = ok(admin_api.post(f"{api}/registration-types", json=REGISTRATION_TYPE), 201)
    doctor = ok(admin_api.post(f"{api}/doctors", json={
        **DOCTOR, "department_id": dept["id"], "registration_type_id": reg_type["id"]}), 201)
    box = ok(admin_api.post(f"{api}/units", json={"code": "MZHE", "name": "盒"}), 201)
    times = ok(admin_api.post(f"{api}/units", json={"code": "MZCI", "name": "次"}), 201)
    origin = ok(admin_api.post(f"{api}/drug-origins", json={"code": "MZO1", "name": "拜耳医药"}), 201)
    category = ok(admin_api.post(f"{api}/item-categories", json={"code": "MZYX", "name": "影像检查"}), 201)
    drug = ok(admin_api.post(f"{api}/drugs", json={
        **DRUG, "unit_id": box["id"], "origin_id": origin["id"]}), 201)
    item = ok(admin_api.post(f"{api}/medical-items", json={
        **ITEM, "category_id": category["id"], "unit_id": times["id"], "department_id": exam_dept["id"]}), 201)
    return {"department": dept, "exam_department": exam_dept, "registration_type": reg_type, "doctor": doctor,
            "drug": drug, "item": item}


@pytest.fixture(scope="module")
def staff(platform: Platform) -> dict[str, dict[str, Any]]:
    """The four people of the visit, each holding only the grants of their job."""
    return {
        SCHEDULER: platform.create_admin(SCHEDULER, {"scheduling": "write", "datacenter": "read"}),
        CLERK: platform.create_admin(CLERK, {"outpatient": "write"}),
        EXAMINER: platform.create_admin(EXAMINER, {"outpatient": "write"}),
        RECORDS: platform.create_admin(RECORDS, {"outpatient": "read"}),
    }


@pytest.fixture
def as_user(platform: Platform, staff: dict[str, dict[str, Any]]) -> Iterator[Any]:
    """`as_user(name)`: an API client holding that person's token (to wait for what their screen will read)."""
    clients: list[httpx.Client] = []

    def make(name: str) -> httpx.Client:
        client = platform.client(staff[name]["access_token"])
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _visible(client: httpx.Client, path: str, params: dict[str, Any], found: Any, what: str,
             timeout: float = 15) -> Any:
    """Waits until a list the user's screen reads (from the replica) shows what an earlier step wrote."""
    def check() -> Any:
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        return found(response.json())

    return wait_until(check, timeout, 0.2, what)


def _wait_for_department(clerk: httpx.Client, department_id: int) -> None:
    """A department made a moment ago is offered at the registration desk at once (the data center's look-up
    reads its primary and drops its cached answers on every change)."""
    _visible(clerk, "/api/outpatient/lookups/departments", {},
             lambda body: any(d["id"] == department_id for d in body["items"]),
             "the new department in the registration desk's list", timeout=5)


# -- the visit ---------------------------------------------------------------------------------------------------


def test_one_patient_through_a_whole_outpatient_visit(
        ui: Pages, platform: Platform, admin_api: httpx.Client, clinic: dict[str, Any],
        staff: dict[str, dict[str, Any]], as_user: Any) -> None:
    today = hospital_today().isoformat()
    doctor, dept = clinic["doctor"], clinic["department"]
    drug, item = clinic["drug"], clinic["item"]

    # 1. 排班表: the scheduler puts the doctor's afternoon clinic on today, from the week grid. --------------------
    scheduler_api = as_user(SCHEDULER)
    _visible(scheduler_api, "/api/datacenter/doctors",
             {"q": doctor["name"], "active": "true", "practice": "outpatient", "size": 50},
             lambda body: any(d["id"] == doctor["id"] for d in body["items"]), "the doctor in the data center list")
    scheduler = ui.page()
    open_signed_in(scheduler, SCHEDULER, staff[SCHEDULER]["password"], "/scheduling/week")
    expect(tid(scheduler, "dms-week")).to_be_visible()
    tid(scheduler, "week-create").click()
    form = tid(scheduler, "schedule-form")
    expect(form).to_be_visible()
    expect(form).to_have_attribute("data-mode", "create")
    tid(scheduler, "schedule-form-doctor").click()
    scheduler.keyboard.type(doctor["name"])  # searched in the data center as one types
    option = tid(scheduler, f"schedule-form-doctor-{doctor['id']}")
    expect(option).to_be_visible()
    option.click()
    pick(scheduler, "schedule-form-session", f"schedule-form-session-{SESSION}")
    tid(scheduler, "schedule-form-quota").fill(str(QUOTA))
    with scheduler.expect_response(api_call("POST", "/api/scheduling/schedules")) as created:
        tid(scheduler, "schedule-form-submit").click()
    schedule = answered(created.value, 201)
    assert (schedule["doctor_id"], schedule["doctor_name"], schedule["schedule_date"], schedule["session"],
            schedule["quota"], schedule["registration_type_id"], schedule["fee"], schedule["status"]) == (
        doctor["id"], doctor["name"], today, SESSION, QUOTA, clinic["registration_type"]["id"], "25.00", "open"), \
        schedule
    expect(form).to_be_hidden()

    cell = tid(scheduler, f"week-cell-{doctor['id']}-{today}-{SESSION}")
    expect(cell).to_have_attribute("data-schedule-id", str(schedule["id"]))
    expect(cell).to_have_attribute("data-status", "open")
    expect(cell).to_have_attribute("data-quota", str(QUOTA))
    expect(cell).to_have_attribute("data-booked", "0")
    expect(cell).to_have_attribute("data-remaining", str(QUOTA))
    expect(tid(scheduler, f"week-row-{doctor['id']}")).to_contain_text(doctor["name"])
    doc_screenshot(scheduler, "schedule-week")

    # 2. 用户挂号: department, date, session; 快速建档; register; collect the fee; the receipt. --------------------
    clerk_api = as_user(CLERK)
    _wait_for_department(clerk_api, dept["id"])
    _visible(clerk_api, "/api/outpatient/lookups/on-duty", {"department_id": dept["id"], "date": today},
             lambda body: any(s["id"] == schedule["id"] for s in body["items"]), "the new session at the desk")
    clerk = ui.page()
    open_signed_in(clerk, CLERK, staff[CLERK]["password"], "/outpatient/registration")
    expect(tid(clerk, "oms-registration")).to_be_visible()
    pick(clerk, "reg-department", f"reg-department-option-{dept['id']}")
    tid(clerk, "reg-date").fill(today)
    session = tid(clerk, f"reg-session-{schedule['id']}")
    expect(session).to_have_attribute("data-remaining", str(QUOTA))
    expect(session).to_have_attribute("data-fee", "25.00")
    expect(session).to_contain_text(doctor["name"])
    session.click()
    expect(session).to_have_attribute("data-selected", "true")
    expect(tid(clerk, "reg-fee")).to_have_attribute("data-amount", "25.00")
    expect(tid(clerk, "reg-submit")).to_be_disabled()  # no patient yet

    tid(clerk, "reg-quick-create").click()
    expect(tid(clerk, "patient-form")).to_be_visible()
    tid(clerk, "patient-form-name").fill(PATIENT_NAME)
    tid(clerk, "patient-form-id-card").fill(PATIENT_ID_CARD)
    expect(tid(clerk, "patient-form-birth-date")).to_have_value(PATIENT_BIRTH.isoformat())  # read from the ID card
    assert checked(tid(clerk, "patient-form-gender-female")), "the ID card says a woman"
    tid(clerk, "patient-form-phone").fill(PATIENT_PHONE)
    with clerk.expect_response(api_call("POST", "/api/outpatient/patients")) as created:
        tid(clerk, "patient-form-submit").click()
    patient = answered(created.value, 201)
    assert (patient["name"], patient["gender"], patient["birth_date"], patient["id_card"], patient["phone"]) == (
        PATIENT_NAME, "female", PATIENT_BIRTH.isoformat(), PATIENT_ID_CARD, PATIENT_PHONE), patient
    expect(tid(clerk, "patient-form-dialog")).to_be_hidden()
    expect(tid(clerk, "reg-patient-selected")).to_have_attribute("data-patient-id", str(patient["id"]))
    expect(tid(clerk, "reg-summary")).to_contain_text(patient["patient_no"])
    expect(tid(clerk, "reg-submit")).to_be_enabled()
    doc_screenshot(clerk, "registration")

    with clerk.expect_response(api_call("POST", "/api/outpatient/registrations")) as created:
        tid(clerk, "reg-submit").click()
    registration = answered(created.value, 201)
    reg_no = registration["registration_no"]
    assert (registration["patient_id"], registration["schedule_id"], registration["fee"],
            registration["status"]) == (patient["id"], schedule["id"], "25.00", "pending_payment"), registration
    expect(tid(clerk, "reg-pay-dialog")).to_be_visible()
    expect(tid(clerk, "reg-pay-body")).to_have_attribute("data-registration-no", reg_no)
    expect(tid(clerk, "reg-pay-amount")).to_have_attribute("data-amount", "25.00")
    tid(clerk, "reg-pay-method-wechat").click()
    expect(tid(clerk, "reg-pay-method-wechat")).to_have_attribute("data-selected", "true")
    with clerk.expect_response(api_call("POST", "/api/outpatient/payments")) as paid:
        tid(clerk, "reg-pay-submit").click()
    fee_payment = answered(paid.value, 201)
    assert (fee_payment["target"], fee_payment["target_id"], fee_payment["amount"], fee_payment["method"],
            fee_payment["kind"]) == ("registration", registration["id"], "25.00", "wechat", "payment"), fee_payment
    receipt = tid(clerk, "receipt")
    expect(receipt).to_be_visible()
    expect(receipt).to_have_attribute("data-payment-no", fee_payment["payment_no"])
    expect(receipt).to_have_attribute("data-amount", "25.00")
    expect(receipt).to_have_attribute("data-kind", "payment")
    expect(tid(clerk, "receipt-amount")).to_have_text("¥25.00")
    expect(tid(clerk, "receipt-method")).to_have_text("微信支付")
    expect(receipt).to_contain_text(reg_no)
    expect(receipt).to_contain_text(PATIENT_NAME)
    expect(tid(clerk, "receipt-line-0")).to_contain_text(REGISTRATION_TYPE["name"])
    expect(tid(clerk, "receipt-line-0")).to_contain_text("¥25.00")
    expect(tid(clerk, "receipt-line-1")).to_have_count(0)
    tid(clerk, "receipt-close").click()
    expect(receipt).to_be_hidden()
    expect(tid(clerk, f"reg-row-{reg_no}")).to_have_attribute("data-status", "registered")
    expect(tid(clerk, f"reg-session-{schedule['id']}")).to_have_attribute("data-remaining", str(QUOTA - 1))

    # 3. 处方划价 and 项目划价: the registration found, the lines priced live, saved. -------------------------------
    go_menu(clerk, "menu-outpatient-prescriptions")
    expect(tid(clerk, "oms-prescriptions")).to_be_visible()
    tid(clerk, "rx-registration-search").fill(reg_no)
    current = tid(clerk, "rx-registration-current")
    expect(current).to_have_attribute("data-registration-no", reg_no)  # one match: chosen at once
    expect(current).to_have_attribute("data-status", "registered")
    editor = tid(clerk, "rx-editor")
    expect(editor).to_have_attribute("data-mode", "new")
    tid(clerk, "rx-drug-search").fill(drug["name"])
    tid(clerk, f"rx-drug-option-{drug['id']}").click()
    expect(tid(clerk, "rx-line-0")).to_have_attribute("data-ref-id", str(drug["id"]))
    tid(clerk, "rx-line-0-quantity").fill("3")
    tid(clerk, "rx-line-0-usage").fill("口服，一日一次，每次一片")
    tid(clerk, "rx-line-0-days").fill("3")
    expect(tid(clerk, "rx-line-amount-0")).to_have_attribute("data-amount", "37.05")
    expect(tid(clerk, "rx-total")).to_have_attribute("data-amount", "37.05")
    with clerk.expect_response(api_call("POST", "/api/outpatient/prescriptions")) as created:
        tid(clerk, "rx-save").click()
    prescription = answered(created.value, 201)
    rx_no = prescription["prescription_no"]
    line = prescription["lines"][0]
    assert (prescription["total_amount"], prescription["status"], len(prescription["lines"]), line["drug_id"],
            line["quantity"], line["unit_price"], line["amount"], line["days"]) == (
        "37.05", "unpaid", 1, drug["id"], 3, "12.35", "37.05", 3), prescription
    expect(editor).to_have_attribute("data-mode", "edit")
    expect(editor).to_have_attribute("data-document-no", rx_no)
    row = tid(clerk, f"rx-row-{rx_no}")
    expect(row).to_have_attribute("data-status", "unpaid")
    expect(row).to_have_attribute("data-total", "37.05")

    go_menu(clerk, "menu-outpatient-item-orders")
    expect(tid(clerk, "oms-item-orders")).to_be_visible()
    tid(clerk, "io-registration-search").fill(reg_no)
    expect(tid(clerk, "io-registration-current")).to_have_attribute("data-registration-no", reg_no)
    editor = tid(clerk, "io-editor")
    expect(editor).to_have_attribute("data-mode", "new")
    tid(clerk, "io-item-search").fill(item["name"])
    tid(clerk, f"io-item-option-{item['id']}").click()
    expect(tid(clerk, "io-line-0")).to_have_attribute("data-ref-id", str(item["id"]))
    expect(tid(clerk, "io-line-0-quantity")).to_have_value("1")
    expect(tid(clerk, "io-line-amount-0")).to_have_attribute("data-amount", "85.50")
    expect(tid(clerk, "io-total")).to_have_attribute("data-amount", "85.50")
    with clerk.expect_response(api_call("POST", "/api/outpatient/item-orders")) as created:
        tid(clerk, "io-save").click()
    order = answered(created.value, 201)
    io_no, exam_line = order["order_no"], order["lines"][0]
    assert (order["total_amount"], order["status"], exam_line["medical_item_id"], exam_line["amount"],
            exam_line["result_required"]) == ("85.50", "unpaid", item["id"], "85.50", True), order
    expect(editor).to_have_attribute("data-document-no", io_no)
    row = tid(clerk, f"io-row-{io_no}")
    expect(row).to_have_attribute("data-status", "unpaid")
    expect(row).to_have_attribute("data-total", "85.50")

    # 4. 药品缴费 and 项目缴费: each window collects its documents; the bill follows. ------------------------------
    go_menu(clerk, "menu-outpatient-drug-payments")
    expect(tid(clerk, "oms-payments")).to_have_attribute("data-kind", "drug")
    tid(clerk, "pay-search").fill(rx_no)  # the prescription slip's number finds its registration
    expect(tid(clerk, "pay-current")).to_have_attribute("data-registration-no", reg_no)
    billing = tid(clerk, "pay-billing")
    expect(billing).to_have_attribute("data-paid", "25.00")
    expect(billing).to_have_attribute("data-unpaid", "122.55")
    expect(billing).to_have_attribute("data-screen-unpaid", "37.05")
    doc = tid(clerk, f"pay-doc-{rx_no}")
    expect(doc).to_have_attribute("data-status", "unpaid")
    expect(doc).to_have_attribute("data-total", "37.05")
    expect(tid(clerk, f"pay-doc-{io_no}")).to_have_count(0)  # item orders are paid at the other window
    tid(clerk, "pay-method-cash").click()
    with clerk.expect_response(api_call("POST", "/api/outpatient/payments")) as paid:
        tid(clerk, f"pay-submit-{rx_no}").click()
    drug_payment = answered(paid.value, 201)
    assert (drug_payment["target"], drug_payment["target_no"], drug_payment["amount"], drug_payment["method"]) == (
        "prescription", rx_no, "37.05", "cash"), drug_payment
    expect(tid(clerk, "receipt")).to_have_attribute("data-amount", "37.05")
    expect(tid(clerk, "receipt-amount")).to_have_text("¥37.05")
    expect(tid(clerk, "receipt-method")).to_have_text("现金")
    expect(tid(clerk, "receipt-line-0")).to_contain_text(drug["name"])
    expect(tid(clerk, "receipt-line-0")).to_contain_text("¥37.05")
    tid(clerk, "receipt-close").click()
    expect(tid(clerk, "receipt")).to_be_hidden()
    expect(billing).to_have_attribute("data-paid", "62.05")
    expect(billing).to_have_attribute("data-unpaid", "85.50")
    expect(billing).to_have_attribute("data-screen-unpaid", "0.00")
    expect(doc).to_have_attribute("data-status", "paid")
    expect(doc).to_have_attribute("data-paid", "37.05")
    expect(tid(clerk, f"pay-ledger-{drug_payment['payment_no']}")).to_have_attribute("data-amount", "37.05")

    go_menu(clerk, "menu-outpatient-item-payments")
    expect(tid(clerk, "oms-payments")).to_have_attribute("data-kind", "item")
    tid(clerk, "pay-search").fill(io_no)
    expect(tid(clerk, "pay-current")).to_have_attribute("data-registration-no", reg_no)
    expect(billing).to_have_attribute("data-paid", "62.05")
    expect(billing).to_have_attribute("data-unpaid", "85.50")
    expect(billing).to_have_attribute("data-screen-unpaid", "85.50")
    expect(tid(clerk, f"pay-doc-{reg_no}")).to_have_attribute("data-paid", "25.00")  # the fee, paid at the desk
    doc = tid(clerk, f"pay-doc-{io_no}")
    expect(doc).to_have_attribute("data-status", "unpaid")
    expect(doc).to_have_attribute("data-total", "85.50")
    expect(tid(clerk, f"pay-doc-{rx_no}")).to_have_count(0)
    tid(clerk, "pay-method-alipay").click()
    with clerk.expect_response(api_call("POST", "/api/outpatient/payments")) as paid:
        tid(clerk, f"pay-submit-{io_no}").click()
    item_payment = answered(paid.value, 201)
    assert (item_payment["target"], item_payment["target_no"], item_payment["amount"], item_payment["method"]) == (
        "item_order", io_no, "85.50", "alipay"), item_payment
    expect(tid(clerk, "receipt")).to_have_attribute("data-amount", "85.50")
    expect(tid(clerk, "receipt-method")).to_have_text("支付宝")
    expect(tid(clerk, "receipt-line-0")).to_contain_text(item["name"])
    tid(clerk, "receipt-close").click()
    expect(tid(clerk, "receipt")).to_be_hidden()
    expect(billing).to_have_attribute("data-paid", "147.55")
    expect(billing).to_have_attribute("data-unpaid", "0.00")
    expect(billing).to_have_attribute("data-refundable", "147.55")  # nothing visited, dispensed or examined yet
    expect(doc).to_have_attribute("data-status", "paid")
    expect(doc).to_have_attribute("data-paid", "85.50")
    for payment in (fee_payment, drug_payment, item_payment):
        expect(tid(clerk, f"pay-ledger-{payment['payment_no']}")).to_have_attribute("data-amount", payment["amount"])

    # 5. 项目检查: the technician records the result and uploads the PDF report; it is listed and previewed. --------
    examiner_api = as_user(EXAMINER)
    _visible(examiner_api, "/api/outpatient/exams", {"status": "pending", "q": io_no},
             lambda body: any(e["line_id"] == exam_line["id"] for e in body["items"]), "the paid exam in the work list")
    examiner = ui.page()
    open_signed_in(examiner, EXAMINER, staff[EXAMINER]["password"], "/outpatient/exams")
    expect(tid(examiner, "oms-exams")).to_be_visible()
    with examiner.expect_response(lambda r: "/api/outpatient/exams?" in r.url and "q=" in r.url):
        tid(examiner, "exam-search").fill(io_no)
    exam_row = tid(examiner, f"exam-row-{exam_line['id']}")
    expect(exam_row).to_have_attribute("data-status", "pending")
    expect(exam_row).to_contain_text(PATIENT_NAME)
    tid(examiner, f"exam-open-{exam_line['id']}").click()
    panel = tid(examiner, "exam-panel")
    expect(panel).to_have_attribute("data-line-id", str(exam_line["id"]))
    expect(panel).to_have_attribute("data-status", "pending")
    tid(examiner, "exam-findings").fill(FINDINGS)
    tid(examiner, "exam-conclusion").fill(CONCLUSION)
    with examiner.expect_response(api_call("PUT", f"/api/outpatient/exams/{exam_line['id']}")) as saved:
        tid(examiner, "exam-save").click()
    exam = answered(saved.value, 200)
    assert (exam["status"], exam["findings"], exam["conclusion"], exam["examiner_id"]) == (
        "done", FINDINGS, CONCLUSION, staff[EXAMINER]["user_id"]), exam
    expect(panel).to_have_attribute("data-status", "done")
    expect(tid(examiner, "exam-examiner")).to_contain_text(EXAMINER)

    pdf = report_pdf()
    with examiner.expect_response(api_call("POST", f"/api/outpatient/exams/{exam_line['id']}/attachments")) as up:
        tid(examiner, "exam-upload").set_input_files({"name": "冠脉CTA报告.pdf", "mimeType": "application/pdf",
                                                      "buffer": pdf})
    attachment = answered(up.value, 201)
    assert (attachment["filename"], attachment["content_type"], attachment["size"]) == (
        "冠脉CTA报告.pdf", "application/pdf", len(pdf)), attachment
    expect(tid(examiner, "exam-upload-error")).to_have_count(0)
    expect(tid(examiner, "exam-attachments")).to_have_attribute("data-count", "1")
    listed = tid(examiner, f"exam-attachment-{attachment['id']}")
    expect(listed).to_have_attribute("data-type", "application/pdf")
    expect(listed).to_contain_text("冠脉CTA报告.pdf")
    with examiner.expect_response(api_call("GET", f"/api/outpatient/attachments/{attachment['id']}")) as fetched:
        listed.click()
    assert fetched.value.status == 200 and fetched.value.body() == pdf, fetched.value.status
    preview = tid(examiner, "exam-preview")
    expect(preview).to_have_attribute("data-state", "ready")
    expect(preview).to_have_attribute("data-type", "application/pdf")
    expect(tid(examiner, "exam-preview-pdf")).to_be_visible()
    tid(examiner, "exam-preview-close").click()
    expect(preview).to_be_hidden()

    # 6. 门诊患者库: the records clerk (read only) finds the patient; the history holds the whole visit. ------------
    records_api = as_user(RECORDS)

    def whole_visit(body: dict[str, Any]) -> bool:
        visits = body["registrations"]
        return bool(visits) and any(line["exam"] and line["exam"]["attachments"]
                                    for order in visits[0]["item_orders"] for line in order["lines"])

    _visible(records_api, f"/api/outpatient/patients/{patient['id']}/history", {}, whole_visit,
             "the exam report in the patient's history")
    records = ui.page()
    open_signed_in(records, RECORDS, staff[RECORDS]["password"], "/outpatient/patients")
    expect(tid(records, "oms-patients")).to_be_visible()
    expect(tid(records, "patients-create")).to_have_count(0)  # read only
    with records.expect_response(lambda r: "/api/outpatient/patients?" in r.url and "q=" in r.url):
        tid(records, "patients-search").fill(PATIENT_ID_CARD[-6:])  # the last digits of the ID card
    found = tid(records, f"patient-row-{patient['patient_no']}")
    expect(found).to_have_attribute("data-id", str(patient["id"]))
    expect(found).to_contain_text(PATIENT_NAME)
    expect(found).not_to_contain_text(PATIENT_ID_CARD)  # masked in lists
    tid(records, f"patient-open-{patient['patient_no']}").click()
    detail = tid(records, "patient-detail")
    expect(detail).to_have_attribute("data-patient-no", patient["patient_no"])
    expect(tid(records, "patient-detail-name")).to_have_text(PATIENT_NAME)
    expect(tid(records, "patient-detail-edit")).to_have_count(0)

    visit = tid(records, f"history-visit-{reg_no}")
    expect(visit).to_have_attribute("data-status", "registered")
    expect(visit).to_contain_text(doctor["name"])
    expect(visit).to_contain_text(dept["name"])
    rx = tid(records, f"history-rx-{rx_no}")
    expect(rx).to_have_attribute("data-status", "paid")
    expect(rx).to_have_attribute("data-total", "37.05")
    expect(rx).to_contain_text(drug["name"])
    io = tid(records, f"history-io-{io_no}")
    expect(io).to_have_attribute("data-status", "paid")
    expect(io).to_have_attribute("data-total", "85.50")
    expect(io).to_contain_text(item["name"])
    result = tid(records, f"history-exam-{exam_line['id']}")
    expect(result).to_have_attribute("data-status", "done")
    expect(result).to_contain_text(FINDINGS)
    expect(result).to_contain_text(CONCLUSION)
    report = tid(records, f"history-attachment-{attachment['id']}")
    expect(report).to_contain_text("冠脉CTA报告.pdf")
    for payment in (fee_payment, drug_payment, item_payment):
        entry = tid(records, f"history-payment-{payment['payment_no']}")
        expect(entry).to_have_attribute("data-amount", payment["amount"])
        expect(entry).to_have_attribute("data-kind", "payment")
    expect(visit.locator('[data-test^="history-payment-"]')).to_have_count(3)
    totals = tid(records, "history-totals")
    expect(totals).to_have_attribute("data-paid", "147.55")
    expect(totals).to_have_attribute("data-refunded", "0.00")
    expect(totals).to_have_attribute("data-net", "147.55")
    totals.evaluate("el => el.scrollIntoView({ block: 'start' })")  # the totals and the visit below them
    doc_screenshot(records, "patient-history")

    with records.expect_response(api_call("GET", f"/api/outpatient/attachments/{attachment['id']}")) as fetched:
        report.click()
    assert fetched.value.status == 200 and fetched.value.body() == pdf
    expect(tid(records, "exam-preview")).to_have_attribute("data-state", "ready")
    expect(tid(records, "exam-preview-pdf")).to_be_visible()

    # What the screens did, as the API records it. -------------------------------------------------------------------
    ledger = ok(admin_api.get("/api/outpatient/payments", params={"registration_id": registration["id"], "size": 100}))
    assert ledger["total"] == 3, ledger
    assert sum(Decimal(p["amount"]) for p in ledger["items"]) == TOTAL == Decimal("147.55"), ledger
    assert sorted((p["target"], p["amount"], p["method"]) for p in ledger["items"]) == [
        ("item_order", "85.50", "alipay"), ("prescription", "37.05", "cash"), ("registration", "25.00", "wechat")]
    bill = ok(admin_api.get(f"/api/outpatient/registrations/{registration['id']}/billing"))
    assert (bill["paid_amount"], bill["unpaid_amount"], bill["refundable_amount"]) == ("147.55", "0.00", "62.05"), bill
    recorded = ok(admin_api.get(f"/api/outpatient/exams/{exam_line['id']}"))
    assert recorded["status"] == "done" and [(a["id"], a["content_type"], a["size"]) for a in recorded["attachments"]] \
        == [(attachment["id"], "application/pdf", len(pdf))], recorded
    stored = admin_api.get(f"/api/outpatient/attachments/{attachment['id']}")
    assert stored.status_code == 200 and stored.content == pdf
    assert stored.headers["content-type"].startswith("application/pdf")
    booked = ok(admin_api.get(f"/api/scheduling/schedules/{schedule['id']}"))
    assert (booked["booked"], booked["remaining"]) == (1, QUOTA - 1), booked
