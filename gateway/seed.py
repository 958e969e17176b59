"""Demo sign-ins for the demo hospital: two admins with different grants (their passwords are demo values)."""

from __future__ import annotations

from sqlalchemy import select

from common.db import WriteSession
from gateway.models import Grant, User
from gateway.security import hash_password

DEMO_ADMINS = [
    # username, display name, password, grants
    ("dc_editor", "数据中心管理员", "Editor#2026", {"datacenter": "write", "scheduling": "read"}),
    ("dc_viewer", "数据中心查阅员", "Viewer#2026", {"datacenter": "read"}),
    ("scheduler", "排班管理员", "Sched#2026", {"scheduling": "write"}),
    ("op_clerk", "门诊收费员", "Clerk#2026", {"outpatient": "write"}),
]


def seed_demo(session: WriteSession) -> list[str]:
    """Create the demo admins that do not exist yet; returns a line per demo login, to print."""
    lines = []
    for username, display_name, password, grants in DEMO_ADMINS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            user = User(username=username, display_name=display_name, role="admin",
                        password_hash=hash_password(password), must_change_password=False)
            session.add(user)
            session.flush()
            session.add_all(Grant(user_id=user.id, archive=a, level=lvl) for a, lvl in grants.items())
        held = ", ".join(f"{a}:{lvl}" for a, lvl in grants.items())
        lines.append(f"{username} / {password}  ({display_name}; {held})")
    return lines
