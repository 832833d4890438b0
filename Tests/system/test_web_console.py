"""The web console (Sources/WarrenManagement/Console) in a real headless browser.

Debian's Chromium driven by Playwright (PyPI) with `executable_path`: Playwright's own browser
download is not used. Each test runs against two targets that serve the console and /api on one
origin:

* rabbitmq: a private RabbitMQ 3.10 node with rabbitmq_management, behind console_proxy.py, which
  serves the console files and forwards /api/... (the API shape the console is written against);
* warren: warren-server started with --management-port, serving the console itself. Skipped while
  the binary has no such flag.

Screenshots of the overview and queue pages land in the test's tmp dir (kept by pytest under
/tmp/pytest-of-$USER/); set CONSOLE_SCREENSHOTS=DIR to also copy them there.
"""
import base64
import json
import os
import shutil
import struct
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

import pika
import pika.exceptions
import pytest

from brokers import BrokerStartError, free_port, start_rabbitmq, warren_binary
import console_proxy

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")


@dataclass
class Target:
    name: str
    base_url: str
    username: str
    password: str
    amqp_port: int

    def api(self, method: str, path: str, body=None):
        """(status, parsed JSON or None) of a request to the same /api the console uses."""
        auth = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        headers = {"Authorization": "Basic " + auth}
        if body is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base_url + "/api" + path, method=method, headers=headers,
                                     data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                body = r.read()
                return r.status, json.loads(body) if body else None
        except urllib.error.HTTPError as e:
            return e.code, None


def wait_api(target: Target, proc_alive, timeout: float = 30, log=None) -> None:
    def tail() -> str:
        return f"; log tail:\n{log.read_text()[-2000:]}" if log is not None and log.exists() else ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc_alive():
            raise AssertionError(f"{target.name} exited before its management API answered{tail()}")
        try:
            if target.api("GET", "/overview")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{target.name}: GET /api/overview did not answer 200 within {timeout:.0f}s{tail()}")


def chromium_path() -> str | None:
    env = os.environ.get("CHROMIUM")
    if env:
        return env
    return next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None) or shutil.which("chromium")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (make venv)")
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True)
        yield b
        b.close()


def _rabbitmq_target(tmp_path_factory):
    mgmt = free_port()
    try:
        broker = start_rabbitmq(str(tmp_path_factory.mktemp("rabbitmq")), plugins=["rabbitmq_management"],
                                config_lines=[f"management.tcp.port = {mgmt}", "management.tcp.ip = 127.0.0.1",
                                              "collect_statistics_interval = 1000"])
    except BrokerStartError as e:
        if "not installed" in str(e):
            pytest.skip(str(e))
        raise
    proxy = console_proxy.start(mgmt)
    target = Target("rabbitmq", proxy.url, "guest", "guest", broker.port)
    try:
        wait_api(target, broker.alive)
        yield target
    finally:
        proxy.shutdown()
        broker.stop(grace=3)  # throwaway data: no need for a full graceful shutdown


