"""Make the README's screenshots of the workbench page: `.venv/bin/python docs/screenshots.py`.

A fresh mock is served, a few requests are made (some under injected faults), and headless
Chromium (Debian's, driven by Playwright) takes the home page and the journal with a request open.
"""

from __future__ import annotations

import sys
from pathlib import Path
from tempfile import TemporaryDirectory

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from mock_support import P, ServedMock, bearer  # noqa: E402
from test_workbench_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def main() -> None:
    with TemporaryDirectory() as scratch, ServedMock(Path(scratch) / "screens.sqlite3") as mock:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1050})
            page.goto(mock.base_url + "/")
            expect(page.locator("#operations-insights-insights_list")).to_be_attached()
            with mock.client(headers=bearer()) as client:
                client.post("/_mock/faults", json={"match": {"operation_id": "insights_trending_retrieve"},
                                                   "effect": {"status": 503}, "times": 2})
                client.post("/_mock/faults", json={"match": {"method": "PATCH"}, "effect": {"latency": "200-400"}})
                client.get(f"{P}/insights/", params={"limit": 10, "saved": "true"})
                client.get(f"{P}/insights/trending/")
                client.patch(f"{P}/insights/2/", json={"name": "Daily active users (web)"})
                client.post(f"{P}/insights/", json={"name": "No query"})
                client.get(f"{P}/insights/2/")
            expect(page.locator("#journal-table tbody tr", has_text="/insights/2/")).to_have_count(2)
            page.screenshot(path=str(HERE / "workbench-home.png"))
            page.locator("#journal-table tbody tr", has_text="PATCH").click()
            expect(page.locator("#journal-detail .response-body")).to_contain_text("Daily active users (web)")
            page.locator("#journal").screenshot(path=str(HERE / "workbench-journal.png"))
            browser.close()


if __name__ == "__main__":
    main()
