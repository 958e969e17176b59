"""The registry, started as a real process (``python -m registry``), spoken to over HTTP and through py-consul.

Shapes are pinned to the JSON a Consul OSS agent returns (developer.hashicorp.com/consul/api-docs:
agent/service, health, catalog, status), without the Connect/mesh fields the registry leaves out.
Every test uses its own service names because the registry process is shared by the module.
"""

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import consul
import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

AGENT_SERVICE_KEYS = {"ID", "Service", "Tags", "Meta", "Port", "Address", "Weights", "EnableTagOverride", "Datacenter"}
NODE_KEYS = {"ID", "Node", "Address", "Datacenter", "TaggedAddresses", "Meta", "CreateIndex", "ModifyIndex"}
NODE_SERVICE_KEYS = {
    "ID",
    "Service",
    "Tags",
    "Address",
    "Meta",
    "Port",
    "Weights",
    "EnableTagOverride",
    "CreateIndex",
    "ModifyIndex",
}
CHECK_KEYS = {
    "Node",
    "CheckID",
    "Name",
    "Status",
    "Notes",
    "Output",
    "ServiceID",
    "ServiceName",
    "ServiceTags",
    "Type",
    "Interval",
    "Timeout",
    "ExposedPort",
    "Definition",
    "CreateIndex",
    "ModifyIndex",
}
CATALOG_SERVICE_KEYS = {
    "ID",
    "Node",
    "Address",
    "Datacenter",
    "TaggedAddresses",
    "NodeMeta",
    "ServiceID",
    "ServiceName",
    "ServiceTags",
    "ServiceAddress",
    "ServiceWeights",
    "ServiceMeta",
    "ServicePort",
    "ServiceEnableTagOverride",
    "CreateIndex",
    "ModifyIndex",
}

T = TypeVar("T")


# --- fixtures -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_registry(log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "registry", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"registry exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            httpx.get(f"{base_url}/v1/status/leader", trust_env=False).raise_for_status()
            return process, base_url
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    pytest.fail(f"registry did not answer within 15 s:\n{log_path.read_text()}")


def stop_registry(process: subprocess.Popen[bytes]) -> int:
    process.terminate()
    try:
        return process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, base_url = start_registry(tmp_path_factory.mktemp("registry") / "registry.log")
    yield base_url
    stop_registry(process)


