#!/usr/bin/env python3
"""Opens Vireo report pages in headless Chromium and checks them from the DOM.

Drives Debian's chromedriver over the W3C WebDriver HTTP protocol (python3's
standard library only), with goog:loggingPrefs {browser: ALL, performance:
ALL}: the browser log gives the console's errors, the performance log the
DevTools Network.requestWillBeSent events. For each page it checks

  * the plate diagram: an inline <svg> from Graphviz inside #plate-diagram;
  * the ELBO curve: #elbo-plot rendered by Vega (an <svg> holding its path);
  * one panel per site: every name given with --site has a section whose
    plots all rendered (data-rendered) and hold marks;
  * no network request: the only request is the page itself (file://);
  * no script error: nothing at level SEVERE in the console;
  * the page's Content-Security-Policy meta tag forbids fetching;

and saves a full-page screenshot beside the page (PAGE.png).

  check_report.py PAGE.html --site mu --site tau ... [--page PAGE2.html --site ...]
Exit status 0 when every check passes, 1 otherwise (with the reasons), and 1
when Chromium or chromedriver is missing: tools/install-deps.sh installs them.
"""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CHROMIUM = os.environ.get("VIREO_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("VIREO_CHROMEDRIVER", "/usr/bin/chromedriver")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    def __init__(self):
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([CHROMEDRIVER, "--port=%d" % self.port], stdout=self.log, stderr=self.log)
        self.base = "http://127.0.0.1:%d" % self.port
        for _ in range(100):
            try:
                self.call("GET", "/status")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        self.profile = tempfile.mkdtemp(prefix="vireo-chromium-")
        caps = {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                # --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--user-data-dir=" + self.profile, "--window-size=1280,1000", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            },
            "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
        }
        self.session = self.call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.loads(r.read().decode())["value"]
        except urllib.error.HTTPError as e:
            raise RuntimeError("webdriver %s %s: %s" % (method, path, e.read().decode()[:2000]))

    def s(self, method, path, body=None):
        return self.call(method, "/session/%s%s" % (self.session, path), body)

    def script(self, code, *args):
        return self.s("POST", "/execute/sync", {"script": code, "args": list(args)})

    def logs(self, kind):
        return self.s("POST", "/se/log", {"type": kind})

    def close(self):
        try:
            self.s("DELETE", "")
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


DOM_CHECK = r"""
const sites = arguments[0];
const out = {problems: [], csp: '', panels: {}};
const csp = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
out.csp = csp ? csp.getAttribute('content') : '';
const plate = document.querySelector('#plate-diagram > svg');
if (!plate) out.problems.push('no plate diagram (#plate-diagram > svg)');
else if (plate.querySelectorAll('g.node').length === 0) out.problems.push('the plate diagram has no nodes');
const elbo = document.querySelector('#elbo-plot[data-rendered] svg');
if (!elbo) out.problems.push('no rendered ELBO curve (#elbo-plot)');
else if (!elbo.querySelector('.mark-line path')) out.problems.push('the ELBO plot holds no line');
for (const name of sites) {
  const sec = document.querySelector('section.site[data-site="' + CSS.escape(name) + '"]');
  if (!sec) { out.problems.push('no panel for site ' + name); continue; }
  const plots = sec.querySelectorAll('.plot');
  const rendered = sec.querySelectorAll('.plot[data-rendered] svg');
  const marks = sec.querySelectorAll('.plot svg .mark-rect path');
  out.panels[name] = {plots: plots.length, rendered: rendered.length, marks: marks.length,
                      table: !!sec.querySelector('table.summary')};
  if (plots.length === 0 || rendered.length !== plots.length)
    out.problems.push('site ' + name + ': ' + rendered.length + ' of ' + plots.length + ' plots rendered');
  if (marks.length === 0) out.problems.push('site ' + name + ': no bars drawn');
  if (!sec.querySelector('table.summary')) out.problems.push('site ' + name + ': no summary table');
  const link = document.querySelector('pre.source a.site-link[href="#' + sec.id + '"]');
  if (!link && name.indexOf('[') < 0 && sec.dataset.kind !== 'deterministic')
    out.problems.push('site ' + name + ': not linked from the source');
}
out.height = Math.max(document.body.scrollHeight, document.documentElement.scrollHeight);
return out;
"""


def check_page(driver, page, sites):
    problems = []
    url = "file://" + os.path.abspath(page)
    # What the browser did before this page (its start page, earlier pages) is not this page's.
    driver.s("POST", "/url", {"url": "about:blank"})
    driver.logs("browser")
    driver.logs("performance")
    driver.s("POST", "/url", {"url": url})
    # Vega renders asynchronously: the page sets data-ready when every plot is done.
    for _ in range(300):
        if driver.script("return document.body && document.body.getAttribute('data-ready');") == "1":
            break
        time.sleep(0.1)
    else:
        problems.append("the page never finished rendering (no data-ready)")
    result = driver.script(DOM_CHECK, sites)
    problems += result["problems"]
    csp = result["csp"]
    if "default-src 'none'" not in csp or "connect-src" in csp:
        problems.append("no strict Content-Security-Policy: %r" % csp)
    # The console: any SEVERE entry is a script error (or a refused fetch).
    for entry in driver.logs("browser"):
        if entry.get("level") == "SEVERE":
            problems.append("console error: " + entry.get("message", "")[:500])
    # The network: requests other than the page itself.
    for entry in driver.logs("performance"):
        try:
            msg = json.loads(entry["message"])["message"]
        except (KeyError, ValueError):
            continue
        if msg.get("method") == "Network.requestWillBeSent":
            req_url = msg["params"]["request"]["url"]
            if req_url != url:
                problems.append("network request: " + req_url[:200])
    # A full-page screenshot beside the page.
    height = min(int(result.get("height", 1000)) + 40, 16000)
    driver.s("POST", "/window/rect", {"width": 1280, "height": height})
    png = base64.b64decode(driver.s("GET", "/screenshot"))
    with open(os.path.splitext(page)[0] + ".png", "wb") as f:
        f.write(png)
    if len(png) < 10000:
        problems.append("the screenshot is suspiciously small (%d bytes)" % len(png))
    return result["panels"], problems


def main(argv):
    pages = []  # (page, [sites])
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--site":
            pages[-1][1].append(argv[i + 1])
            i += 2
            continue
        if a == "--page":
            i += 1
            a = argv[i]
        pages.append((a, []))
        i += 1
    if not pages:
        print(__doc__)
        return 2
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not os.access(tool, os.X_OK):
            print("FAIL: %s is missing; tools/install-deps.sh installs chromium and chromium-driver" % tool)
            return 1
    driver = Driver()
    failed = False
    try:
        for page, sites in pages:
            panels, problems = check_page(driver, page, sites)
            print("%s: panels %s" % (page, json.dumps(panels)))
            for p in problems:
                print("  FAIL: " + p)
            failed = failed or bool(problems)
            if not problems:
                print("  ok: plate diagram, ELBO curve, %d site panels, no network request, no script error" % len(sites))
    finally:
        driver.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
