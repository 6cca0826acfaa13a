"""The workbench in a real browser (issue 14): headless Chromium (Debian's, driven by Playwright)
loads the page from a freshly served mock, and a page of another localhost origin calls the mock
with `fetch(..., {credentials: "include"})`, so CORS is exercised for real.

Without Chromium these tests fail in CI (`CI=true`, where .ci/run installs it) and are skipped
elsewhere with a reason that says so loudly.
"""

from __future__ import annotations

import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import httpx
import pytest

from mock_support import ALL_ACCESS, P, ServedMock, bearer
from mockserver import seed

CHROMIUM = os.environ.get("POSTHOG_MOCK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# The flags this machine's Chromium needs: its closed network refuses the background connections.
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
WITHIN_A_SECOND_MS = 1000
PAGE_LOAD_MS = 20_000
ANSWER_MS = 10_000  # real time for a fetch the page already sent; the second is the page's own (fake) clock


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        message = (f"CHROMIUM IS MISSING ({CHROMIUM}): the browser tests of the workbench did NOT run."
                   " Install it with `apt-get install chromium` (.ci/run does).")
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def mock(tmp_path) -> Iterator[ServedMock]:
    with ServedMock(tmp_path / "browser.sqlite3") as served:
        yield served


@pytest.fixture
def page(browser, mock):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(PAGE_LOAD_MS)
    page.clock.install()  # time flows as usual until a test pauses it (see after_a_second)
    page.goto(mock.base_url + "/")
    yield page
    context.close()


def pause_the_page_clock(page) -> None:
    """From here the page's timers run only when a test lets its clock run (`run_for`), so a row
    shows within a second of the page's time or not at all, however slow this machine is: a busy
    CI machine stretches real time, never the page's."""
    page.clock.pause_at(page.evaluate("Date.now()") + 1)


def test_the_home_page_shows_the_keys_projects_and_how_to_connect(page, mock):
    from playwright.sync_api import expect

    assert page.url == mock.base_url + "/_mock/"
    expect(page.locator("#base-url")).to_have_text(mock.base_url)
    keys = page.locator("#keys tbody tr")
    expect(keys).to_have_count(len(seed.DEMO_KEYS))
    for key in seed.DEMO_KEYS:
        expect(page.locator("#keys")).to_contain_text(key.value)
        expect(page.locator("#keys")).to_contain_text(key.label)
    expect(page.locator("#projects")).to_contain_text("Hogflix Web")
    expect(page.locator("#projects")).to_contain_text("3 Hogflix Web (staging)")
    expect(page.locator("#auth-pill")).to_have_text("auth: keys")


def test_the_explorer_tries_insights_list_against_the_mock_with_the_demo_key(page, mock):
    from playwright.sync_api import expect

    operation = page.locator("#operations-insights-insights_list")
    expect(operation).to_be_visible()
    expect(page.locator("#operations-insights-insights_create")).to_be_attached()  # the spec's operations, rendered
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    operation.locator("tr[data-param-name='project_id'] input").fill("1")
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status")
    expect(status).to_have_text("200")
    expect(operation.locator(".live-responses-table .response .response-col_description")).to_contain_text('"results"')
    with mock.client() as client:  # the explorer's call reached the mock with the all-access key
        entry = client.get("/_mock/requests", params={"operation": "insights_list"}).json()["results"][0]
    assert entry["status"] == 200 and entry["caller"] == "All access (Ada)"


def test_a_request_shows_in_the_journal_within_a_second(page, mock):
    from playwright.sync_api import expect

    expect(page.locator("#operations-insights-insights_list")).to_be_attached()  # the page is up, the explorer too
    pause_the_page_clock(page)
    for attempt in ("first", "second", "third"):  # three seconds in a row: a poll every 1.5 s misses one
        with mock.client(headers=bearer()) as client:
            assert client.get(f"{P}/insights/7/", params={"from": attempt}).status_code == 200
        page.clock.run_for(WITHIN_A_SECOND_MS)
        row = page.locator("#journal-table tbody tr", has_text=f"/insights/7/?from={attempt}")
        expect(row).to_be_visible(timeout=ANSWER_MS)
    expect(row).to_contain_text("insights_retrieve")
    row.click()
    expect(page.locator("#journal-detail .response-body")).to_contain_text('"name": "Power users"')


def test_a_fault_added_on_the_page_fails_the_next_call_and_shows_in_the_journal(page, mock):
    from playwright.sync_api import expect

    expect(page.locator("#operations-insights-insights_list")).to_be_attached()  # the page is up, the explorer too
    expect(page.locator("#fault-status option", has_text="503")).to_be_attached()
    form = page.locator("#fault-form")
    form.locator("input[name=operation_id]").fill("insights_list")
    form.locator("select[name=status]").select_option("503")
    form.locator("input[name=times]").fill("1")
    form.locator("#add-fault").click()
    expect(page.locator("#fault-rules .rule")).to_contain_text("status 503")
    expect(page.locator("#faults-pill")).to_have_text("1 fault rule active")
    pause_the_page_clock(page)
    with mock.client(headers=bearer()) as client:
        failed = client.get(f"{P}/insights/")
        assert failed.status_code == 503 and "Service Temporarily Unavailable" in failed.text
        assert client.get(f"{P}/insights/").status_code == 200  # times: 1
    page.clock.run_for(WITHIN_A_SECOND_MS)
    row = page.locator("#journal-table tbody tr", has_text="injected 503")
    expect(row).to_be_visible(timeout=ANSWER_MS)
    expect(row).to_contain_text("insights_list")
    page.clock.resume()  # the list of rules has its own, slower poll
    expect(page.locator("#fault-rules")).to_contain_text("No fault rules")


def test_the_page_clears_the_faults_it_shows(page, mock):
    from playwright.sync_api import expect

    with mock.client() as client:
        assert client.post("/_mock/faults", json={"effect": {"latency": 5}}).status_code == 201
    page.reload()
    expect(page.locator("#fault-rules .rule")).to_have_count(1)
    page.locator("#clear-faults").click()
    expect(page.locator("#fault-rules .rule")).to_have_count(0)
    with mock.client() as client:
        assert client.get("/_mock/faults").json()["rules"] == []


FRONTEND = """<!doctype html><html><body><pre id="log"></pre><script>
const mock = "%(mock)s";
const log = (line) => { document.getElementById("log").textContent += line + "\\n"; };
async function call(method, path, body) {
  const response = await fetch(mock + path, {method, credentials: "include",
    headers: body === undefined ? {} : {"Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await response.text();
  return {status: response.status, body: text ? JSON.parse(text) : null};
}
window.run = async () => {
  const session = await call("POST", "/_mock/session", {});
  const before = await call("GET", "/api/projects/1/insights/?limit=100");
  const created = await call("POST", "/api/projects/1/insights/", {name: "Made by a frontend",
    query: {kind: "InsightVizNode", source: {kind: "TrendsQuery", series: [{kind: "EventsNode", event: "$pageview"}]}}});
  const deleted = await call("PATCH", `/api/projects/1/insights/${created.body.id}/`, {deleted: true});
  const after = await call("GET", "/api/projects/1/insights/?limit=100");
  return {session: session.status, before: before.status, count_before: before.body.count, created: created.status,
          name: created.body.name, deleted: deleted.status, deleted_flag: deleted.body.deleted, count_after: after.body.count,
          listed_after: after.body.results.some((insight) => insight.id === created.body.id)};
};
log("ready");
</script></body></html>"""


@pytest.fixture
def frontend(mock) -> Iterator[str]:
    """A page of another origin (same host, another port), as a frontend's dev server would serve it."""
    html = (FRONTEND % {"mock": mock.base_url}).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_page_of_another_origin_lists_creates_and_soft_deletes_with_credentials(browser, mock, frontend):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(PAGE_LOAD_MS)
    page.goto(frontend)
    page.wait_for_function("document.getElementById('log').textContent.includes('ready')")
    outcome = page.evaluate("window.run()")
    context.close()
    assert outcome == {"session": 201, "before": 200, "count_before": 18, "created": 201, "name": "Made by a frontend",
                       "deleted": 200, "deleted_flag": True, "count_after": 18, "listed_after": False}
    with httpx.Client(base_url=mock.base_url, headers=bearer(ALL_ACCESS)) as client:
        callers = {e["operation_id"]: e["caller"] for e in client.get("/_mock/requests").json()["results"] if e["operation_id"]}
    assert callers["insights_create"] == "session of ada@hogflix.io"  # the cookie rode along, cross-origin
