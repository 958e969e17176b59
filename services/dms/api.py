"""Routes of the scheduling service (thin: the rules are in `service.py`).

    GET    /api/scheduling/schedules                     list (department, doctor, dates, session, status)
    POST   /api/scheduling/schedules                     create a session (201)
    GET    /api/scheduling/schedules/week                the week grid
    GET    /api/scheduling/schedules/on-duty             open sessions of a department on a day
    POST   /api/scheduling/schedules/generate            a week from the templates
    POST   /api/scheduling/schedules/copy-week           a week from another week
    GET    /api/scheduling/schedules/{id}                read
    PATCH  /api/scheduling/schedules/{id}                quota, registration type, note
    POST   /api/scheduling/schedules/{id}/close|reopen|cancel
    GET    /api/scheduling/attendance                    出诊 per doctor over a date range
    GET    /api/scheduling/templates  POST  PATCH /{id}  DELETE /{id}
    GET    /internal/schedules/{id}, /internal/schedules/on-duty
    POST   /internal/schedules/{id}/book|release|visit   slots, by registration number (service tokens only)

GET routes read the replica (`ReadDB`), the others write on the primary (`WriteDB`, committed after the
route returns). The static paths (`week`, `on-duty`, …) are declared before `{id}`.

A lock holder always gets a worker thread to finish and commit: see `common.middleware.AdmissionLimit`.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from common.deps import PeerServices, ReadDB, WriteDB, get_runtime, require_archive, require_service
from common.pagination import Page, Pagination
from common.types import MAX_ID
from services.dms import schemas, service
from services.dms.schemas import ScheduleOut, TemplateOut

router = APIRouter(prefix="/api/scheduling", dependencies=[Depends(require_archive)])
internal = APIRouter(prefix="/internal", dependencies=[Depends(require_service)], include_in_schema=False)

ScheduleId = Annotated[int, Path(alias="id", ge=1, le=MAX_ID, description="The session's id")]
TemplateId = Annotated[int, Path(alias="id", ge=1, le=MAX_ID, description="The template line's id")]

SCHEDULES = ["schedules"]
TEMPLATES = ["templates"]

def _generated(result: tuple[list[Any], int]) -> schemas.GeneratedOut:
    created, skipped = result
    return schemas.GeneratedOut(created=len(created), skipped=skipped,
                                items=[ScheduleOut.model_validate(row) for row in created])


# ---------------------------------------------------------------------------------------------------------------
# 排班 sessions


@router.get("/schedules", response_model=Page[ScheduleOut], tags=SCHEDULES, operation_id="list_schedules",
            summary="List sessions by date, part of the day and doctor")
def list_schedules(filters: Annotated[schemas.ScheduleQuery, Query()], page: Pagination, session: ReadDB) -> Any:
    rows, total = service.list_schedules(session, filters.model_dump(), page)
    return Page[ScheduleOut](items=[ScheduleOut.model_validate(r) for r in rows], total=total, page=page.page,
                             size=page.size)


@router.post("/schedules", response_model=ScheduleOut, status_code=status.HTTP_201_CREATED, tags=SCHEDULES,
             operation_id="create_schedule", summary="Create a session")
def create_schedule(body: schemas.ScheduleCreate, session: WriteDB, peers: PeerServices) -> Any:
    return ScheduleOut.model_validate(service.create_schedule(session, peers, body.model_dump()))


@router.get("/schedules/week", response_model=schemas.WeekOut, tags=SCHEDULES, operation_id="week_view",
            summary="Every live session of a Monday-to-Sunday week")
def week_view(query: Annotated[schemas.WeekQuery, Query()], session: ReadDB) -> Any:
    return service.week_view(session, query.week_start, query.department_id, query.doctor_id)


@router.get("/schedules/on-duty", response_model=schemas.ScheduleList, tags=SCHEDULES, operation_id="on_duty",
            summary="Open sessions of a department on a day, with the slots remaining")
def on_duty(query: Annotated[schemas.OnDutyQuery, Query()], session: ReadDB) -> Any:
    return {"items": service.on_duty(session, query.department_id, query.date, query.session)}


@router.post("/schedules/generate", response_model=schemas.GeneratedOut, tags=SCHEDULES,
             operation_id="generate_week", summary="Create a week's sessions from the templates")
def generate_week(body: schemas.GenerateIn, session: WriteDB, reads: ReadDB, peers: PeerServices) -> Any:
    return _generated(service.generate_week(session, reads, peers, body.week_start, body.department_id))


@router.post("/schedules/copy-week", response_model=schemas.GeneratedOut, tags=SCHEDULES,
             operation_id="copy_week", summary="Copy a week's sessions to another week")
def copy_week(body: schemas.CopyWeekIn, session: WriteDB, reads: ReadDB, peers: PeerServices) -> Any:
    return _generated(service.copy_week(
        session, reads, peers, body.source_week_start, body.target_week_start, body.department_id))


@router.get("/schedules/{id}", response_model=ScheduleOut, tags=SCHEDULES, operation_id="get_schedule",
            summary="Read a session")
def get_schedule(schedule_id: ScheduleId, session: ReadDB) -> Any:
    return ScheduleOut.model_validate(service.get_schedule(session, schedule_id))


@router.patch("/schedules/{id}", response_model=ScheduleOut, tags=SCHEDULES, operation_id="update_schedule",
              summary="Change the quota, registration type or note of a session")
def update_schedule(schedule_id: ScheduleId, body: schemas.ScheduleUpdate, session: WriteDB,
                    peers: PeerServices) -> Any:
    changes = body.model_dump(exclude_unset=True)
    return ScheduleOut.model_validate(service.update_schedule(session, peers, schedule_id, changes))


@router.post("/schedules/{id}/close", response_model=ScheduleOut, tags=SCHEDULES, operation_id="close_schedule",
             summary="Close a session to new bookings")
def close_schedule(schedule_id: ScheduleId, session: WriteDB) -> Any:
    return ScheduleOut.model_validate(service.close_schedule(session, schedule_id))


@router.post("/schedules/{id}/reopen", response_model=ScheduleOut, tags=SCHEDULES, operation_id="reopen_schedule",
             summary="Reopen a closed session")
def reopen_schedule(schedule_id: ScheduleId, session: WriteDB) -> Any:
    return ScheduleOut.model_validate(service.reopen_schedule(session, schedule_id))


@router.post("/schedules/{id}/cancel", response_model=ScheduleOut, tags=SCHEDULES, operation_id="cancel_schedule",
             summary="Cancel a session without bookings")
def cancel_schedule(schedule_id: ScheduleId, session: WriteDB) -> Any:
    return ScheduleOut.model_validate(service.cancel_schedule(session, schedule_id))


# ---------------------------------------------------------------------------------------------------------------
# 出诊 attendance


@router.get("/attendance", response_model=schemas.AttendanceOut, tags=["attendance"], operation_id="attendance",
            summary="Sessions, quota, booked and visited per doctor over a date range")
def attendance(query: Annotated[schemas.AttendanceQuery, Query()], session: ReadDB) -> Any:
    return service.attendance(session, query.date_from, query.date_to, query.department_id, query.doctor_id)


# ---------------------------------------------------------------------------------------------------------------
# 排班模板 templates


@router.get("/templates", response_model=Page[TemplateOut], tags=TEMPLATES, operation_id="list_templates",
            summary="List template lines")
def list_templates(filters: Annotated[schemas.TemplateQuery, Query()], page: Pagination, session: ReadDB) -> Any:
    rows, total = service.list_templates(session, filters.model_dump(), page)
    return Page[TemplateOut](items=[TemplateOut.model_validate(r) for r in rows], total=total, page=page.page,
                             size=page.size)


@router.post("/templates", response_model=TemplateOut, status_code=status.HTTP_201_CREATED, tags=TEMPLATES,
             operation_id="create_template", summary="Add a template line")
def create_template(body: schemas.TemplateCreate, session: WriteDB, peers: PeerServices) -> Any:
    return TemplateOut.model_validate(service.create_template(session, peers, body.model_dump()))


@router.patch("/templates/{id}", response_model=TemplateOut, tags=TEMPLATES, operation_id="update_template",
              summary="Change the quota or registration type of a template line")
def update_template(template_id: TemplateId, body: schemas.TemplateUpdate, session: WriteDB,
                    peers: PeerServices) -> Any:
    changes = body.model_dump(exclude_unset=True)
    return TemplateOut.model_validate(service.update_template(session, peers, template_id, changes))


@router.delete("/templates/{id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               response_model=None, tags=TEMPLATES, operation_id="delete_template", summary="Delete a template line")
def delete_template(template_id: TemplateId, session: WriteDB) -> Response:
    service.delete_template(session, template_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------------------------------------------
# Internal: other services (the outpatient service books, releases and marks visits)


@internal.get("/schedules/on-duty", response_model=schemas.ScheduleList)
def internal_on_duty(query: Annotated[schemas.OnDutyQuery, Query()], session: ReadDB) -> Any:
    return {"items": service.on_duty(session, query.department_id, query.date, query.session)}


@internal.get("/schedules/{id}", response_model=ScheduleOut)
def internal_get_schedule(request: Request, schedule_id: ScheduleId) -> Any:
    # The primary: the outpatient service registers patients for a session that may have been created a moment
    # ago, and the replica may not have it yet.
    with get_runtime(request).db.read(primary=True) as session:
        return ScheduleOut.model_validate(service.get_schedule(session, schedule_id))


@internal.post("/schedules/{id}/book", response_model=schemas.BookedOut)
def book(schedule_id: ScheduleId, body: schemas.SlotIn, session: WriteDB) -> Any:
    schedule = service.book_slot(session, schedule_id, body.registration_no)
    return schemas.BookedOut(schedule=ScheduleOut.model_validate(schedule), registration_no=body.registration_no)


@internal.post("/schedules/{id}/release", response_model=schemas.ReleasedOut)
def release(schedule_id: ScheduleId, body: schemas.SlotIn, session: WriteDB) -> Any:
    schedule, released = service.release_slot(session, schedule_id, body.registration_no)
    return schemas.ReleasedOut(schedule=ScheduleOut.model_validate(schedule),
                               registration_no=body.registration_no, released=released)


@internal.post("/schedules/{id}/visit", response_model=schemas.VisitedOut)
def visit(schedule_id: ScheduleId, body: schemas.SlotIn, session: WriteDB) -> Any:
    schedule = service.visit_slot(session, schedule_id, body.registration_no)
    return schemas.VisitedOut(schedule=ScheduleOut.model_validate(schedule),
                              registration_no=body.registration_no, visited=True)
