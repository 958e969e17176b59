"""What the browser tests do on a page, in the UI's own terms: elements are found by their `data-test` names
(frontend/README.md), never by text or CSS class; waits are on elements and the network, never on the clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, Response, expect

from tests.harness import ADMIN_PASSWORD, ROOT

DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1440, "height": 900}
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# The archives in menu order, as the API and the `menu-<archive>` / `grant-<archive>-<level>` names spell them.
ARCHIVES = ["outpatient", "inpatient", "statistics", "datacenter", "scheduling", "storage", "pharmacy"]
SESSION_KEY = "hap.session"
SUPER_ADMIN = ("admin", ADMIN_PASSWORD)  # the bootstrap super admin of the test platform


def tid(page: Page | Locator, name: str) -> Locator:
    """The element whose `data-test` is `name`."""
    return page.locator(f'[data-test="{name}"]')


# -- sign-in and the session -------------------------------------------------------------------------------------


def sign_in(page: Page, username: str, password: str) -> None:
    """Fills and submits the sign-in form of the page (which must be showing it)."""
    expect(tid(page, "login-form")).to_be_visible()
    tid(page, "login-username").fill(username)
    tid(page, "login-password").fill(password)
    tid(page, "login-submit").click()


def open_signed_in(page: Page, username: str, password: str, path: str = "/") -> None:
    """Opens `path` signed out, signs in on the sign-in page it leads to, and waits for the page to come back."""
    page.goto(path, wait_until="networkidle")
    sign_in(page, username, password)
    expect(tid(page, "shell")).to_be_visible()
    expect(page).to_have_url(re.compile(re.escape(path) + r"$"))


def change_password(page: Page, old: str, new: str) -> None:
    expect(tid(page, "password-form")).to_be_visible()
    tid(page, "password-old").fill(old)
    tid(page, "password-new").fill(new)
    tid(page, "password-confirm").fill(new)
    tid(page, "password-submit").click()


def sign_out(page: Page) -> None:
    tid(page, "user-menu").click()
    item = tid(page, "sign-out")
    expect(item).to_be_visible()
    item.click()


def session(page: Page) -> dict[str, Any]:
    """The UI's stored session (user, tokens) from sessionStorage."""
    value = page.evaluate(f"() => JSON.parse(sessionStorage.getItem('{SESSION_KEY}') || 'null')")
    assert value, "no session in sessionStorage"
    return value


def api_from_page(page: Page, method: str, path: str, body: Any = None) -> dict[str, Any]:
    """Calls the API from inside the page with the page's own access token (what a user could do by hand)."""
    return page.evaluate(
        """async ([key, method, path, body]) => {
            const token = JSON.parse(sessionStorage.getItem(key)).accessToken
            const response = await fetch(path, {
                method,
                headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
                body: body === null ? undefined : JSON.stringify(body),
            })
            let json = null
            try { json = await response.json() } catch (e) { json = null }
            return { status: response.status, body: json }
        }""",
        [SESSION_KEY, method, path, body],
    )


# -- navigation and forms ----------------------------------------------------------------------------------------


def go_menu(page: Page, name: str) -> None:
    """Clicks a sidebar entry (`menu-…`) and waits until the menu marks it as the current page."""
    entry = tid(page, name)
    entry.click()
    expect(entry).to_have_class(re.compile(r"\bis-active\b"))


def choose(page: Page, field: str, value: str | int) -> None:
    """Picks `value` in the select `field-<field>` (its options are `option-<field>-<value or id>`)."""
    tid(page, f"field-{field}").click()
    option = tid(page, f"option-{field}-{value}")
    expect(option).to_be_visible()
    option.click()
    expect(option).to_be_hidden()


def checked(locator: Locator) -> bool:
    """Whether a radio/checkbox-like control is on, wherever Element Plus put the `data-test` (label or input)."""
    return locator.evaluate(
        """el => {
            const input = el.matches('input') ? el : el.querySelector('input[type=radio], input[type=checkbox]')
            if (input) return input.checked
            return el.classList.contains('is-checked') || el.classList.contains('is-active')
                || el.getAttribute('aria-checked') === 'true' || el.getAttribute('aria-pressed') === 'true'
        }"""
    )


# -- language ----------------------------------------------------------------------------------------------------


def chinese_in_chrome(page: Page, exclude: list[str], data: set[str] = frozenset()) -> list[str]:
    """Visible texts (and input placeholders) containing Chinese characters, outside the elements matched by the
    selectors in `exclude` and other than the values in `data` (names and other data that are Chinese by nature)."""
    return [text for text in _chinese_texts(page, exclude) if text not in data]


def _chinese_texts(page: Page, exclude: list[str]) -> list[str]:
    return page.evaluate(
        """exclude => {
            const cjk = /[\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff]/
            const skipped = el => exclude.some(sel => el.closest(sel))
            const visible = el => {
                if (!el.getClientRects().length) return false
                const style = getComputedStyle(el)
                return style.visibility !== 'hidden' && style.display !== 'none' && style.opacity !== '0'
            }
            const found = []
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
            while (walker.nextNode()) {
                const node = walker.currentNode
                const el = node.parentElement
                if (!el || !cjk.test(node.textContent) || skipped(el) || !visible(el)) continue
                if (el.closest('script, style, noscript, template')) continue
                found.push(node.textContent.trim())
            }
            for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
                if (cjk.test(el.placeholder) && !skipped(el) && visible(el) && !el.value) found.push(el.placeholder)
            }
            return found
        }""",
        exclude,
    )


# -- screenshots -------------------------------------------------------------------------------------------------


def settle(page: Page) -> None:
    """Network idle and web fonts loaded (the screenshot itself stops animations): ready for a screenshot."""
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.fonts.ready.then(() => true)")


def doc_screenshot(page: Page, name: str) -> Path:
    """Saves the README screenshot docs/screenshots/<name>.png (1440×900 viewport), overwriting the last one."""
    page.mouse.move(VIEWPORT["width"] - 1, VIEWPORT["height"] - 1)  # no hover effect where the last click was
    sidebar = tid(page, "sidebar")
    if sidebar.count():  # clicks scroll the sidebar to the entry clicked; show it from the top
        sidebar.evaluate("el => { for (let e = el; e; e = e.parentElement) e.scrollTop = 0 }")
    settle(page)
    DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = DOC_SCREENSHOTS / f"{name}.png"
    # Passing notices ("已创建…") are hidden: they belong to the moment, not to the screen.
    page.screenshot(path=str(path), animations="disabled", caret="hide",
                    style=".el-message { visibility: hidden !important; }")
    return path


# -- selects, and the answers a page received ------------------------------------------------------------------


def pick(page: Page, select: str, option: str) -> None:
    """Opens the select `select` and clicks its option `option` (both `data-test` names); waits for it to close."""
    tid(page, select).click()
    item = tid(page, option)
    expect(item).to_be_visible()
    item.click()
    expect(item).to_be_hidden()


def answered(response: Response, status: int) -> dict[str, Any]:
    """The JSON of a response the page received, after checking its status (the body is in the message if not)."""
    assert response.status == status, f"{response.request.method} {response.url}: {response.status} {response.text()}"
    return response.json()


def api_call(method: str, path_part: str) -> Callable[[Response], bool]:
    """A predicate for `page.expect_response`: the page's `method` request whose URL contains `path_part`."""
    return lambda r: r.request.method == method and path_part in r.url


# -- ids of master data that no other test platform uses ---------------------------------------------------------
