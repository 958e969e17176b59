"""Fixtures of the browser tests.

- One Playwright and one headless Chromium for the whole browser package: Debian's /usr/bin/chromium, never a
  downloaded browser.
- One fresh browser context (cookies, storage, language) per signed-in person in a test: `ui.page()`; the `page`
  fixture is the first one. Contexts are 1440×900, zh-CN, Asia/Shanghai, and open the gateway of the session's
  real platform (tests/conftest.py), which serves the built UI (frontend/dist) at `/`.
- On failure, every page of the test is saved to tests/artifacts/screenshots/<test>[-n].png, with the page's URL
  and browser console errors in a .txt beside it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.harness import ARTIFACTS, Platform

from .ui import VIEWPORT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FAILURE_SCREENSHOTS = ARTIFACTS / "screenshots"
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        p.selectors.set_test_id_attribute("data-test")
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


class Pages:
    """The browser contexts of one test: one per person signed in (they never share storage)."""

    def __init__(self, browser: Browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []
        self.pages: list[Page] = []
        self.console: dict[int, list[str]] = {}

    def page(self) -> Page:
        context = self.browser.new_context(base_url=self.base_url, viewport=VIEWPORT, locale="zh-CN",
                                           timezone_id="Asia/Shanghai", device_scale_factor=1)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(15_000)
        page = context.new_page()
        log = self.console.setdefault(id(page), [])
        page.on("console", lambda m: log.append(f"console.{m.type}: {m.text}") if m.type in ("error", "warning")
                else None)
        page.on("pageerror", lambda e: log.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: log.append(f"requestfailed: {r.method} {r.url} {r.failure}"))
        self.contexts.append(context)
        self.pages.append(page)
        return page

    def save_failure(self, test_name: str) -> list[str]:
        FAILURE_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        base = _stem(test_name)
        saved = []
        for n, page in enumerate(self.pages, start=1):
            stem = base if n == 1 else f"{base}-{n}"
            try:
                page.screenshot(path=str(FAILURE_SCREENSHOTS / f"{stem}.png"), full_page=True)
                saved.append(str(FAILURE_SCREENSHOTS / f"{stem}.png"))
            except Exception as exc:  # a crashed page: say so, keep the other pages
                saved.append(f"{stem}.png not saved: {exc}")
            try:
                url = page.url
            except Exception:
                url = "?"
            (FAILURE_SCREENSHOTS / f"{stem}.txt").write_text(
                f"url: {url}\n" + "\n".join(self.console.get(id(page), [])) + "\n", encoding="utf-8")
        return saved

    def close(self) -> None:
        for context in self.contexts:
            with contextlib.suppress(Exception):  # already gone with the browser
                context.close()


PAGES = pytest.StashKey[Pages]()


def _stem(test_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)


@pytest.fixture
def ui(browser: Browser, platform: Platform, request: pytest.FixtureRequest) -> Iterator[Pages]:
    stem = _stem(request.node.name)
    for old in [*FAILURE_SCREENSHOTS.glob(f"{stem}.*"), *FAILURE_SCREENSHOTS.glob(f"{stem}-*")]:
        old.unlink()  # what a failure leaves is from the last run only
    pages = Pages(browser, platform.gateway.url)
    request.node.stash[PAGES] = pages
    try:
        yield pages
    finally:
        pages.close()


@pytest.fixture
def page(ui: Pages) -> Page:
    return ui.page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if report.failed and report.when in ("setup", "call"):
        pages = item.stash.get(PAGES, None)
        if pages is not None and pages.pages:
            saved = pages.save_failure(item.name)
            report.sections.append(("browser screenshots", "\n".join(saved)))
    return report


# -- arranging data through the API (what a test is not about) -----------------------------------------------------


@pytest.fixture(scope="package")
def admin_api(platform: Platform) -> Iterator[httpx.Client]:
    """The API as the super admin, for arranging and checking what the browser does."""
    with platform.client(platform.admin_token()) as client:
        yield client


@pytest.fixture(scope="package")
def story() -> dict[str, Any]:
    """What one browser test leaves for a later one (the acceptance is one story: the admin created in the users
    page signs in next, and the audit page shows what they did). A later test arranges it through the API when the
    earlier one did not get that far, so each test still tests its own part."""
    return {}


def _ensure(client: httpx.Client, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    created = client.post(f"/api/datacenter/{namespace}", json=body)
    if created.status_code == 201:
        return created.json()
    assert created.status_code == 409, created.text  # already there (the fixture ran before in this platform)
    found = client.get(f"/api/datacenter/{namespace}", params={"q": body["code"], "size": 100}).json()["items"]
    return next(row for row in found if row["code"] == body["code"])


@pytest.fixture(scope="package")
def hospital(admin_api: httpx.Client) -> dict[str, dict[str, Any]]:
    """A few departments, registration types and doctors, so that lists have rows (the test platform starts empty).
    Keyed by code."""
    rows: dict[str, dict[str, Any]] = {}
    for code, name, kind in [("NK", "内科", "clinical"), ("WK", "外科", "clinical"), ("EK", "儿科", "clinical"),
                             ("FCK", "妇产科", "clinical"), ("JYK", "检验科", "medical_technical"),
                             ("CWK", "财务科", "administrative")]:
        rows[code] = _ensure(admin_api, "departments", {"code": code, "name": name, "kind": kind})
    for code, name, fee in [("PT", "普通号", "10.00"), ("ZJ", "专家号", "30.00")]:
        rows[code] = _ensure(admin_api, "registration-types", {"code": code, "name": name, "fee": fee})
    for code, name, gender, dept, title, reg, practice in [
        ("D001", "张建国", "male", "NK", "chief", "ZJ", "outpatient"),
        ("D002", "李秀英", "female", "NK", "attending", "PT", "outpatient"),
        ("D003", "刘伟", "male", "WK", "associate_chief", "ZJ", "outpatient"),
        ("D004", "陈静", "female", "WK", "attending", "PT", "inpatient"),
        ("D005", "杨帆", "male", "EK", "chief", "ZJ", "outpatient"),
        ("D006", "黄丽华", "female", "FCK", "associate_chief", "ZJ", "outpatient"),
    ]:
        rows[code] = _ensure(admin_api, "doctors", {
            "code": code, "name": name, "gender": gender, "department_id": rows[dept]["id"], "title": title,
            "registration_type_id": rows[reg]["id"], "practice": practice})
    return rows
