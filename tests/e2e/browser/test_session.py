"""Sign-in and sign-out: a deep link survives sign-in, a wrong password is explained, sign-out ends the session."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.harness import Platform

from .ui import SUPER_ADMIN, session, sign_in, sign_out, tid


def _login_for(path: str) -> re.Pattern[str]:
    """The sign-in page's URL that brings the user back to `path` (slashes encoded or not)."""
    return re.compile(r"/login\?redirect=" + re.escape(path).replace("/", "(?:/|%2F)") + "$")


def test_deep_link_goes_to_sign_in_and_comes_back(page: Page) -> None:
    page.goto("/datacenter/drugs", wait_until="networkidle")
    expect(page).to_have_url(_login_for("/datacenter/drugs"))
    expect(tid(page, "login-form")).to_be_visible()
    expect(tid(page, "page-title")).to_have_text("账号登录")

    sign_in(page, *SUPER_ADMIN)
    expect(page).to_have_url(re.compile(r"/datacenter/drugs$"))
    expect(tid(page, "page-title")).to_have_text("药品")
    expect(tid(page, "catalogue-drugs")).to_be_visible()
    expect(tid(page, "breadcrumbs")).to_have_text(re.compile(r"首页\s*/\s*数据中心\s*/\s*药品"))
    expect(tid(page, "menu-datacenter-drugs")).to_have_class(re.compile(r"\bis-active\b"))


def test_wrong_password_is_explained(page: Page) -> None:
    page.goto("/login", wait_until="networkidle")
    sign_in(page, SUPER_ADMIN[0], "Not-the-password-1")
    error = tid(page, "login-error")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("data-code", "auth.invalid_credentials")
    expect(error).to_contain_text("用户名或密码错误")
    expect(tid(page, "login-password")).to_have_value("")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_sign_out_returns_to_sign_in_and_ends_the_session(page: Page, platform: Platform) -> None:
    page.goto("/", wait_until="networkidle")
    sign_in(page, *SUPER_ADMIN)
    expect(tid(page, "home")).to_be_visible()
    expect(tid(page, "user-name")).to_have_text("超级管理员")
    token = session(page)["accessToken"]

    sign_out(page)
    expect(page).to_have_url(re.compile(r"/login\?reason=signout$"))
    expect(tid(page, "login-notice")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('hap.session')") is None
    me = httpx.get(f"{platform.gateway.url}/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401, me.text  # revoked on the server, not only forgotten here

    page.goto("/datacenter/departments", wait_until="networkidle")
    expect(page).to_have_url(_login_for("/datacenter/departments"))
