"""Workspaces on their own origin: what a workspace serves cannot act in the portal or the hub.

A grant's workspace is opened from the portal in Chromium, then one script tries every way a page
has to reach the portal and the hub with the viewer's cookies (fetch, XHR, no-cors posts, a form
post, iframe reads). It runs from an HTML file in the workspace home served by the workspace, and
in the JupyterLab page itself (what a lab extension or a trusted output runs); it must read nothing
and change nothing. The same script on the portal's origin reads the portal: the control.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from running_platform import PASSWORD, RunningHub

from sandbox.devhub import loopback

pytestmark = pytest.mark.integration

USER = "researcher"
MARKER = "workspace-origin-probe"
HUB_COOKIES = {"jupyterhub-hub-login", "jupyterhub-session-id", "__Host-jupyterhub-hub-login"}
PORTAL_COOKIES = {"pds-portal-token", "pds-oauth-state"}

# One async function: every attempt against the portal and the hub, each recorded as ok/error.
PROBE = """
async ({portal, hub, user, dataset}) => {
  const out = {};
  const attempt = async (name, fn) => {
    try { out[name] = {ok: true, value: await fn()}; }
    catch (e) { out[name] = {ok: false, error: String(e)}; }
  };
  const read = async (url, init) => {
    const r = await fetch(url, {credentials: "include", ...init});
    return {status: r.status, body: (await r.text()).slice(0, 200000)};
  };
  const today = new Date().toISOString().slice(0, 10);
  const later = new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10);
  const application = JSON.stringify({
    kind: "person", dataset_ids: [dataset], purpose: "origin probe", level: "L2",
    starts_on: today, ends_on: later, epsilon: "0",
    agreement_accepted: true, commitment_accepted: true,
  });
  await attempt("portal_api", () => read(portal + "/api/grants"));
  await attempt("portal_page", () => read(portal + "/grants"));
  await attempt("portal_applications", () => read(portal + "/api/applications"));
  await attempt("hub_user", () => read(hub + "/api/user"));
  await attempt("hub_home", () => read(hub + "/home"));
  await attempt("hub_tokens", () => read(hub + "/api/users/" + user + "/tokens"));
  await attempt("xhr", () => new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("GET", portal + "/api/grants");
    x.withCredentials = true;
    x.onload = () => resolve({status: x.status, body: x.responseText.slice(0, 4000)});
    x.onerror = () => reject(new Error("XHR failed"));
    x.send();
  }));
  // a portal page gives its scripts the CSRF token in its forms; a workspace page has none
  const csrf = (document.querySelector("input[name=_csrf]") || {}).value || "";
  await attempt("apply_cors", () => read(portal + "/api/applications?submit=true", {
    method: "POST", body: application,
    headers: Object.assign({"Content-Type": "application/json"}, csrf ? {"X-CSRF-Token": csrf} : {})}));
  await attempt("apply_no_cors", async () => {
    const r = await fetch(portal + "/api/applications?submit=true", {
      method: "POST", mode: "no-cors", credentials: "include",
      headers: {"Content-Type": "text/plain"}, body: application});
    return {type: r.type};
  });
  await attempt("token_no_cors", async () => {
    const r = await fetch(hub + "/api/users/" + user + "/tokens", {
      method: "POST", mode: "no-cors", credentials: "include",
      headers: {"Content-Type": "text/plain"}, body: '{"note": "origin probe"}'});
    return {type: r.type};
  });
  const frame = (url) => new Promise((resolve, reject) => {
    const f = document.createElement("iframe");
    f.name = "probe" + Math.random().toString(36).slice(2);
    const timer = setTimeout(() => reject(new Error("iframe did not load")), 15000);
    f.onload = () => {
      clearTimeout(timer);
      try { resolve(f.contentDocument.documentElement.outerHTML.slice(0, 4000)); }
      catch (e) { reject(e); }
    };
    if (url) { f.src = url; }
    document.body.appendChild(f);
    return f;
  });
  await attempt("iframe_portal", () => frame(portal + "/grants"));
  await attempt("iframe_hub", () => frame(hub + "/home"));
  await attempt("form_post", () => new Promise((resolve, reject) => {
    const f = document.createElement("iframe");
    f.name = "formsink";
    document.body.appendChild(f);
    const form = document.createElement("form");
    form.method = "POST";
    form.action = portal + "/applications";
    form.target = "formsink";
    const fields = {dataset_ids: dataset, purpose: "origin probe form", level: "L2",
                    starts_on: today, ends_on: later, agreement: "on", commitment: "on"};
    for (const [k, v] of Object.entries(fields)) {
      const i = document.createElement("input");
      i.name = k; i.value = v; form.appendChild(i);
    }
    document.body.appendChild(form);
    const timer = setTimeout(() => reject(new Error("form target did not load")), 15000);
    f.onload = () => {
      clearTimeout(timer);
      try { resolve(f.contentDocument.documentElement.outerHTML.slice(0, 4000)); }
      catch (e) { reject(e); }
    };
    form.submit();
  }));
  try { out.cookies = document.cookie; } catch (e) { out.cookies = ""; }
  out.origin = String(self.origin);
  return out;
}
"""

# What a script on the workspace's origin can do: use the workspace's own API, as JupyterLab does.
OWN_API = """
async (url) => {
  const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "";
  const r = await fetch(url, {credentials: "include", headers: {"X-XSRFToken": decodeURIComponent(xsrf)}});
  return {status: r.status, body: await r.text()};
}
"""

PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{MARKER}</title></head>
<body><pre id="result"></pre>
<script>
const probe = {PROBE};
probe(JSON.parse(decodeURIComponent(location.hash.slice(1))))
  .then((out) => {{ document.getElementById("result").textContent = JSON.stringify(out); }})
  .catch((e) => {{ document.getElementById("result").textContent = JSON.stringify({{crash: String(e)}}); }});
</script></body></html>
"""