def _warren_target(tmp_path_factory):
    binary = warren_binary()
    if binary is None:
        pytest.skip("no warren-server binary (build with `make release`)")
    usage = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
    usage = usage.stdout + usage.stderr
    if "--management-port" not in usage:
        pytest.skip("warren-server has no --management-port flag yet: it does not serve the console")
    mgmt = free_port()
    workdir = tmp_path_factory.mktemp("warren")
    amqp = free_port()
    cmd = [binary, "--port", str(amqp), "--bind", "127.0.0.1", "--data-dir", str(workdir / "data"),
           "--management-port", str(mgmt)]
    if "--prometheus-port" in usage:
        cmd += ["--prometheus-port", str(free_port())]
    # The log goes to a file: a pipe nobody reads would fill up and stall the broker.
    with open(workdir / "warren.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    target = Target("warren", f"http://127.0.0.1:{mgmt}", "guest", "guest", amqp)
    try:
        wait_api(target, lambda: proc.poll() is None, log=workdir / "warren.log")
        yield target
    finally:
        proc.kill()
        proc.wait(10)


@pytest.fixture(scope="module", params=["rabbitmq", "warren"])
def console(request, tmp_path_factory):
    """A base URL serving the console at / and the management API at /api, and credentials."""
    make = _rabbitmq_target if request.param == "rabbitmq" else _warren_target
    yield from make(tmp_path_factory)


@pytest.fixture
def page(browser, console):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("console", lambda m: pg.errors.append(m.text) if "Content Security Policy" in m.text else None)
    pg.on("dialog", lambda d: d.accept())  # confirm() before purge/delete
    yield pg
    context.close()


def login(page, console: Target, password: str | None = None, username: str | None = None) -> None:
    page.goto(console.base_url + "/")
    page.wait_for_selector("[data-test=page-login]")
    page.fill("#login-username", console.username if username is None else username)
    page.fill("#login-password", console.password if password is None else password)
    page.click("#login-submit")


def assert_png(path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 1000 and height >= 600, (width, height)
    # A blank 1280-wide page compresses to a few KB; text, tables and charts take far more.
    assert len(data) > 15_000, f"{path} is only {len(data)} bytes"


def keep(path) -> None:
    out = os.environ.get("CONSOLE_SCREENSHOTS")
    if out:
        os.makedirs(out, exist_ok=True)
        shutil.copy(path, out)


def test_login_rejects_a_wrong_password(page, console):
    login(page, console, password="not-the-password")
    error = page.wait_for_selector("#login-error:not([hidden])")
    assert "Login failed" in error.text_content()
    assert page.url.endswith("#/login")
    assert page.evaluate("sessionStorage.length") == 0
    assert page.errors == []


def test_declare_publish_get_and_delete_through_the_console(page, console, tmp_path):
    queue = f"console-{uuid.uuid4().hex[:8]}"
    payload = f"hello from the console ✓ <b>{queue}</b>"

    login(page, console)
    page.wait_for_selector("[data-test=page-overview]")
    page.wait_for_selector("[data-test=node-row]")
    page.wait_for_selector("[data-test=alarms-ok]")
    assert page.text_content("#total-exchanges").strip() not in ("", "–", "0")
    assert page.text_content("[data-test=whoami]") == console.username
    # The rate chart is drawn: its canvas has painted pixels (axes, grid, labels, lines).
    painted = page.evaluate("""() => {
        const c = document.querySelector('#chart-rates');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""")
    assert painted > 2000
    overview_png = tmp_path / f"overview-{console.name}.png"
    page.screenshot(path=str(overview_png), full_page=True)

    # Declare the queue through the form.
    page.click("#nav-queues")
    page.wait_for_selector("[data-test=page-queues]")
    page.fill("#queue-name", queue)
    page.select_option("#queue-durable", "false")
    page.click("#queue-add")
    page.wait_for_selector(f"[data-test=queue-row][data-name='{queue}']")
    status, q = console.api("GET", f"/queues/%2F/{queue}")
    assert status == 200 and q["durable"] is False

    # Publish to it through the default exchange's page.
    page.click("#nav-exchanges")
    page.click("[data-test=exchange-link][data-name='']")
    page.wait_for_selector("[data-test=page-exchange][data-name='amq.default']")
    page.fill("#publish-routing-key", queue)
    page.fill("#publish-payload", payload)
    page.click("#publish-submit")
    result = page.wait_for_selector("#publish-result:not([hidden])")
    assert result.get_attribute("data-routed") == "true", result.text_content()

    # Get it back on the queue's page (requeued, so it stays).
    page.click("#nav-queues")
    page.click(f"[data-test=queue-link][data-name='{queue}']")
    page.wait_for_selector(f"[data-test=page-queue][data-name='{queue}']")
    page.fill("#get-count", "5")
    page.click("#get-submit")
    page.wait_for_selector("[data-test=message-payload]")
    payloads = page.eval_on_selector_all("[data-test=message-payload]", "els => els.map(e => e.textContent)")
    assert payloads == [payload]
    assert page.locator("#get-results b", has_text=queue).count() == 0  # shown as text, not HTML
    queue_png = tmp_path / f"queue-{console.name}.png"
    page.screenshot(path=str(queue_png), full_page=True)

    # Delete it from the same page (the confirm() dialog is accepted); back on the list it is gone.
    page.click("#queue-delete")
    page.wait_for_selector("[data-test=page-queues]")
    page.wait_for_selector(f"[data-test=queue-row][data-name='{queue}']", state="detached")
    assert console.api("GET", f"/queues/%2F/{queue}")[0] == 404

    for png in (overview_png, queue_png):
        assert_png(png)
        keep(png)
    assert page.errors == []


def test_vhost_user_permission_and_connection_close_through_the_console(page, console):
    suffix = uuid.uuid4().hex[:8]
    vhost, user, password = f"console-vhost-{suffix}", f"console-user-{suffix}", "s3cret/pw"

    login(page, console)
    page.wait_for_selector("[data-test=page-overview]")
    page.click("#nav-vhosts")
    page.fill("#vhost-name", vhost)
    page.click("#vhost-add")
    page.wait_for_selector(f"[data-test=vhost-row][data-name='{vhost}']")

    page.click("#nav-users")
    page.fill("#user-name", user)
    page.fill("#user-password", password)
    page.click("#user-add")
    page.wait_for_selector(f"[data-test=user-row][data-name='{user}']")
    page.fill("#perm-user", user)
    page.wait_for_selector(f"#perm-vhost option[value='{vhost}']", state="attached")
    page.select_option("#perm-vhost", vhost)
    page.click("#perm-set")
    page.wait_for_selector(f"[data-test=permission-row][data-user='{user}'][data-vhost='{vhost}']")

    # The new user really can connect to the new vhost; the console then closes that connection.
    params = pika.ConnectionParameters("127.0.0.1", console.amqp_port, vhost,
                                       pika.PlainCredentials(user, password))
    conn = pika.BlockingConnection(params)
    try:
        # RabbitMQ lists a new connection after its next stats emission: wait for it, not for the page.
        deadline = time.monotonic() + 10
        while not any(c.get("user") == user for c in console.api("GET", "/connections")[1] or []):
            assert time.monotonic() < deadline, "the new connection never showed up in GET /api/connections"
            time.sleep(0.1)
        page.click("#nav-connections")
        row = f"[data-test=connection-row][data-user='{user}']"
        page.click(f"{row} [data-test=connection-close]")
        with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as closed:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                conn.process_data_events(time_limit=0.1)
        assert closed.value.reply_code == 320
        page.wait_for_selector(row, state="detached")  # the list refreshes after the close
    finally:
        if conn.is_open:
            conn.close()

    page.click("#nav-users")
    page.click(f"[data-test=user-delete][data-name='{user}']")
    page.wait_for_selector(f"[data-test=user-row][data-name='{user}']", state="detached")
    page.click("#nav-vhosts")
    page.click(f"[data-test=vhost-delete][data-name='{vhost}']")
    page.wait_for_selector(f"[data-test=vhost-row][data-name='{vhost}']", state="detached")
    assert console.api("GET", f"/users/{user}")[0] == 404
    assert console.api("GET", f"/vhosts/{vhost}")[0] == 404
    assert page.errors == []


def test_a_management_user_stays_logged_in_and_uses_the_queues_page(page, console):
    """A user tagged only `management` gets 401 (not_authorised) from /api/nodes, /api/users and
    vhosts it has no permissions on. Those refuse one request: the console says so in the page and
    keeps the session; only a failed login (not_authorized, "Login failed") logs out."""
    suffix = uuid.uuid4().hex[:8]
    user, password = f"console-mgmt-{suffix}", "mgmt-pw"
    other_vhost, queue = f"console-other-{suffix}", f"console-mgmt-q-{suffix}"
    assert console.api("PUT", f"/users/{user}", {"password": password, "tags": "management"})[0] in (201, 204)
    assert console.api("PUT", f"/permissions/%2F/{user}", {"configure": ".*", "write": ".*", "read": ".*"})[0] in (201, 204)
    assert console.api("PUT", f"/vhosts/{other_vhost}", {})[0] in (201, 204)
    try:
        login(page, console, username=user, password=password)
        page.wait_for_selector("[data-test=page-overview]")
        page.wait_for_selector("[data-test=nodes-need-monitoring]")  # /api/nodes needs monitoring
        page.wait_for_selector("[data-test=alarms-ok]")
        page.wait_for_function("document.body.dataset.loaded")  # a whole refresh went through
        assert page.text_content("[data-test=whoami]") == user
        assert page.is_hidden("#nav-users") and page.is_visible("#nav-queues")
        assert "#/login" not in page.url

        # A 401 from the API on a page (a vhost without permissions) is shown there; still logged in.
        page.goto(f"{console.base_url}/#/queues/{other_vhost}/anything")
        banner = page.wait_for_selector("[data-test=page-queue] > [data-test=not-permitted]")
        assert "Not permitted" in banner.text_content()
        assert "#/login" not in page.url and page.is_visible("[data-test=whoami]")
        # The Users page needs the administrator tag: said so without asking the API.
        page.goto(f"{console.base_url}/#/users")
        page.wait_for_selector("[data-test=page-not-permitted]")

        # The Queues page works: declare, publish, get, delete.
        page.click("#nav-queues")
        page.wait_for_selector("[data-test=page-queues]")
        page.wait_for_selector("#queue-vhost option[value='/']", state="attached")
        page.fill("#queue-name", queue)
        page.select_option("#queue-durable", "false")
        page.click("#queue-add")
        page.click(f"[data-test=queue-link][data-name='{queue}']")
        page.wait_for_selector(f"[data-test=page-queue][data-name='{queue}']")
        page.fill("#queue-publish-payload", "from a management user")
        page.click("#queue-publish-submit")
        page.wait_for_selector("[data-test=notice]:has-text('Message published.')")
        page.click("#get-submit")
        page.wait_for_selector("[data-test=message-payload]")
        assert page.text_content("[data-test=message-payload]") == "from a management user"
        page.click("#queue-delete")
        page.wait_for_selector("[data-test=page-queues]")
        page.wait_for_selector(f"[data-test=queue-row][data-name='{queue}']", state="detached")
        assert console.api("GET", f"/queues/%2F/{queue}")[0] == 404

        assert page.evaluate("sessionStorage.getItem('warren.console.auth')") is not None
        assert page.query_selector("[data-test=page-login]") is None
        assert page.errors == []
    finally:
        console.api("DELETE", f"/queues/%2F/{queue}")
        console.api("DELETE", f"/vhosts/{other_vhost}")
        console.api("DELETE", f"/users/{user}")
