"""Consul's JSON shapes (PascalCase keys) for the catalog's node, services and checks.

The key sets are those a Consul OSS agent returns (``api.AgentService``, ``structs.Node``,
``structs.NodeService``, ``structs.HealthCheck``, ``structs.ServiceNode``) minus the Connect/mesh
fields (Kind, Proxy, Connect, TaggedAddresses of services) that this stand-in does not implement
and that Consul omits or leaves empty for plain services. Tags and Meta are always a list and a
map, never null, so clients need not special-case a service registered without them.
"""

import hashlib
import json
from typing import Any

from registry.duration import format_duration
from registry.state import Check, Node, Service


def agent_service(service: Service, datacenter: str) -> dict[str, Any]:
    """An entry of ``GET /v1/agent/services``."""
    return {
        "ID": service.id,
        "Service": service.name,
        "Tags": list(service.tags),
        "Meta": dict(service.meta),
        "Port": service.port,
        "Address": service.address,
        "Weights": dict(service.weights),
        "EnableTagOverride": service.enable_tag_override,
        "Datacenter": datacenter,
    }


def agent_service_with_hash(service: Service, datacenter: str) -> dict[str, Any]:
    """``GET /v1/agent/service/:id``: the agent service plus the ContentHash of hash-based blocking."""
    body = agent_service(service, datacenter)
    body["ContentHash"] = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    return body


def node(node: Node) -> dict[str, Any]:
    """``structs.Node``, as in ``GET /v1/catalog/nodes`` and the Node of health entries."""
    return {
        "ID": node.id,
        "Node": node.name,
        "Address": node.address,
        "Datacenter": node.datacenter,
        "TaggedAddresses": _tagged_addresses(node),
        "Meta": {"consul-network-segment": ""},
        "CreateIndex": 1,
        "ModifyIndex": 1,
    }


def node_service(service: Service) -> dict[str, Any]:
    """``structs.NodeService``, the Service of a ``GET /v1/health/service/:service`` entry."""
    return {
        "ID": service.id,
        "Service": service.name,
        "Tags": list(service.tags),
        "Address": service.address,
        "Meta": dict(service.meta),
        "Port": service.port,
        "Weights": dict(service.weights),
        "EnableTagOverride": service.enable_tag_override,
        "CreateIndex": service.create_index,
        "ModifyIndex": service.modify_index,
    }


def health_check(check: Check, node_name: str, service_tags: list[str]) -> dict[str, Any]:
    """``structs.HealthCheck``, in ``GET /v1/agent/checks`` and the Checks of health entries."""
    definition = check.definition
    return {
        "Node": node_name,
        "CheckID": check.check_id,
        "Name": check.name,
        "Status": check.status,
        "Notes": check.notes,
        "Output": check.output,
        "ServiceID": check.service_id,
        "ServiceName": check.service_name,
        "ServiceTags": list(service_tags),
        "Type": check.type,
        # Consul prints these with Go's Duration.String, and "" where the check has none.
        "Interval": format_duration(definition.interval) if definition and definition.interval else "",
        "Timeout": format_duration(definition.timeout) if definition and definition.timeout else "",
        "ExposedPort": 0,
        "Definition": {},
        "CreateIndex": check.create_index,
        "ModifyIndex": check.modify_index,
    }


def catalog_service(service: Service, node: Node) -> dict[str, Any]:
    """``structs.ServiceNode``, an entry of ``GET /v1/catalog/service/:service``."""
    return {
        "ID": node.id,
        "Node": node.name,
        "Address": node.address,
        "Datacenter": node.datacenter,
        "TaggedAddresses": _tagged_addresses(node),
        "NodeMeta": {"consul-network-segment": ""},
        "ServiceID": service.id,
        "ServiceName": service.name,
        "ServiceTags": list(service.tags),
        "ServiceAddress": service.address,
        "ServiceWeights": dict(service.weights),
        "ServiceMeta": dict(service.meta),
        "ServicePort": service.port,
        "ServiceEnableTagOverride": service.enable_tag_override,
        "CreateIndex": service.create_index,
        "ModifyIndex": service.modify_index,
    }


def _tagged_addresses(node: Node) -> dict[str, str]:
    return {"lan": node.address, "lan_ipv4": node.address, "wan": node.address, "wan_ipv4": node.address}