def login(context: BrowserContext, hub: RunningHub) -> Page:
    page = context.new_page()
    return hub.sign_in(page, USER)


def portal_state(hub: RunningHub, token: str) -> dict[str, Any]:
    """What the probe must not change: the user's applications, grants and hub tokens."""
    with httpx.Client(headers={"Authorization": f"token {token}"}, timeout=30) as api:
        applications = api.get(f"{hub.portal}/api/applications").json()
        grants = api.get(f"{hub.portal}/api/grants").json()
        tokens = api.get(f"{hub.url}/hub/api/users/{USER}/tokens")
    tokens.raise_for_status()
    return {
        "applications": sorted((a["id"], a["status"]) for a in applications),
        "grants": sorted((g["id"], g["status"]) for g in grants),
        "tokens": sorted((t["id"], t["note"]) for t in tokens.json()["api_tokens"]),
    }


def assert_refused(seen: dict[str, Any], grant_id: str) -> None:
    """Every read failed or came back without the portal's or the hub's data."""
    for name in (
        "portal_api",
        "portal_page",
        "portal_applications",
        "hub_user",
        "hub_home",
        "hub_tokens",
        "xhr",
        "apply_cors",
        "iframe_portal",
        "iframe_hub",
        "form_post",
    ):
        result = seen[name]
        assert not result["ok"], f"{name} was read from the workspace: {str(result)[:300]}"
    for name in ("apply_no_cors", "token_no_cors"):  # sent blind; must not have acted
        assert seen[name] == {"ok": True, "value": {"type": "opaque"}} or not seen[name]["ok"]
    assert grant_id not in json.dumps(seen)
    assert not {c.split("=")[0].strip() for c in seen["cookies"].split(";")} & (
        HUB_COOKIES | PORTAL_COOKIES
    )


@pytest.fixture(scope="module")
def workspace(hub: RunningHub, browser: Browser) -> Iterator[dict[str, Any]]:
    """A running L2 workspace opened from the portal's grant page in a logged-in browser."""
    grant_id = hub.approved_grant("hotline-tickets", applicant=USER, purpose="工作区源隔离测试")
    token = hub.token(USER)
    context = browser.new_context(locale="zh-CN")
    portal = login(context, hub)
    portal.goto(f"{hub.portal}/grants/{grant_id}")
    with context.expect_page() as opened:
        portal.click("#open-workspace")
    lab = opened.value
    origin = hub.workspace_origin(USER)
    lab.wait_for_url(f"{origin}/user/{USER}/{grant_id}/lab**", timeout=240_000)
    lab.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    yield {"grant_id": grant_id, "token": token, "context": context, "portal": portal, "lab": lab}
    context.close()


