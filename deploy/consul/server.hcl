# The platform's service registry (ARCHITECTURE §6): one Consul server agent, mounted at
# /consul/config/server.hcl. Like `consul agent -dev` it bootstraps itself as a single server with the UI on, but
# it keeps its state in the consul-data volume. Services register through this agent's HTTP API
# (CONSUL_HTTP_ADDR=http://consul:8500); its HTTP port and UI are reachable only on the backend network.
node_name            = "consul-server-1"
server               = true
bootstrap_expect     = 1
client_addr          = "0.0.0.0"
# docker-compose.yml gives this container a fixed address (HAP_CONSUL_IP): a single Raft server whose address
# changes across restarts can fail to elect itself leader with its persisted peer list.
bind_addr            = "{{ GetInterfaceIP \"eth0\" }}"
disable_update_check = true
log_level            = "INFO"
log_json             = true

ui_config {
  enabled = true
}

performance {
  raft_multiplier = 1
}
