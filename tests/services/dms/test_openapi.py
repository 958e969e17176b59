"""The scheduling service's OpenAPI document: the contract's routes, bounded inputs, the error envelope everywhere.

Only the document is checked here (the app is not started, so no database or token service is needed).
"""

from __future__ import annotations

from typing import Any

import pytest

from services.dms.app import create_app

ERROR_STATUSES = ("400", "401", "403", "404", "409", "422", "503")
PREFIX = "/api/scheduling"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app().openapi()


def _ref(content: dict[str, Any] | None) -> str | None:
    if not content:
        return None
    return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


def test_the_contracts_routes_and_no_internal_ones(spec: dict[str, Any]) -> None:
    routes = {(method, path.removeprefix(PREFIX)) for path, ops in spec["paths"].items() for method in ops}
    assert routes == {
        ("get", "/schedules"), ("post", "/schedules"), ("get", "/schedules/week"), ("get", "/schedules/on-duty"),
        ("post", "/schedules/generate"), ("post", "/schedules/copy-week"), ("get", "/schedules/{id}"),
        ("patch", "/schedules/{id}"), ("post", "/schedules/{id}/close"), ("post", "/schedules/{id}/reopen"),
        ("post", "/schedules/{id}/cancel"), ("get", "/attendance"), ("get", "/templates"), ("post", "/templates"),
        ("patch", "/templates/{id}"), ("delete", "/templates/{id}"),
    }
    paths = spec["paths"]
    assert _ref(paths[f"{PREFIX}/schedules"]["get"]["responses"]["200"]["content"]) == "Page_ScheduleOut_"
    assert _ref(paths[f"{PREFIX}/schedules"]["post"]["responses"]["201"]["content"]) == "ScheduleOut"
    assert _ref(paths[f"{PREFIX}/schedules/week"]["get"]["responses"]["200"]["content"]) == "WeekOut"
    assert _ref(paths[f"{PREFIX}/schedules/generate"]["post"]["responses"]["200"]["content"]) == "GeneratedOut"
    assert _ref(paths[f"{PREFIX}/attendance"]["get"]["responses"]["200"]["content"]) == "AttendanceOut"
    assert _ref(paths[f"{PREFIX}/templates"]["get"]["responses"]["200"]["content"]) == "Page_TemplateOut_"
    delete = paths[f"{PREFIX}/templates/{{id}}"]["delete"]["responses"]
    assert set(delete) - set(ERROR_STATUSES) == {"204"} and "content" not in delete["204"]
    listing = {p["name"] for p in paths[f"{PREFIX}/schedules"]["get"]["parameters"]}
    assert listing == {"department_id", "doctor_id", "date_from", "date_to", "session", "status", "page", "size"}
    on_duty = {p["name"]: p["required"] for p in paths[f"{PREFIX}/schedules/on-duty"]["get"]["parameters"]}
    assert on_duty == {"department_id": True, "date": True, "session": False}


def test_every_operation_documents_the_error_envelope(spec: dict[str, Any]) -> None:
    operation_ids = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            operation_ids.append(operation["operationId"])
            for status in ERROR_STATUSES:
                assert _ref(operation["responses"][status]["content"]) == "ErrorEnvelope", (method, path, status)
            assert "HTTPValidationError" not in str(operation["responses"])
    assert len(operation_ids) == len(set(operation_ids)) == 16


def test_schemas_say_what_the_service_accepts_and_shows(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name in ("ScheduleCreate", "ScheduleUpdate", "TemplateCreate", "TemplateUpdate", "GenerateIn", "CopyWeekIn"):
        assert schemas[name]["additionalProperties"] is False, name
    assert set(schemas["ScheduleCreate"]["required"]) == {"doctor_id", "schedule_date", "session", "quota"}
    assert "required" not in schemas["ScheduleUpdate"]
    quota = schemas["ScheduleCreate"]["properties"]["quota"]
    assert (quota["minimum"], quota["maximum"]) == (1, 500)
    assert schemas["ScheduleCreate"]["properties"]["doctor_id"]["maximum"] == 2_147_483_647
    assert schemas["ScheduleCreate"]["properties"]["schedule_date"]["format"] == "date"
    assert schemas["ScheduleCreate"]["properties"]["note"]["anyOf"][0]["maxLength"] == 255
    assert schemas["ClinicSession"]["enum"] == ["morning", "afternoon", "night"]
    assert schemas["ScheduleStatus"]["enum"] == ["open", "closed", "cancelled"]
    out = schemas["ScheduleOut"]["properties"]
    assert set(out) == {"id", "doctor_id", "doctor_name", "department_id", "department_name", "schedule_date",
                        "session", "registration_type_id", "registration_type_name", "fee", "quota", "booked",
                        "visited", "remaining", "status", "note", "created_at", "updated_at"}
    assert out["fee"]["type"] == "string"
    assert set(schemas["TemplateOut"]["properties"]) == {
        "id", "doctor_id", "doctor_name", "department_id", "department_name", "weekday", "session",
        "registration_type_id", "registration_type_name", "quota", "created_at", "updated_at"}
    weekday = schemas["TemplateCreate"]["properties"]["weekday"]
    assert (weekday["minimum"], weekday["maximum"]) == (1, 7)
    assert set(schemas["AttendanceOut"]["properties"]) == {"date_from", "date_to", "items", "totals"}
    assert set(schemas["GeneratedOut"]["properties"]) == {"created", "skipped", "items"}