def test_the_workspace_opens_from_the_portal_on_its_own_origin(
    hub: RunningHub, workspace: dict[str, Any]
) -> None:
    lab: Page = workspace["lab"]
    grant_id = workspace["grant_id"]
    origin = hub.workspace_origin(USER)
    assert urlsplit(lab.url).netloc == urlsplit(origin).netloc != urlsplit(hub.url).netloc
    assert hub.workspace_url(USER, grant_id, workspace["token"]) == (
        f"{origin}/user/{USER}/{grant_id}/"
    )
    assert lab.evaluate("() => self.origin") == origin
    # the grant page links to the hub's spawn page on the portal's origin, which ends here
    portal: Page = workspace["portal"]
    assert portal.get_attribute("#open-workspace", "href") == f"/hub/spawn/{USER}/{grant_id}"
    with workspace["context"].expect_page() as again:
        portal.click("#open-workspace")  # running now: straight to the workspace's origin
    again.value.wait_for_url(f"{origin}/user/{USER}/{grant_id}/**", timeout=60_000)
    again.value.close()


def test_no_portal_or_hub_cookie_reaches_a_workspace_origin(
    hub: RunningHub, workspace: dict[str, Any]
) -> None:
    context: BrowserContext = workspace["context"]
    origin = hub.workspace_origin(USER)
    on_portal = {c["name"] for c in context.cookies(f"{hub.portal}/grants")}
    on_hub = {c["name"] for c in context.cookies(f"{hub.url}/hub/home")}
    assert "pds-portal-token" in on_portal and "jupyterhub-hub-login" in on_hub  # control
    for url in (f"{origin}/", f"{origin}/user/{USER}/{workspace['grant_id']}/", f"{origin}/hub/"):
        names = {c["name"] for c in context.cookies(url)}
        assert not names & (HUB_COOKIES | PORTAL_COOKIES), (url, names)
    for cookie in context.cookies():
        if cookie["name"] in HUB_COOKIES | PORTAL_COOKIES:
            assert cookie["domain"].lstrip(".") == "127.0.0.1", cookie  # never a parent domain
    # and what the browser really sends to the workspace (headers seen on the wire)
    lab: Page = workspace["lab"]
    sent: list[str] = []
    lab.on("request", lambda r: sent.append(r.all_headers().get("cookie", "")))
    lab.reload()
    lab.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    assert sent and any("jupyterhub-user-" in s for s in sent)  # the workspace's own cookie
    for header in sent:
        names = {part.split("=")[0].strip() for part in header.split(";")}
        assert not names & (HUB_COOKIES | PORTAL_COOKIES), header


def probe_args(hub: RunningHub) -> dict[str, str]:
    return {
        "portal": hub.portal,
        "hub": f"{hub.url}/hub",
        "user": USER,
        "dataset": "hotline-tickets",
    }


def test_a_page_from_the_workspace_cannot_read_or_change_portal_state(
    hub: RunningHub, workspace: dict[str, Any]
) -> None:
    grant_id, token = workspace["grant_id"], workspace["token"]
    with hub.workspace_client(USER, grant_id, token) as ws:
        put = ws.put(
            "api/contents/probe.html", json={"type": "file", "format": "text", "content": PAGE}
        )
        assert put.status_code in (200, 201), put.text
    before = portal_state(hub, token)
    context: BrowserContext = workspace["context"]

    # 1. an HTML file of the home is not served as a page: the lab serves no raw files (ADR 0004)
    page = context.new_page()
    args = probe_args(hub)
    url = f"{hub.workspace_origin(USER)}/user/{USER}/{grant_id}/files/probe.html"
    response = page.goto(f"{url}#{json.dumps(args)}")
    assert response is not None and response.status == 403
    assert page.title() != MARKER
    page.close()

    # 2. the same script in the JupyterLab page: the workspace's own origin
    lab: Page = workspace["lab"]
    in_lab = lab.evaluate(PROBE, args)
    assert in_lab["origin"] == hub.workspace_origin(USER)
    assert_refused(in_lab, grant_id)
    # ... where it does work against its own origin (the workspace's API)
    own = lab.evaluate(OWN_API, f"/user/{USER}/{grant_id}/api/contents/probe.html?content=0")
    assert own["status"] == 200 and "probe.html" in own["body"]

    assert portal_state(hub, token) == before

    # 3. control: the same script on the portal's origin reads the portal and the hub
    portal: Page = workspace["portal"]
    portal.goto(f"{hub.portal}/grants/{grant_id}")  # a page with forms, so with a CSRF token
    control = portal.evaluate(PROBE, args)
    assert control["portal_api"]["ok"] and control["portal_api"]["value"]["status"] == 200
    assert grant_id in control["portal_api"]["value"]["body"]
    assert control["xhr"]["ok"] and grant_id in control["xhr"]["value"]["body"]
    assert control["iframe_portal"]["ok"] and grant_id in control["iframe_portal"]["value"]
    assert control["hub_home"]["ok"] and control["hub_home"]["value"]["status"] == 200
    assert grant_id in control["hub_home"]["value"]["body"]  # the hub's page of the user's servers
    assert control["apply_cors"]["ok"], control["apply_cors"]  # the portal's own origin may post
    assert control["apply_cors"]["value"]["status"] == 201, control["apply_cors"]


