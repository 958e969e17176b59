"""项目检查: the work list, results for paid lines, and files in the object store — accepted by their content
(PDF, PNG, JPEG), refused when too large, empty or of another kind, stored under a generated key, downloaded
only by holders of the outpatient grant."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from minio import Minio

from tests.harness import mariadb, schema
from tests.services.oms.conftest import API, Outpatient, error, ok, unique

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(200)) + b"\xff\xd9"
LIMIT = 20 * 1024 * 1024


@pytest.fixture
def exam(op: Outpatient) -> dict:
    """A paid item order with an exam line (result required) and a treatment line; returns the order."""
    blood, injection = op.item("20.00"), op.item("8.00", result_required=False)
    registration = op.register(paid=True)
    order = op.item_order(registration, [{"medical_item_id": blood["id"], "quantity": 1},
                                         {"medical_item_id": injection["id"], "quantity": 1}])
    op.pay("item_order", order["id"])
    return ok(op.clerk.get(f"{API}/item-orders/{order['id']}"))


def _upload(client: httpx.Client, line_id: int, content: bytes | Iterator[bytes], filename: str | None = None,
            content_type: str = "application/octet-stream") -> httpx.Response:
    params = {"filename": filename} if filename is not None else {}
    return client.post(f"{API}/exams/{line_id}/attachments", params=params, content=content,
                       headers={"Content-Type": content_type}, timeout=60)


def test_work_list_and_results(op: Outpatient, exam: dict) -> None:
    line, treatment = exam["lines"]
    assert line["exam"]["status"] == "pending" and line["exam"]["findings"] is None
    assert treatment["exam"] is None  # no result required, none given

    pending = ok(op.reader.get(f"{API}/exams", params={"status": "pending", "q": exam["order_no"]}))
    assert [e["line_id"] for e in pending["items"]] == [line["id"]]
    shown = pending["items"][0]
    assert shown["order_no"] == exam["order_no"] and shown["item_order_id"] == exam["id"]
    assert shown["patient_name"] == exam["patient_name"] and shown["item_name"] == line["item_name"]
    assert shown["department_name"] == line["department_name"] and shown["attachments"] == []
    by_department = ok(op.reader.get(f"{API}/exams", params={"department_id": line["department_id"],
                                                             "q": exam["patient_name"]}))
    assert [e["line_id"] for e in by_department["items"]] == [line["id"]]

    url = f"{API}/exams/{line['id']}"
    error(op.reader.put(url, json={"findings": "x", "conclusion": "y"}), 403, "auth.forbidden")
    for bad in ({"findings": "", "conclusion": "正常"}, {"findings": "x" * 4001, "conclusion": "正常"},
                {"findings": "x", "conclusion": "y" * 1001}, {"findings": "x"}, {"findings": "x", "conclusion": "y",
                                                                                  "examiner_id": 1}):
        error(op.clerk.put(url, json=bad), 422, "validation.failed")
    recorded = ok(op.clerk.put(url, json={"findings": " 白细胞 6.5×10^9/L，血红蛋白 135g/L ",
                                          "conclusion": "血常规未见异常"}))
    assert recorded["status"] == "done" and recorded["findings"] == "白细胞 6.5×10^9/L，血红蛋白 135g/L"
    assert recorded["examiner_id"] == op.clerk_user["user_id"]
    assert recorded["examiner_name"] == op.clerk_user["user"]["username"] and recorded["examined_at"]
    corrected = ok(op.clerk.put(url, json={"findings": "复核无误", "conclusion": "未见异常"}))
    assert corrected["conclusion"] == "未见异常" and corrected["examined_at"] >= recorded["examined_at"]
    assert ok(op.reader.get(url)) == corrected

    done = ok(op.reader.get(f"{API}/exams", params={"status": "done", "q": exam["order_no"]}))
    assert [e["line_id"] for e in done["items"]] == [line["id"]]
    assert ok(op.reader.get(f"{API}/exams", params={"status": "pending", "q": exam["order_no"]}))["total"] == 0
    order = ok(op.reader.get(f"{API}/item-orders/{exam['id']}"))
    assert order["lines"][0]["status"] == "examined" and order["lines"][0]["exam"]["conclusion"] == "未见异常"
    events = op.events("exam.recorded", line_id=line["id"])
    assert len(events) == 2 and events[-1]["payload"]["conclusion"] == "未见异常"

    # A line that is not paid has no exam.
    registration = op.register(paid=True)
    unpaid = op.item_order(registration, [{"medical_item_id": line["medical_item_id"], "quantity": 1}])
    unpaid_line = unpaid["lines"][0]["id"]
    error(op.reader.get(f"{API}/exams/{unpaid_line}"), 404, "exam.not_found")
    body = error(op.clerk.put(f"{API}/exams/{unpaid_line}", json={"findings": "x", "conclusion": "y"}),
                 409, "exam.not_paid")
    assert body["detail"]["status"] == "unpaid"
    error(op.clerk.put(f"{API}/exams/2000000000", json={"findings": "x", "conclusion": "y"}), 404, "exam.not_found")
    error(op.reader.get(f"{API}/exams", params={"status": "started"}), 422, "validation.failed")


def test_files_are_accepted_by_their_content_and_downloaded(op: Outpatient, exam: dict) -> None:
    line_id = exam["lines"][0]["id"]
    uploaded = []
    for content, kind, name, claimed in ((PDF, "application/pdf", "血常规报告.pdf", "text/plain"),
                                         (PNG, "image/png", "../../etc/passwd", "image/jpeg"),
                                         (JPEG, "image/jpeg", None, "application/pdf")):
        attachment = ok(_upload(op.clerk, line_id, content, name, claimed), 201)
        assert attachment["content_type"] == kind and attachment["size"] == len(content)
        assert attachment["uploaded_by"] == op.clerk_user["user"]["username"]
        uploaded.append((attachment, content))
    names = [a["filename"] for a, _ in uploaded]
    assert names == ["血常规报告.pdf", "passwd", "attachment.jpg"]

    listed = ok(op.reader.get(f"{API}/exams/{line_id}/attachments"))["items"]
    assert [a["id"] for a in listed] == [a["id"] for a, _ in uploaded]
    assert [a["id"] for a in ok(op.reader.get(f"{API}/exams/{line_id}"))["attachments"]] == [a["id"] for a in listed]

    for attachment, content in uploaded:
        response = op.reader.get(f"{API}/attachments/{attachment['id']}")
        assert response.status_code == 200 and response.content == content
        assert response.headers["content-type"] == attachment["content_type"]
        assert response.headers["x-content-type-options"] == "nosniff"
    disposition = op.reader.get(f"{API}/attachments/{uploaded[0][0]['id']}").headers["content-disposition"]
    assert disposition == "inline; filename*=UTF-8''%E8%A1%80%E5%B8%B8%E8%A7%84%E6%8A%A5%E5%91%8A.pdf"

    error(op.outsider.get(f"{API}/attachments/{uploaded[0][0]['id']}"), 403, "auth.forbidden")
    error(op.outsider.get(f"{API}/exams/{line_id}/attachments"), 403, "auth.forbidden")
    error(op.reader.get(f"{API}/attachments/2000000000"), 404, "attachment.not_found")
    error(_upload(op.reader, line_id, PDF), 403, "auth.forbidden")

    # A file means the exam was done: the line is no longer refundable.
    body = error(op.clerk.post(f"{API}/item-orders/{exam['id']}/refund", json={"line_ids": [line_id]},
                               headers={"Idempotency-Key": unique()}), 409, "item.examined")
    assert body["detail"] == {"line_id": line_id}


def test_a_large_file_is_streamed_back(op: Outpatient, exam: dict) -> None:
    line_id = exam["lines"][0]["id"]
    content = PDF + bytes(range(256)) * (3 * 1024 * 1024 // 256)  # ~3 MiB, more than is read whole
    attachment = ok(_upload(op.clerk, line_id, content, "ct.pdf"), 201)
    response = op.reader.get(f"{API}/attachments/{attachment['id']}", timeout=60)
    assert response.status_code == 200 and response.content == content
    # The service announces the length (the gateway relays a body this large in chunks, without it).
    oms = next(p for p in op.platform.services if p.name == "oms" and p.alive())
    direct = httpx.get(f"{oms.url}{API}/attachments/{attachment['id']}", timeout=60,
                       headers={"Authorization": op.reader.headers["authorization"]})
    assert direct.status_code == 200 and direct.content == content
    assert int(direct.headers["content-length"]) == len(content)


def test_files_are_stored_under_generated_keys_with_their_hash(op: Outpatient, exam: dict) -> None:
    line_id = exam["lines"][0]["id"]
    attachment = ok(_upload(op.clerk, line_id, PNG, "scan.png"), 201)
    conn = mariadb(op.platform.env, database=schema(op.platform.env, "oms"))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT object_key, sha256, filename FROM exam_attachment WHERE id = %s", (attachment["id"],))
            key, digest, filename = cur.fetchone()
    finally:
        conn.close()
    assert key.startswith(f"oms/exams/{line_id}/") and "scan" not in key and len(key.rsplit("/", 1)[1]) == 36
    assert digest == hashlib.sha256(PNG).hexdigest() and filename == "scan.png"
    settings = op.settings()
    store = Minio(settings.s3_endpoint, access_key=settings.s3_access_key, secret_key=settings.s3_secret_key,
                  secure=settings.s3_secure)
    stored = store.get_object(settings.s3_bucket, key)
    try:
        assert stored.read() == PNG and stored.headers["content-type"] == "image/png"
    finally:
        stored.close()
        stored.release_conn()


@pytest.mark.parametrize("route", ["gateway", "direct"])
def test_refused_files(op: Outpatient, exam: dict, route: str) -> None:
    line_id = exam["lines"][0]["id"]
    if route == "gateway":
        client = op.clerk
    else:
        oms = next(p for p in op.platform.services if p.name == "oms" and p.alive())
        client = op.platform.client(op.clerk_user["access_token"], oms.url)
    try:
        body = error(_upload(client, line_id, b"just some text, named like a PDF", "report.pdf", "application/pdf"),
                     415, "attachment.unsupported_type")
        assert body["detail"]["accepted"] == ["application/pdf", "image/png", "image/jpeg"]
        error(_upload(client, line_id, b"GIF89a" + bytes(100), "x.gif"), 415, "attachment.unsupported_type")
        error(_upload(client, line_id, b"", "empty.pdf"), 422, "attachment.empty")
        error(_upload(client, line_id, PDF, "x" * 256), 422, "validation.failed")

        too_large = PDF + b"\0" * (LIMIT + 1 - len(PDF))
        assert len(too_large) == LIMIT + 1
        error(_upload(client, line_id, too_large, "big.pdf"), 413, "attachment.too_large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: refused when the running count passes the limit
            yield PDF
            for _ in range(21):
                yield b"\0" * (1024 * 1024)

        error(_upload(client, line_id, chunks(), "streamed.pdf"), 413, "attachment.too_large")
        exactly = PDF + b"\0" * (LIMIT - len(PDF))
        assert ok(_upload(client, line_id, exactly, "limit.pdf"), 201)["size"] == LIMIT

        registration = op.register(paid=True)
        unpaid = op.item_order(registration, [{"medical_item_id": exam["lines"][0]["medical_item_id"],
                                               "quantity": 1}])
        error(_upload(client, unpaid["lines"][0]["id"], PDF), 409, "exam.not_paid")
        error(_upload(client, 2_000_000_000, PDF), 404, "exam.not_found")
    finally:
        if client is not op.clerk:
            client.close()
    sizes = [a["size"] for a in ok(op.reader.get(f"{API}/exams/{line_id}/attachments"))["items"]]
    assert sizes == [LIMIT]


def test_first_results_of_different_orders_entered_at_once(op: Outpatient) -> None:
    """Lab staff enter the first result of different orders at the same moment: every one is saved. (Looking for
    a result row that does not exist yet with a locking read takes a gap lock on MariaDB; two such transactions
    then deadlock on their inserts.)"""
    blood = op.item("20.00")
    registration = op.register(paid=True)

    def record(line_id: int) -> httpx.Response:
        with op.platform.client(op.clerk_user["access_token"]) as client:
            return client.put(f"{API}/exams/{line_id}", json={"findings": f"第{line_id}号", "conclusion": "未见异常"})

    for _round in range(3):
        lines = []
        for _ in range(8):
            order = op.item_order(registration, [{"medical_item_id": blood["id"], "quantity": 1}])
            op.pay("item_order", order["id"])
            lines.append(order["lines"][0]["id"])
        with ThreadPoolExecutor(len(lines)) as pool:
            responses = list(pool.map(record, lines))
        assert [r.status_code for r in responses] == [200] * len(lines), [r.text for r in responses]
        for line_id in lines:
            assert ok(op.clerk.get(f"{API}/exams/{line_id}"))["findings"] == f"第{line_id}号"
