"""The data center's OpenAPI document: a distinct, correct schema per entity and the error envelope everywhere.

Only the document is checked here (behaviour is tested in test_service.py and, through the gateway, by the
HTTP-level tests); the app is not started, so no database or token service is needed.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.dbs.app import create_app
from services.dbs.service import CATALOGUES

ERROR_STATUSES = ("400", "401", "403", "404", "409", "422", "503")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app().openapi()  # what /openapi.json serves; the lifespan (database, tokens) is not needed


def _ref(content: dict[str, Any] | None) -> str | None:
    if not content:
        return None
    return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


def _pascal(entity: str) -> str:
    return "".join(part.capitalize() for part in entity.split("_"))


def test_every_entity_has_its_seven_routes_with_its_own_schemas(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    assert len(paths) == 4 * len(CATALOGUES)
    seen: dict[str, set[str]] = {"create": set(), "update": set(), "out": set(), "page": set()}
    for catalogue in CATALOGUES:
        name = _pascal(catalogue.entity)
        base, item = f"/api/datacenter/{catalogue.namespace}", f"/api/datacenter/{catalogue.namespace}/{{id}}"
        assert set(paths[base]) == {"get", "post"}
        assert set(paths[item]) == {"get", "patch", "delete"}
        assert set(paths[f"{item}/deactivate"]) == {"post"} and set(paths[f"{item}/activate"]) == {"post"}

        listing, create = paths[base]["get"], paths[base]["post"]
        assert _ref(listing["responses"]["200"]["content"]) == f"Page_{name}Out_"
        params = {p["name"] for p in listing["parameters"]}
        assert params == {"q", "active", "page", "size", *catalogue.filters}, catalogue.namespace

        assert _ref(create["requestBody"]["content"]) == f"{name}Create"
        assert set(create["responses"]) - set(ERROR_STATUSES) == {"201"}
        assert _ref(create["responses"]["201"]["content"]) == f"{name}Out"

        assert _ref(paths[item]["get"]["responses"]["200"]["content"]) == f"{name}Out"
        assert _ref(paths[item]["patch"]["requestBody"]["content"]) == f"{name}Update"
        assert _ref(paths[item]["patch"]["responses"]["200"]["content"]) == f"{name}Out"
        delete = paths[item]["delete"]["responses"]
        assert set(delete) - set(ERROR_STATUSES) == {"204"} and "content" not in delete["204"]
        for action in ("deactivate", "activate"):
            operation = paths[f"{item}/{action}"]["post"]
            assert "requestBody" not in operation
            assert _ref(operation["responses"]["200"]["content"]) == f"{name}Out"

        seen["create"].add(f"{name}Create")
        seen["update"].add(f"{name}Update")
        seen["out"].add(f"{name}Out")
        seen["page"].add(f"Page_{name}Out_")
    assert all(len(names) == len(CATALOGUES) for names in seen.values())


def test_every_operation_documents_the_error_envelope(spec: dict[str, Any]) -> None:
    envelope = spec["components"]["schemas"]["ErrorEnvelope"]
    assert set(envelope["required"]) == {"code", "message"} and "detail" in envelope["properties"]
    operation_ids = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            operation_ids.append(operation["operationId"])
            for status in ERROR_STATUSES:
                assert _ref(operation["responses"][status]["content"]) == "ErrorEnvelope", (method, path, status)
            assert "HTTPValidationError" not in str(operation["responses"])
    assert len(operation_ids) == len(set(operation_ids)) == 7 * len(CATALOGUES)
    assert "create_drug" in operation_ids and "list_medical_items" in operation_ids


def test_schemas_say_what_the_service_accepts(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name in ("DrugCreate", "DrugUpdate", "DoctorCreate", "SupplierUpdate"):
        assert schemas[name]["additionalProperties"] is False
        assert "active" not in schemas[name]["properties"] and "id" not in schemas[name]["properties"]
    assert set(schemas["DrugCreate"]["required"]) >= {"code", "name", "specification", "unit_id", "retail_price"}
    assert "required" not in schemas["DrugUpdate"]
    # money goes out as a string ("12.50"); the response names the referenced rows
    assert schemas["DrugOut"]["properties"]["retail_price"]["type"] == "string"
    assert schemas["RegistrationTypeOut"]["properties"]["fee"]["type"] == "string"
    assert {"unit_name", "origin_name"} <= set(schemas["DrugOut"]["properties"])
    assert {"department_name", "registration_type_name"} <= set(schemas["DoctorOut"]["properties"])
    assert {"category_name", "unit_name", "department_name"} <= set(schemas["MedicalItemOut"]["properties"])
    assert schemas["DoctorTitle"]["enum"] == ["chief", "associate_chief", "attending", "resident"]
    assert schemas["DepartmentKind"]["enum"] == ["clinical", "medical_technical", "administrative"]
    assert schemas["DrugCategory"]["enum"] == ["western", "chinese_patent", "herbal"]
