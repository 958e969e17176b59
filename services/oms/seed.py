"""The demo hospital's outpatients: six patients with valid ID-card numbers, phones and allergies.

`seed_demo` runs in the caller's unit of work and adds nothing when any patient exists, so a second start
neither duplicates nor overwrites what users have entered since. Registrations and payments are left to the
demo itself (they need DMS's sessions of the day the demo runs).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from common.db import WriteSession
from services.oms.models import Patient
from services.oms.service import id_card_check_char, patient_number

# name, gender, birth date, region code (first six digits of the ID card), sequence, phone, address, allergies
PATIENTS = [
    ("王建华", "male", date(1968, 3, 14), "110105", "031", "13801012345", "北京市朝阳区建国路88号", "青霉素"),
    ("李秀梅", "female", date(1975, 11, 2), "310104", "046", "13916023456", "上海市徐汇区漕溪北路201号", None),
    ("张伟", "male", date(1990, 7, 21), "440106", "017", "13702034567", "广州市天河区天河路385号", None),
    ("刘芳", "female", date(1985, 1, 30), "330106", "028", "0571-87654321", "杭州市西湖区文三路90号", "磺胺类药物"),
    ("陈小明", "male", date(2016, 9, 9), "510107", "053", "13508045678", "成都市武侯区人民南路12号", "头孢类、海鲜"),
    ("赵丽", "female", date(1952, 12, 25), "420106", "062", None, "武汉市武昌区中南路99号", None),
]


def demo_id_card(region: str, born: date, sequence: str, gender: str) -> str:
    """A well-formed ID-card number: region, birth date, a sequence whose last digit is odd for men and even
    for women, and the GB 11643 check character."""
    last = int(sequence[-1])
    if (gender == "male") != (last % 2 == 1):
        last = (last + 1) % 10
    first17 = f"{region}{born:%Y%m%d}{sequence[:-1]}{last}"
    return first17 + id_card_check_char(first17)


def seed_demo(session: WriteSession, demo: dict[str, Any]) -> None:
    if session.scalar(select(Patient.id).limit(1)) is None:
        for name, gender, born, region, sequence, phone, address, allergies in PATIENTS:
            patient = Patient(name=name, gender=gender, birth_date=born,
                              id_card=demo_id_card(region, born, sequence, gender), phone=phone, address=address,
                              allergies=allergies)
            session.add(patient)
            session.flush()
            patient.patient_no = patient_number(patient.id)
        session.flush()
    demo["patients"] = [
        {"id": p.id, "patient_no": p.patient_no, "name": p.name}
        for p in session.scalars(select(Patient).order_by(Patient.id).limit(len(PATIENTS)))
    ]
