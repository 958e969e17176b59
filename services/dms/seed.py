"""The demo hospital's clinic timetable: a weekly template for each demo doctor, and the open sessions of this
week (from today on) and next week generated from it.

The data center is seeded first and leaves its outpatient doctors in `demo["doctors"]` and its registration
types in `demo["registration_types"]` (a seed cannot call another service). Without them nothing is seeded.
`seed_demo` runs in the caller's unit of work and does nothing when sessions or templates exist already, so a
second `make up` neither duplicates nor overwrites anything a user has changed since.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from common.db import WriteSession
from common.timeutil import hospital_today
from services.dms import service
from services.dms.models import Schedule, ScheduleTemplate
from services.dms.service import Assignment, DoctorRef, RegistrationTypeRef

# (weekday, session) patterns the demo doctors take in turn: two or three clinic sessions a week each.
PATTERNS = [
    [(1, "morning"), (3, "afternoon"), (5, "morning")],
    [(2, "morning"), (4, "afternoon")],
    [(1, "afternoon"), (4, "morning"), (6, "morning")],
    [(2, "afternoon"), (5, "afternoon")],
    [(3, "morning"), (5, "night")],
]


def seed_demo(session: WriteSession, demo: dict[str, Any]) -> None:
    """Create the templates and the sessions of this week and next week, unless there is anything already."""
    doctors_given, types_given = demo.get("doctors") or [], demo.get("registration_types") or []
    if not doctors_given or not types_given:
        return
    if session.scalar(select(func.count()).select_from(Schedule)) or \
            session.scalar(select(func.count()).select_from(ScheduleTemplate)):
        return
    types = {t["id"]: RegistrationTypeRef(id=t["id"], name=t["name"], fee=Decimal(str(t["fee"])), active=True)
             for t in types_given}
    doctors: dict[int, DoctorRef] = {}
    templates = []
    for n, given in enumerate(doctors_given):
        registration_type = types.get(given.get("registration_type_id"))
        if registration_type is None:
            continue  # a demo doctor without a known registration type gets no clinic
        doctor = DoctorRef(id=given["id"], name=given["name"], department_id=given["department_id"],
                           department_name=given["department_name"], registration_type_id=registration_type.id,
                           practice="outpatient", active=True)
        doctors[doctor.id] = doctor
        for k, (weekday, part) in enumerate(PATTERNS[n % len(PATTERNS)]):
            quota = 20 + (n * 3 + k * 4) % 11  # 20..30
            templates.append(service.add_template(session, Assignment(doctor, registration_type), weekday, part,
                                                  quota))
    today = hospital_today()
    monday = today - timedelta(days=today.isoweekday() - 1)
    for week_start in (monday, monday + timedelta(days=7)):
        planned = service.order_planned(service.plan_from_templates(templates, week_start))
        service.create_planned(session, planned, doctors, types)  # days before today are skipped
