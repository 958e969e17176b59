"""The seven archives (the permission scopes), the service that owns each, and its gateway prefix
(ARCHITECTURE §1). Everything that lists archives or services derives from this one table."""

from __future__ import annotations

ARCHIVE_SERVICES: dict[str, str] = {
    "outpatient": "oms",  # 门诊管理
    "inpatient": "hms",  # 住院管理
    "statistics": "tms",  # 统计管理
    "datacenter": "dbs",  # 数据中心
    "scheduling": "dms",  # 排班管理
    "storage": "sms",  # 仓库管理
    "pharmacy": "pms",  # 药房管理
}
ARCHIVES = tuple(ARCHIVE_SERVICES)
SERVICE_NAMES = tuple(ARCHIVE_SERVICES.values())


def gateway_prefix(archive: str) -> str:
    return f"/api/{archive}"
