"""Service registry 服务注册中心 — the embedded stand-in for a Consul agent."""