@pytest.fixture(scope="module")
def api(registry_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=registry_url, trust_env=False, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def agent(registry_url: str) -> consul.Consul:
    return consul.Consul(host="127.0.0.1", port=int(registry_url.rsplit(":", 1)[1]))


class HealthServer:
    """A real HTTP server on a free port whose every GET answers ``status`` (settable while it runs)."""

    def __init__(self) -> None:
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = f"status {owner.status}".encode()
                self.send_response(owner.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}/health"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._server.server_close()  # from now on, connections are refused


@pytest.fixture
def health_server() -> Iterator[HealthServer]:
    server = HealthServer()
    yield server
    server.stop()


# --- helpers ------------------------------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_until(probe: Callable[[], T], timeout: float = 5.0) -> T:
    deadline = time.monotonic() + timeout
    while not (result := probe()):
        assert time.monotonic() < deadline, f"condition not met within {timeout} s"
        time.sleep(0.02)
    return result


def register(api: httpx.Client, body: dict[str, Any], **params: str) -> None:
    response = api.put("/v1/agent/service/register", json=body, params=params)
    assert (response.status_code, response.content) == (200, b""), response.text


def instance_ids(entries: list[dict[str, Any]]) -> set[str]:
    return {entry["Service"]["ID"] for entry in entries}


def healthy(api: httpx.Client, name: str, query: str = "passing") -> set[str]:
    return instance_ids(api.get(f"/v1/health/service/{name}?{query}").json())


def agent_check(api: httpx.Client, check_id: str) -> dict[str, Any] | None:
    check: dict[str, Any] | None = api.get("/v1/agent/checks").json().get(check_id)
    return check


def index_of(response: httpx.Response) -> int:
    return int(response.headers["X-Consul-Index"])


def assert_query_headers(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "application/json"
    assert index_of(response) >= 1
    assert response.headers["X-Consul-KnownLeader"] == "true"
    assert response.headers["X-Consul-LastContact"] == "0"


# --- shapes -------------------------------------------------------------------------------------


def test_registered_service_reads_back_in_consul_shapes(api: httpx.Client) -> None:
    name = unique("shape")
    sid = f"{name}-1"
    register(
        api,
        {
            "Name": name,
            "ID": sid,
            "Address": "127.0.0.1",
            "Port": 8080,
            "Tags": ["v1", "primary"],
            "Meta": {"version": "1.0"},
            "Check": {"TTL": "30s", "Status": "passing", "Notes": "heartbeat"},
        },
    )

    response = api.get(f"/v1/health/service/{name}")
    assert_query_headers(response)
    [entry] = response.json()
    assert set(entry) == {"Node", "Service", "Checks"}
    assert set(entry["Node"]) == NODE_KEYS
    assert (entry["Node"]["Node"], entry["Node"]["Address"], entry["Node"]["Datacenter"]) == (
        "hap-registry",
        "127.0.0.1",
        "dc1",
    )
    assert set(entry["Service"]) == NODE_SERVICE_KEYS
    assert {key: entry["Service"][key] for key in ("ID", "Service", "Tags", "Address", "Port", "Meta", "Weights")} == {
        "ID": sid,
        "Service": name,
        "Tags": ["v1", "primary"],
        "Address": "127.0.0.1",
        "Port": 8080,
        "Meta": {"version": "1.0"},
        "Weights": {"Passing": 1, "Warning": 1},
    }
    checks = {check["CheckID"]: check for check in entry["Checks"]}
    assert set(checks) == {"serfHealth", f"service:{sid}"}
    assert all(set(check) == CHECK_KEYS for check in checks.values())
    serf = checks["serfHealth"]
    assert (serf["Name"], serf["Status"], serf["ServiceID"], serf["ServiceTags"]) == (
        "Serf Health Status",
        "passing",
        "",
        [],
    )
    own = checks[f"service:{sid}"]
    assert {
        key: own[key] for key in ("Name", "Status", "Notes", "ServiceID", "ServiceName", "ServiceTags", "Type")
    } == {
        "Name": f"Service '{name}' check",
        "Status": "passing",
        "Notes": "heartbeat",
        "ServiceID": sid,
        "ServiceName": name,
        "ServiceTags": ["v1", "primary"],
        "Type": "ttl",
    }

    services = api.get("/v1/agent/services")
    assert_query_headers(services)
    assert services.json()[sid] == {
        "ID": sid,
        "Service": name,
        "Tags": ["v1", "primary"],
        "Meta": {"version": "1.0"},
        "Port": 8080,
        "Address": "127.0.0.1",
        "Weights": {"Passing": 1, "Warning": 1},
        "EnableTagOverride": False,
        "Datacenter": "dc1",
    }
    one = api.get(f"/v1/agent/service/{sid}")
    assert set(one.json()) == AGENT_SERVICE_KEYS | {"ContentHash"}
    assert one.headers["X-Consul-ContentHash"] == one.json()["ContentHash"]

    checks_response = api.get("/v1/agent/checks")
    assert_query_headers(checks_response)
    assert set(checks_response.json()[f"service:{sid}"]) == CHECK_KEYS
    assert "serfHealth" not in checks_response.json()  # a node check, not one of the agent's own

    [catalog_entry] = api.get(f"/v1/catalog/service/{name}").json()
    assert set(catalog_entry) == CATALOG_SERVICE_KEYS
    assert (catalog_entry["ServiceID"], catalog_entry["ServiceName"], catalog_entry["ServicePort"]) == (sid, name, 8080)
    catalog_services = api.get("/v1/catalog/services")
    assert_query_headers(catalog_services)
    assert catalog_services.json()[name] == ["primary", "v1"]
    nodes = api.get("/v1/catalog/nodes")
    assert_query_headers(nodes)
    assert [set(node) for node in nodes.json()] == [NODE_KEYS]

    assert api.get("/v1/status/leader").json() == "127.0.0.1:8300"
    config = api.get("/v1/agent/self").json()["Config"]
    assert (config["Datacenter"], config["NodeName"]) == ("dc1", "hap-registry")


def test_check_ids_default_status_and_key_spellings(api: httpx.Client) -> None:
    # Lower-case and snake_case keys, as py-consul and Consul config files send them.
    name = unique("ids")
    register(
        api,
        {
            "name": name,
            "id": f"{name}-1",
            "enable_tag_override": True,
            "checks": [
                {"ttl": "30s"},
                {"TTL": "30s", "status": "warning"},
                {"CheckID": "custom", "Name": "Mine", "TTL": "30s"},
            ],
        },
    )
    checks = api.get("/v1/agent/checks").json()
    assert {
        cid: (checks[cid]["Name"], checks[cid]["Status"]) for cid in checks if f"{name}-1" in cid or cid == "custom"
    } == {
        f"service:{name}-1:1": (f"Service '{name}' check", "critical"),  # critical until proven otherwise
        f"service:{name}-1:2": (f"Service '{name}' check", "warning"),
        "custom": ("Mine", "critical"),
    }
    assert api.get(f"/v1/agent/service/{name}-1").json()["EnableTagOverride"] is True

    bare = unique("bare")  # the ID defaults to the name
    register(api, {"Name": bare, "Check": {"TTL": "30s"}})
    assert api.get("/v1/agent/services").json()[bare]["ID"] == bare
    assert agent_check(api, f"service:{bare}") is not None


def test_reregistration_keeps_check_results_and_replace_existing_checks_prunes(api: httpx.Client) -> None:
    name = unique("replace")
    sid = f"{name}-1"
    first, second = {"CheckID": f"{sid}-a", "TTL": "30s"}, {"CheckID": f"{sid}-b", "TTL": "30s"}
    register(api, {"Name": name, "ID": sid, "Checks": [first, second]})
    assert api.put(f"/v1/agent/check/pass/{sid}-a", params={"note": "ok"}).status_code == 200

    register(api, {"Name": name, "ID": sid, "Checks": [first]})
    assert agent_check(api, f"{sid}-b") is not None  # kept without ?replace-existing-checks
    kept = agent_check(api, f"{sid}-a")
    assert kept is not None and (kept["Status"], kept["Output"]) == ("passing", "ok")

    register(api, {"Name": name, "ID": sid, "Checks": [first]}, **{"replace-existing-checks": "true"})
    assert agent_check(api, f"{sid}-b") is None
    assert healthy(api, name) == {sid}


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/v1/agent/service/register", b"{not json", "Request decode failed: "),
        ("/v1/agent/service/register", b"", "Request decode failed: EOF"),
        ("/v1/agent/service/register", {"Port": 80}, "Missing service name"),
        ("/v1/agent/service/register", {"Name": "bad", "Port": "80"}, "Request decode failed: "),
        ("/v1/agent/service/register", {"Name": "bad", "Address": "0.0.0.0"}, "Invalid service address"),
        (
            "/v1/agent/service/register",
            {"Name": "bad", "Check": {"HTTP": "http://127.0.0.1:9/"}},
            "Invalid check: Interval must be > 0",
        ),
        (
            "/v1/agent/service/register",
            {"Name": "bad", "Check": {"HTTP": "http://127.0.0.1:9/", "Interval": "1s", "TTL": "1s"}},
            "Invalid check: Interval and TTL cannot both be specified",
        ),
        (
            "/v1/agent/service/register",
            {"Name": "bad", "Check": {"TCP": "127.0.0.1:9", "Interval": "1s"}},
            "Invalid check: ",
        ),
        (
            "/v1/agent/service/register",
            {"Name": "bad", "Check": {"TTL": "soon"}},
            'Request decode failed: time: invalid duration "soon"',
        ),
        (
            "/v1/agent/service/register",
            {"Name": "bad", "Check": {"TTL": "1s", "Status": "fine"}},
            "Status for checks must 'passing', 'warning', 'critical'",
        ),
        ("/v1/agent/check/update/anything", {"Status": "fine"}, "Invalid check status: 'fine'"),
    ],
)
def test_bad_bodies_are_plain_text_400(api: httpx.Client, path: str, body: bytes | dict[str, Any], reason: str) -> None:
    response = api.put(path, content=body if isinstance(body, bytes) else json.dumps(body))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith(reason), response.text
    assert "bad" not in api.get("/v1/agent/services").json()


@pytest.mark.parametrize(
    ("method", "url", "reason"),
    [
        ("GET", "/v1/health/service/x?index=1&wait=soon", "Invalid wait time"),
        ("GET", "/v1/catalog/services?index=-1", "Invalid index"),
        ("GET", "/v1/health/service/x?passing=maybe", "Invalid value for ?passing"),
        ("PUT", "/v1/agent/service/maintenance/x", "Missing value for enable"),
        ("PUT", "/v1/agent/service/maintenance/x?enable=perhaps", 'Invalid value for enable: "perhaps"'),
    ],
)
def test_bad_query_parameters_are_plain_text_400(api: httpx.Client, method: str, url: str, reason: str) -> None:
    response = api.request(method, url)
    assert (response.status_code, response.text) == (400, reason)


def test_unknown_checks_and_services_are_404(api: httpx.Client, agent: consul.Consul) -> None:
    unknown_check = 'Unknown check ID "no-such-check". Ensure that the check ID is passed, not the check name.'
    for verb in ("pass", "warn", "fail"):
        response = api.put(f"/v1/agent/check/{verb}/no-such-check", params={"note": "x"})
        assert (response.status_code, response.text) == (404, unknown_check)
        assert response.headers["content-type"].startswith("text/plain")
    response = api.put("/v1/agent/check/update/no-such-check", json={"Status": "passing"})
    assert (response.status_code, response.text) == (404, unknown_check)

    unknown_service = (
        'Unknown service ID "no-such-service". Ensure that the service ID is passed, not the service name.'
    )
    response = api.put("/v1/agent/service/deregister/no-such-service")
    assert (response.status_code, response.text) == (404, unknown_service)
    response = api.put("/v1/agent/service/maintenance/no-such-service", params={"enable": "true"})
    assert (response.status_code, response.text) == (404, unknown_service)
    response = api.get("/v1/agent/service/no-such-service")
    assert (response.status_code, response.text) == (404, "unknown service ID: no-such-service")

    # py-consul turns these 404s into False / None rather than raising.
    assert agent.agent.check.ttl_pass("no-such-check") is False
    assert agent.agent.service.deregister("no-such-service") is False
    assert agent.agent.service_definition("no-such-service") is None

    # Only TTL checks take pushed results; Consul answers 500 for any other check.
    name = unique("not-ttl")
    register(api, {"Name": name, "Check": {"HTTP": "http://127.0.0.1:9/", "Interval": "10s"}})
    response = api.put(f"/v1/agent/check/pass/service:{name}")
    assert (response.status_code, response.text) == (500, f'CheckID "service:{name}" does not have associated TTL')


# --- py-consul --------------------------------------------------------------------------------------


def test_py_consul_registers_discovers_and_deregisters(agent: consul.Consul, health_server: HealthServer) -> None:
    name = unique("pyconsul")
    web1, web2 = f"{name}-1", f"{name}-2"
    assert agent.agent.service.register(
        name,
        service_id=web1,
        address="127.0.0.1",
        port=health_server.port,
        tags=["http"],
        meta={"zone": "a"},
        check=consul.Check.http(health_server.url, interval="200ms", timeout="1s"),
    )
    assert agent.agent.service.register(
        name,
        service_id=web2,
        address="127.0.0.1",
        port=9,
        tags=["ttl"],
        check=consul.Check.ttl("10s"),
    )
    # The HTTP check passes by itself; the TTL check is critical until its first heartbeat.
    wait_until(lambda: instance_ids(agent.health.service(name, passing=True)[1]) == {web1})
    assert agent.agent.check.ttl_pass(f"service:{web2}", "ready")

    _, entries = agent.health.service(name, passing=True)
    assert instance_ids(entries) == {web1, web2}
    checks = {check["CheckID"]: check for entry in entries for check in entry["Checks"]}
    assert checks[f"service:{web2}"]["Output"] == "ready"
    assert checks[f"service:{web1}"]["Type"] == "http"
    assert agent.catalog.services()[1][name] == ["http", "ttl"]
    services = agent.agent.services()
    assert {web1, web2} <= set(services)
    assert services[web1]["Meta"] == {"zone": "a"}
    assert agent.agent.self()["Config"]["NodeName"] == "hap-registry"
    assert agent.status.leader() == "127.0.0.1:8300"

    assert agent.agent.service.deregister(web1)
    assert instance_ids(agent.health.service(name)[1]) == {web2}
    assert agent.agent.service.deregister(web2)
    assert name not in agent.catalog.services()[1]
    assert agent.health.service(name)[1] == []


def test_py_consul_blocking_query_returns_early_on_change_and_holds_otherwise(
    agent: consul.Consul, api: httpx.Client, registry_url: str
) -> None:
    name = unique("block")
    register(api, {"Name": name, "ID": f"{name}-1", "Check": {"TTL": "30s", "Status": "passing"}})
    index, entries = agent.health.service(name, passing=True)
    assert instance_ids(entries) == {f"{name}-1"}

    def register_later(body: dict[str, Any], delay: float) -> threading.Timer:
        def put() -> None:
            httpx.put(f"{registry_url}/v1/agent/service/register", json=body, trust_env=False)

        timer = threading.Timer(delay, put)
        timer.start()
        return timer

    started = time.monotonic()
    register_later({"Name": name, "ID": f"{name}-2", "Check": {"TTL": "30s", "Status": "passing"}}, 0.3)
    new_index, entries = agent.health.service(name, index=index, wait="5s", passing=True)
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 2.0, elapsed  # woke on the registration, well before the 5 s wait
    assert int(new_index) > int(index)
    assert instance_ids(entries) == {f"{name}-1", f"{name}-2"}

    # A change to another service does not wake it: it holds for the whole wait (plus up to wait/16).
    started = time.monotonic()
    timer = register_later({"Name": unique("other"), "Check": {"TTL": "30s"}}, 0.2)
    same_index, _ = agent.health.service(name, index=new_index, wait="1s")
    elapsed = time.monotonic() - started
    timer.join()
    assert 1.0 <= elapsed < 1.6, elapsed
    assert same_index == new_index


def test_indexes_never_go_backwards(api: httpx.Client) -> None:
    name = unique("index")
    seen = [index_of(api.get(f"/v1/health/service/{name}"))]
    register(api, {"Name": name, "Check": {"TTL": "30s"}})
    seen.append(index_of(api.get(f"/v1/health/service/{name}")))
    assert api.put(f"/v1/agent/check/pass/service:{name}").status_code == 200
    seen.append(index_of(api.get(f"/v1/health/service/{name}")))
    assert api.put(f"/v1/agent/service/deregister/{name}").status_code == 200
    response = api.get(f"/v1/health/service/{name}")
    seen.append(index_of(response))
    assert response.json() == []
    assert seen == sorted(seen) and len(set(seen)) == len(seen), seen


# --- checks -------------------------------------------------------------------------------------


def test_ttl_check_expires_to_critical_and_wakes_blocking_queries(api: httpx.Client) -> None:
    name = unique("ttl")
    sid, check_id = f"{name}-1", f"service:{name}-1"
    register(api, {"Name": name, "ID": sid, "Check": {"TTL": "1s"}})
    assert healthy(api, name) == set()

    assert api.put(f"/v1/agent/check/pass/{check_id}", params={"note": "alive"}).status_code == 200
    response = api.get(f"/v1/health/service/{name}?passing")
    assert instance_ids(response.json()) == {sid}
    time.sleep(0.6)
    # A heartbeat re-arms the TTL; one that changes nothing but the note does not move the index
    # (so it wakes no watcher).
    assert api.put(f"/v1/agent/check/pass/{check_id}", params={"note": "still alive"}).status_code == 200
    passed_at = time.monotonic()
    assert index_of(api.get(f"/v1/health/service/{name}")) == index_of(response)

    expired = api.get(f"/v1/health/service/{name}", params={"index": index_of(response), "wait": "5s"})
    elapsed = time.monotonic() - passed_at
    assert 0.8 <= elapsed < 2.0, elapsed  # a full TTL after the last heartbeat, well before the 5 s wait
    assert index_of(expired) > index_of(response)
    [check] = [check for check in expired.json()[0]["Checks"] if check["CheckID"] == check_id]
    assert check["Status"] == "critical"
    assert check["Output"].startswith("TTL expired") and "still alive" in check["Output"]
    assert healthy(api, name) == set()

    assert (
        api.put(f"/v1/agent/check/update/{check_id}", json={"Status": "warning", "Output": "slow"}).status_code == 200
    )
    warned = agent_check(api, check_id)
    assert warned is not None and (warned["Status"], warned["Output"]) == ("warning", "slow")
    assert healthy(api, name) == set()  # ?passing excludes warning too, as Consul does
    assert api.put(f"/v1/agent/check/pass/{check_id}").status_code == 200
    assert healthy(api, name) == {sid}


def test_http_check_follows_the_server_and_critical_instances_are_dropped(
    api: httpx.Client, health_server: HealthServer
) -> None:
    name = unique("http")
    sid, check_id = f"{name}-1", f"service:{name}-1"
    register(
        api,
        {
            "Name": name,
            "ID": sid,
            "Address": "127.0.0.1",
            "Port": health_server.port,
            "Check": {
                "HTTP": health_server.url,
                "Interval": "200ms",
                "Timeout": "1s",
                "DeregisterCriticalServiceAfter": "1s",
            },
        },
    )

    def status() -> str | None:
        check = agent_check(api, check_id)
        return check["Status"] if check else None

    wait_until(lambda: status() == "passing")
    check = agent_check(api, check_id)
    assert check is not None
    assert (check["Type"], check["Interval"], check["Timeout"]) == ("http", "200ms", "1s")
    assert check["Output"] == f"HTTP GET {health_server.url}: 200 OK Output: status 200"
    assert healthy(api, name) == {sid}

    health_server.status = 429
    wait_until(lambda: status() == "warning")
    assert healthy(api, name) == set()
    assert healthy(api, name, query="") == {sid}

    health_server.stop()
    wait_until(lambda: status() == "critical")
    critical_at = time.monotonic()
    check = agent_check(api, check_id)
    assert check is not None and health_server.url in check["Output"]
    assert sid in api.get("/v1/agent/services").json()  # not dropped the moment it turns critical

    wait_until(lambda: sid not in api.get("/v1/agent/services").json(), timeout=4)
    assert 0.7 <= time.monotonic() - critical_at < 2.5
    assert api.get(f"/v1/health/service/{name}").json() == []
    assert agent_check(api, check_id) is None


def test_maintenance_mode_takes_an_instance_out_of_passing_results(api: httpx.Client, agent: consul.Consul) -> None:
    name = unique("maint")
    sid, maintenance_id = f"{name}-1", f"_service_maintenance:{name}-1"
    register(api, {"Name": name, "ID": sid, "Check": {"TTL": "30s", "Status": "passing"}})
    assert healthy(api, name) == {sid}

    assert agent.agent.service.maintenance(sid, True, "upgrading")  # py-consul sends enable=True
    check = agent_check(api, maintenance_id)
    assert check is not None
    assert {key: check[key] for key in ("Name", "Status", "Notes", "ServiceID", "Type")} == {
        "Name": "Service Maintenance Mode",
        "Status": "critical",
        "Notes": "upgrading",
        "ServiceID": sid,
        "Type": "maintenance",
    }
    assert healthy(api, name) == set()
    assert healthy(api, name, query="") == {sid}  # still registered, just not passing

    assert agent.agent.service.maintenance(sid, False)
    assert agent_check(api, maintenance_id) is None
    assert healthy(api, name) == {sid}

    assert api.put(f"/v1/agent/service/maintenance/{sid}", params={"enable": "true"}).status_code == 200
    check = agent_check(api, maintenance_id)
    assert check is not None and check["Notes"].startswith("Maintenance mode is enabled for this service")


def test_passing_flag_and_tag_filter(api: httpx.Client) -> None:
    name = unique("filter")
    blue, green, down = f"{name}-blue", f"{name}-green", f"{name}-down"
    register(api, {"Name": name, "ID": blue, "Tags": ["blue", "v1"], "Check": {"TTL": "30s", "Status": "passing"}})
    register(api, {"Name": name, "ID": green, "Tags": ["green"], "Check": {"TTL": "30s", "Status": "passing"}})
    register(api, {"Name": name, "ID": down, "Tags": ["Blue"], "Check": {"TTL": "30s"}})

    assert healthy(api, name, "passing") == {blue, green}
    assert healthy(api, name, "passing=1") == {blue, green}  # what py-consul sends
    assert healthy(api, name, "passing=false") == {blue, green, down}
    assert healthy(api, name, "tag=blue") == {blue, down}  # tags match case-insensitively
    assert healthy(api, name, "tag=blue&tag=v1") == {blue}
    assert healthy(api, name, "tag=blue&passing") == {blue}
    assert [entry["ServiceID"] for entry in api.get(f"/v1/catalog/service/{name}?tag=green").json()] == [green]


# --- process ------------------------------------------------------------------------------------


def test_sigterm_answers_held_blocking_queries_and_stops_promptly(tmp_path: Path) -> None:
    log_path = tmp_path / "registry.log"
    process, base_url = start_registry(log_path)
    index = index_of(httpx.get(f"{base_url}/v1/catalog/services", trust_env=False))
    answers: list[httpx.Response] = []
    watcher = threading.Thread(
        target=lambda: answers.append(
            httpx.get(f"{base_url}/v1/catalog/services?index={index}&wait=60s", trust_env=False, timeout=70)
        )
    )
    watcher.start()
    time.sleep(0.3)  # let the query reach the registry and block

    started = time.monotonic()
    returncode = stop_registry(process)  # SIGTERM
    watcher.join(timeout=5)
    assert time.monotonic() - started < 3
    # The watcher got an answer (unchanged index), not a dropped connection.
    assert [(answer.status_code, index_of(answer)) for answer in answers] == [(200, index)]
    assert returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it stopped on
    assert "ERROR" not in log_path.read_text()


def test_a_restarted_registry_hands_out_higher_indexes(tmp_path: Path) -> None:
    # State is in memory, so after a restart services re-register; their watchers still hold the
    # old run's index and must see the new run's changes as newer.
    body = {"Name": "restarted", "Check": {"TTL": "30s"}}
    indexes = []
    for run in ("first", "second"):
        process, base_url = start_registry(tmp_path / f"{run}.log")
        httpx.put(f"{base_url}/v1/agent/service/register", json=body, trust_env=False).raise_for_status()
        indexes.append(index_of(httpx.get(f"{base_url}/v1/health/service/restarted", trust_env=False)))
        stop_registry(process)
    assert indexes[1] > indexes[0]