def test_workspace_content_is_never_served_on_the_portal_origin(
    hub: RunningHub, workspace: dict[str, Any]
) -> None:
    grant_id, token = workspace["grant_id"], workspace["token"]
    headers = {"Authorization": f"token {token}"}
    for path in (
        f"/user/{USER}/{grant_id}/files/probe.html",
        f"/user/{USER}/{grant_id}/api/contents/probe.html",
        f"/user/{USER}/{grant_id}/lab",
    ):
        r = httpx.get(hub.url + path, headers=headers, timeout=30, follow_redirects=False)
        assert MARKER not in r.text, path
        assert r.status_code in (302, 303, 404, 424), (path, r.status_code)
        if r.status_code in (302, 303):
            location = r.headers["location"]
            assert not location.startswith(hub.url + "/user/"), location


@pytest.mark.parametrize(
    "path",
    [
        "/hub/login",
        "/hub/home",
        "/hub/api/user",
        "/hub/api/oauth2/authorize",
        "/hub/token",
        "/services/portal/",
        "/services/portal/api/grants",
        "/services/portal/login",
        "/",
    ],
)
def test_neither_hub_nor_portal_answers_on_a_workspace_origin(
    hub: RunningHub, workspace: dict[str, Any], path: str
) -> None:
    """No hub login form or API on a workspace's origin: a page there could read what is typed."""
    base, host = loopback(hub.workspace_origin(USER))
    r = httpx.get(base + path, headers=host, timeout=30, follow_redirects=False)
    assert r.status_code == 404, (path, r.status_code, r.text[:300])
    assert "password" not in r.text.lower() and "set-cookie" not in r.headers


@pytest.fixture(scope="module")
def same_site_page() -> Iterator[str]:
    """The probe on ``http://127.0.0.1:<another port>``: another origin but the same site as the
    portal, as a workspace domain sibling to the portal's would be. The browser sends the
    portal's ``SameSite=Lax`` cookie with its requests; only the portal can refuse them."""
    body = PAGE.encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/probe.html"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_a_same_site_page_cannot_post_with_the_portal_cookie(
    hub: RunningHub, workspace: dict[str, Any], same_site_page: str
) -> None:
    token = workspace["token"]
    before = portal_state(hub, token)
    page = workspace["context"].new_page()
    unsafe: dict[str, int] = {}

    def seen(response: Any) -> None:
        request = response.request
        if request.method == "POST" and request.url.startswith(hub.portal):
            unsafe[request.url.removeprefix(hub.portal)] = response.status

    page.on("response", seen)
    page.goto(f"{same_site_page}#{json.dumps(probe_args(hub))}")
    page.wait_for_function("document.getElementById('result').textContent.length > 0")
    result = json.loads(page.inner_text("#result"))
    page.close()
    assert "crash" not in result, result
    assert_refused(result, workspace["grant_id"])
    assert portal_state(hub, token) == before
    # The browser sent the portal's cookie and the portal refused the posts itself: without the
    # cookie the API answers 401 (and the form redirects to the login); with it and no guard, 201.
    assert unsafe == {"/api/applications?submit=true": 403, "/applications": 403}, unsafe


def test_a_fresh_browser_opening_a_workspace_signs_in_at_the_hub_and_returns(
    hub: RunningHub, workspace: dict[str, Any], browser: Browser
) -> None:
    """The workspace's OAuth login: to the hub's sign-in on the portal's origin and back."""
    origin = hub.workspace_origin(USER)
    lab_url = f"{origin}/user/{USER}/{workspace['grant_id']}/lab"
    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(lab_url)
        page.wait_for_selector("#username_input")
        assert page.url.startswith(f"{hub.url}/hub/login"), page.url
        page.fill("#username_input", USER)
        page.fill("#password_input", PASSWORD)
        page.click("#login_submit")
        page.wait_for_url(f"{lab_url}**", timeout=120_000)
        page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
        on_workspace = {c["name"] for c in context.cookies(lab_url)}
        assert any(name.startswith("jupyterhub-user-") for name in on_workspace), on_workspace
        assert not on_workspace & (HUB_COOKIES | PORTAL_COOKIES)
    finally:
        context.close()
