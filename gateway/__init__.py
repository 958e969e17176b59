"""Gateway 网关 — sign-in, users and grants, the audit log, and the proxy in front of the seven services."""
