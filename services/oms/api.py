"""Routes of the outpatient service, under `/api/outpatient` (every one needs the `outpatient` grant: GET read,
the others write). The rules are in `service.py`; these functions only bind HTTP to them.

    /lookups/departments | on-duty | drugs | medical-items     master data and sessions for the screens
    /patients[/{id}[/history]]                                  门诊患者库
    /registrations[/{id}[/cancel|visit|refund|billing]]         挂号
    /prescriptions[/{id}[/lines|cancel|refund]]                 处方划价
    /item-orders[/{id}[/lines|cancel|refund]]                   项目划价
    /payments[/daily-summary|/{id}]                             缴费 (the ledger) and 日结
    /exams[/{line_id}[/attachments]], /attachments/{id}         项目检查

Money-moving POSTs (payments, refunds) and registration accept `Idempotency-Key`: the same key and body replay
the first answer.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from common.auth import Principal
from common.deps import (
    CurrentUser,
    PeerServices,
    ReadDB,
    Runtime,
    WriteDB,
    get_runtime,
    require_archive,
    require_service,
)
from common.errors import BadRequest, ErrorEnvelope
from common.idempotency import IdempotencyKey
from common.pagination import Page, Pagination
from common.types import MAX_ID
from services.oms import schemas, service
from services.oms.models import IdempotencyRecord

router = APIRouter(prefix="/api/outpatient", dependencies=[Depends(require_archive)])
# Other services' routes (service tokens only); the event feed is mounted beside them by app.py.
internal = APIRouter(prefix="/internal", dependencies=[Depends(require_service)], include_in_schema=False)

RowId = Annotated[int, Path(alias="id", ge=1, le=MAX_ID, description="The row's id")]
LineId = Annotated[int, Path(ge=1, le=MAX_ID, description="The item order line's id")]
Created = status.HTTP_201_CREATED


def doc(operation: str, summary: str, tag: str) -> dict[str, Any]:
    return {"name": operation, "operation_id": operation, "summary": summary, "tags": [tag]}


def page_of(out: type, rows: list[Any], total: int, page: Any) -> Any:
    return Page[out](items=[out.model_validate(row) for row in rows], total=total, page=page.page, size=page.size)


# ---------------------------------------------------------------------------------------------------------------
# Look-ups


@router.get("/lookups/departments", response_model=schemas.DepartmentLookups,
            **doc("lookup_departments", "Active clinical departments", "lookups"))
def lookup_departments(query: Annotated[schemas.LookupQuery, Query()], peers: PeerServices) -> Any:
    return schemas.DepartmentLookups(items=service.lookup_departments(peers, query.q))


@router.get("/lookups/on-duty", response_model=schemas.OnDutyList,
            **doc("lookup_on_duty", "Open clinic sessions of a department on a day, with remaining slots", "lookups"))
def lookup_on_duty(query: Annotated[schemas.OnDutyQuery, Query()], peers: PeerServices) -> Any:
    return service.lookup_on_duty(peers, query.department_id, query.date, query.session)


@router.get("/lookups/drugs", response_model=Page[schemas.DrugLookup],
            **doc("lookup_drugs", "Active drugs with their retail prices", "lookups"))
def lookup_drugs(query: Annotated[schemas.LookupQuery, Query()], page: Pagination, peers: PeerServices) -> Any:
    return service.lookup_drugs(peers, query.q, page)


@router.get("/lookups/medical-items", response_model=Page[schemas.MedicalItemLookup],
            **doc("lookup_medical_items", "Active items of the price list", "lookups"))
def lookup_medical_items(query: Annotated[schemas.LookupQuery, Query()], page: Pagination,
                         peers: PeerServices) -> Any:
    return service.lookup_medical_items(peers, query.q, page)


# ---------------------------------------------------------------------------------------------------------------
# 门诊患者 patients


@router.get("/patients", response_model=Page[schemas.PatientOut], **doc("list_patients", "Search patients", "patients"))
def list_patients(query: Annotated[schemas.PatientQuery, Query()], page: Pagination, session: ReadDB) -> Any:
    rows, total = service.list_patients(session, query.q, query.gender, page)
    return page_of(schemas.PatientOut, rows, total, page)


@router.post("/patients", response_model=schemas.PatientDetail, status_code=Created,
             **doc("create_patient", "Register a patient", "patients"))
def create_patient(body: schemas.PatientCreate, session: WriteDB) -> Any:
    return schemas.PatientDetail.model_validate(service.create_patient(session, body.model_dump()))


@router.get("/patients/{id}", response_model=schemas.PatientDetail,
            **doc("get_patient", "A patient, with full ID-card number and phone", "patients"))
def get_patient(patient_id: RowId, session: ReadDB) -> Any:
    return schemas.PatientDetail.model_validate(service.get_patient(session, patient_id))


@router.patch("/patients/{id}", response_model=schemas.PatientDetail,
              **doc("update_patient", "Change some of a patient's fields", "patients"))
def update_patient(patient_id: RowId, body: schemas.PatientUpdate, session: WriteDB) -> Any:
    patient = service.update_patient(session, patient_id, body.model_dump(exclude_unset=True))
    return schemas.PatientDetail.model_validate(patient)


@router.get("/patients/{id}/history", response_model=schemas.PatientHistory,
            **doc("get_patient_history", "Every visit, document, exam and payment of a patient", "patients"))
def patient_history(patient_id: RowId, session: ReadDB) -> Any:
    return service.patient_history(session, patient_id)


# ---------------------------------------------------------------------------------------------------------------
# 挂号 registrations


@router.get("/registrations", response_model=Page[schemas.RegistrationOut],
            **doc("list_registrations", "Registrations, newest first", "registrations"))
def list_registrations(query: Annotated[schemas.RegistrationQuery, Query()], page: Pagination,
                       session: ReadDB) -> Any:
    rows, total = service.list_registrations(session, query.model_dump(exclude_none=True), page)
    return page_of(schemas.RegistrationOut, rows, total, page)


@router.post("/registrations", response_model=schemas.RegistrationOut, status_code=Created,
             **doc("create_registration", "Register a patient for a clinic session (books the slot)",
                   "registrations"))
def create_registration(body: schemas.RegistrationCreate, session: WriteDB, peers: PeerServices, user: CurrentUser,
                        idempotency: IdempotencyKey) -> Any:
    def work() -> Any:
        registration = service.create_registration(session, peers, user, body.patient_id, body.schedule_id)
        return schemas.RegistrationOut.model_validate(registration)

    return idempotency.run(session, IdempotencyRecord, body, work, status_code=Created)


@router.get("/registrations/{id}", response_model=schemas.RegistrationOut,
            **doc("get_registration", "A registration", "registrations"))
def get_registration(registration_id: RowId, session: ReadDB) -> Any:
    return schemas.RegistrationOut.model_validate(service.get_registration(session, registration_id))


@router.post("/registrations/{id}/cancel", response_model=schemas.RegistrationOut,
             **doc("cancel_registration", "Cancel an unpaid registration (frees the slot)", "registrations"))
def cancel_registration(registration_id: RowId, session: WriteDB, peers: PeerServices) -> Any:
    return schemas.RegistrationOut.model_validate(service.cancel_registration(session, peers, registration_id))


@router.post("/registrations/{id}/visit", response_model=schemas.RegistrationOut,
             **doc("visit_registration", "Mark that the patient saw the doctor", "registrations"))
def visit_registration(registration_id: RowId, session: WriteDB, peers: PeerServices) -> Any:
    return schemas.RegistrationOut.model_validate(service.visit_registration(session, peers, registration_id))


@router.post("/registrations/{id}/refund", response_model=schemas.PaymentOut, status_code=Created,
             **doc("refund_registration", "Refund a paid, unvisited registration (frees the slot)",
                   "registrations"))
def refund_registration(registration_id: RowId, session: WriteDB, peers: PeerServices, user: CurrentUser,
                        idempotency: IdempotencyKey, body: Annotated[schemas.RefundIn | None, Body()] = None) -> Any:
    reason = body.reason if body else None

    def work() -> Any:
        payment = service.refund_registration(session, peers, user, registration_id, reason)
        return schemas.PaymentOut.model_validate(payment)

    return idempotency.run(session, IdempotencyRecord, body, work, status_code=Created)


@router.get("/registrations/{id}/billing", response_model=schemas.BillingOut,
            **doc("get_registration_billing", "What a visit paid, owes and could have refunded", "registrations"))
def registration_billing(registration_id: RowId, session: ReadDB) -> Any:
    return service.billing(session, registration_id)


# ---------------------------------------------------------------------------------------------------------------
# 处方划价 prescriptions


@router.get("/prescriptions", response_model=Page[schemas.PrescriptionOut],
            **doc("list_prescriptions", "Prescriptions, newest first", "prescriptions"))
def list_prescriptions(query: Annotated[schemas.PrescriptionQuery, Query()], page: Pagination,
                       session: ReadDB) -> Any:
    rows, total = service.list_prescriptions(session, query.model_dump(exclude_none=True), page)
    return page_of(schemas.PrescriptionOut, rows, total, page)


@router.post("/prescriptions", response_model=schemas.PrescriptionOut, status_code=Created,
             **doc("create_prescription", "Write and price a prescription", "prescriptions"))
def create_prescription(body: schemas.PrescriptionCreate, session: WriteDB, peers: PeerServices,
                        user: CurrentUser) -> Any:
    prescription = service.create_prescription(session, peers, user, body.model_dump())
    return schemas.PrescriptionOut.model_validate(prescription)


@router.get("/prescriptions/{id}", response_model=schemas.PrescriptionOut,
            **doc("get_prescription", "A prescription with its lines", "prescriptions"))
def get_prescription(prescription_id: RowId, session: ReadDB) -> Any:
    return schemas.PrescriptionOut.model_validate(service.get_prescription(session, prescription_id))


@router.put("/prescriptions/{id}/lines", response_model=schemas.PrescriptionOut,
            **doc("replace_prescription_lines", "Replace the lines of an unpaid prescription (re-priced)",
                  "prescriptions"))
def replace_prescription_lines(prescription_id: RowId, body: schemas.PrescriptionLinesIn, session: WriteDB,
                               peers: PeerServices) -> Any:
    prescription = service.replace_prescription_lines(session, peers, prescription_id, body.model_dump(),
                                                      "note" in body.model_fields_set)
    return schemas.PrescriptionOut.model_validate(prescription)


@router.post("/prescriptions/{id}/cancel", response_model=schemas.PrescriptionOut,
             **doc("cancel_prescription", "Cancel an unpaid prescription", "prescriptions"))
def cancel_prescription(prescription_id: RowId, session: WriteDB) -> Any:
    return schemas.PrescriptionOut.model_validate(service.cancel_prescription(session, prescription_id))


@router.post("/prescriptions/{id}/refund", response_model=schemas.PaymentOut, status_code=Created,
             **doc("refund_prescription", "Refund a paid prescription not yet dispensed", "prescriptions"))
def refund_prescription(prescription_id: RowId, session: WriteDB, user: CurrentUser, idempotency: IdempotencyKey,
                        body: Annotated[schemas.RefundIn | None, Body()] = None) -> Any:
    reason = body.reason if body else None

    def work() -> Any:
        return schemas.PaymentOut.model_validate(service.refund_prescription(session, user, prescription_id, reason))

    return idempotency.run(session, IdempotencyRecord, body, work, status_code=Created)


# ---------------------------------------------------------------------------------------------------------------
# 项目划价 item orders


@router.get("/item-orders", response_model=Page[schemas.ItemOrderOut],
            **doc("list_item_orders", "Item orders, newest first", "item-orders"))
def list_item_orders(query: Annotated[schemas.ItemOrderQuery, Query()], page: Pagination, session: ReadDB) -> Any:
    rows, total = service.list_item_orders(session, query.model_dump(exclude_none=True), page)
    return page_of(schemas.ItemOrderOut, rows, total, page)


@router.post("/item-orders", response_model=schemas.ItemOrderOut, status_code=Created,
             **doc("create_item_order", "Order and price exams, treatments and services", "item-orders"))
def create_item_order(body: schemas.ItemOrderCreate, session: WriteDB, peers: PeerServices,
                      user: CurrentUser) -> Any:
    return schemas.ItemOrderOut.model_validate(service.create_item_order(session, peers, user, body.model_dump()))


@router.get("/item-orders/{id}", response_model=schemas.ItemOrderOut,
            **doc("get_item_order", "An item order with its lines and their exams", "item-orders"))
def get_item_order(order_id: RowId, session: ReadDB) -> Any:
    return schemas.ItemOrderOut.model_validate(service.get_item_order(session, order_id))


@router.put("/item-orders/{id}/lines", response_model=schemas.ItemOrderOut,
            **doc("replace_item_order_lines", "Replace the lines of an unpaid item order (re-priced)",
                  "item-orders"))
def replace_item_order_lines(order_id: RowId, body: schemas.ItemOrderLinesIn, session: WriteDB,
                             peers: PeerServices) -> Any:
    order = service.replace_item_order_lines(session, peers, order_id, body.model_dump(),
                                             "note" in body.model_fields_set)
    return schemas.ItemOrderOut.model_validate(order)


@router.post("/item-orders/{id}/cancel", response_model=schemas.ItemOrderOut,
             **doc("cancel_item_order", "Cancel an unpaid item order", "item-orders"))
def cancel_item_order(order_id: RowId, session: WriteDB) -> Any:
    return schemas.ItemOrderOut.model_validate(service.cancel_item_order(session, order_id))


@router.post("/item-orders/{id}/refund", response_model=schemas.PaymentOut, status_code=Created,
             **doc("refund_item_order", "Refund paid lines that were not examined", "item-orders"))
def refund_item_order(order_id: RowId, session: WriteDB, user: CurrentUser, idempotency: IdempotencyKey,
                      body: Annotated[schemas.ItemOrderRefundIn | None, Body()] = None) -> Any:
    line_ids, reason = (body.line_ids, body.reason) if body else (None, None)

    def work() -> Any:
        payment = service.refund_item_order(session, user, order_id, line_ids, reason)
        return schemas.PaymentOut.model_validate(payment)

    return idempotency.run(session, IdempotencyRecord, body, work, status_code=Created)


# ---------------------------------------------------------------------------------------------------------------
# 缴费 payments


@router.post("/payments", response_model=schemas.PaymentOut, status_code=Created,
             **doc("create_payment", "Pay a registration, prescription or item order in full", "payments"))
def create_payment(body: schemas.PaymentCreate, session: WriteDB, user: CurrentUser,
                   idempotency: IdempotencyKey) -> Any:
    def work() -> Any:
        return schemas.PaymentOut.model_validate(service.pay(session, user, body.target, body.target_id, body.method))

    return idempotency.run(session, IdempotencyRecord, body, work, status_code=Created)


@router.get("/payments", response_model=Page[schemas.PaymentOut],
            **doc("list_payments", "Ledger entries, newest first", "payments"))
def list_payments(query: Annotated[schemas.PaymentQuery, Query()], page: Pagination, session: ReadDB) -> Any:
    rows, total = service.list_payments(session, query.model_dump(exclude_none=True), page)
    return page_of(schemas.PaymentOut, rows, total, page)


@router.get("/payments/daily-summary", response_model=schemas.DailySummary,
            **doc("get_daily_summary", "日结: a hospital day's entries by payment method", "payments"))
def daily_summary(query: Annotated[schemas.SummaryQuery, Query()], session: ReadDB) -> Any:
    return service.daily_summary(session, query.date, query.cashier_id)


@router.get("/payments/{id}", response_model=schemas.PaymentOut,
            **doc("get_payment", "A ledger entry (the receipt)", "payments"))
def get_payment(payment_id: RowId, session: ReadDB) -> Any:
    return schemas.PaymentOut.model_validate(service.get_payment(session, payment_id))


# ---------------------------------------------------------------------------------------------------------------
# 项目检查 exams and attachments


@router.get("/exams", response_model=Page[schemas.ExamOut],
            **doc("list_exams", "The work list: paid items awaiting or holding a result", "exams"))
def list_exams(query: Annotated[schemas.ExamQuery, Query()], page: Pagination, session: ReadDB) -> Any:
    rows, total = service.list_exams(session, query.model_dump(exclude_none=True), page)
    return page_of(schemas.ExamOut, rows, total, page)


@router.get("/exams/{line_id}", response_model=schemas.ExamOut, **doc("get_exam", "The exam of a paid line", "exams"))
def get_exam(line_id: LineId, session: ReadDB) -> Any:
    return schemas.ExamOut.model_validate(service.get_exam(session, line_id))


@router.put("/exams/{line_id}", response_model=schemas.ExamOut,
            **doc("record_exam", "Enter or correct the result of a paid line", "exams"))
def record_exam(line_id: LineId, body: schemas.ExamIn, session: WriteDB, user: CurrentUser) -> Any:
    line = service.record_exam(session, user, line_id, body.findings, body.conclusion)
    return schemas.ExamOut.model_validate(line)


@router.get("/exams/{line_id}/attachments", response_model=schemas.AttachmentList,
            **doc("list_exam_attachments", "The files of an exam", "exams"))
def list_exam_attachments(line_id: LineId, session: ReadDB) -> Any:
    return schemas.AttachmentList(items=service.list_attachments(session, line_id))


_BINARY = {"schema": {"type": "string", "format": "binary"}}
_FILE_TYPES = ("application/pdf", "image/png", "image/jpeg")


@router.post(
    "/exams/{line_id}/attachments", response_model=schemas.AttachmentOut, status_code=Created,
    responses={413: {"model": ErrorEnvelope, "description": "The file is larger than 20 MB"},
               415: {"model": ErrorEnvelope, "description": "Not a PDF, PNG or JPEG file"}},
    openapi_extra={"requestBody": {"required": True, "description": "The file itself (PDF, PNG or JPEG, at most "
                                   "20 MB); its type is read from its content",
                                   "content": {"application/octet-stream": _BINARY}}},
    **doc("upload_exam_attachment", "Attach a file to a paid line's exam", "exams"),
)
async def upload_exam_attachment(request: Request, line_id: LineId, user: CurrentUser,
                                 query: Annotated[schemas.UploadQuery, Query()]) -> Any:
    # The body is read here as it arrives (never parsed as a form), so a file too large is refused at the
    # moment it passes the limit; the database and the object store are used on worker threads.
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > service.ATTACHMENT_MAX_BYTES:
        raise service.AttachmentTooLarge()
    runtime = get_runtime(request)
    await run_in_threadpool(_check_exam_open, runtime, line_id)
    data = bytearray()
    try:
        async for chunk in request.stream():
            data += chunk
            if len(data) > service.ATTACHMENT_MAX_BYTES:
                raise service.AttachmentTooLarge()
    except ClientDisconnect as exc:  # nobody is left to answer; said so in the log rather than as a 500
        raise BadRequest("The upload was interrupted", code="attachment.incomplete") from exc
    upload = service.check_upload(bytes(data), query.filename)
    return await run_in_threadpool(_store_attachment, runtime, user, line_id, upload)


def _check_exam_open(runtime: Runtime, line_id: int) -> None:
    with runtime.db.read(primary=True) as session:
        service.check_exam_open(session, line_id)


def _store_attachment(runtime: Runtime, user: Principal, line_id: int, upload: service.Upload) -> schemas.AttachmentOut:
    objects = runtime.objects
    key = service.attachment_key(line_id)
    with runtime.db.write() as session:
        attachment = service.record_attachment(session, user, line_id, upload, key,
                                               lambda: service.put_object(session, objects, key, upload))
        out = schemas.AttachmentOut.model_validate(attachment)
    runtime.mark_write(user)
    return out


@router.get(
    "/attachments/{id}", response_class=Response,
    responses={200: {"description": "The file, with the type it was stored with",
                     "content": {media_type: _BINARY for media_type in _FILE_TYPES}}},
    **doc("download_attachment", "Download an exam's file", "exams"),
)
def download_attachment(request: Request, attachment_id: RowId, session: ReadDB) -> Response:
    runtime = get_runtime(request)
    attachment = service.find_attachment(session, runtime.db, attachment_id)
    headers = {
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(attachment.filename, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    if attachment.size <= service.WHOLE_READ_BYTES:
        return Response(service.read_object(runtime.objects, attachment.object_key),
                        media_type=attachment.content_type, headers=headers)
    stream = service.open_object(runtime.objects, attachment.object_key)
    return StreamingResponse(stream, media_type=attachment.content_type,
                             headers={**headers, "Content-Length": str(attachment.size)})
