"""Headless Chromium over the DevTools protocol: load a page, collect console errors, measure
its images and table, take a full-page screenshot (Debian's ``chromium``; ``websocket-client``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser() -> str | None:
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


@dataclass
class PageResult:
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, failed loads
    facts: dict[str, Any] = field(default_factory=dict)  # what the page's DOM says
    screenshot: bytes = b""  # full-page PNG


class _Session:
    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_loaded(self, uri: str, timeout: float) -> None:
        """Until the page at ``uri`` has loaded. Not "a load event arrived": about:blank's
        own load event can come in after ``Page.enable``, before the report is there."""
        deadline = time.monotonic() + timeout
        probe = "document.readyState + ' ' + location.href"
        while True:
            state = self.call("Runtime.evaluate", expression=probe)["result"].get("value", "")
            if state == f"complete {uri}":
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{uri} not loaded within {timeout} s (last: {state!r})")
            time.sleep(0.1)

    def drain(self, seconds: float) -> None:
        """Events that arrive just after load (late console errors)."""
        import websocket

        self.ws.settimeout(seconds)
        try:
            while True:
                self.events.append(json.loads(self.ws.recv()))
        except (TimeoutError, websocket.WebSocketTimeoutException):
            pass  # quiet for ``seconds``: nothing more is coming
        finally:
            self.ws.settimeout(30)


def _errors(events: list[dict[str, Any]]) -> list[str]:
    out = []
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console: " + " ".join(str(a.get("value", a)) for a in p.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            out.append("exception: " + json.dumps(p.get("exceptionDetails", {}))[:300])
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            out.append("log: " + p["entry"].get("text", "") + " " + p["entry"].get("url", ""))
    return out


FACTS_JS = """(() => {
  const imgs = Array.from(document.images);
  const table = document.querySelector('table');
  const r = table ? table.getBoundingClientRect() : null;
  return JSON.stringify({
    images: imgs.length,
    images_ok: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
    table_rows: document.querySelectorAll('table tbody tr.trial').length,
    table_box: r ? [r.left, r.top + window.scrollY, r.width, r.height] : null,
    title: document.title,
  });
})()"""


def load_page(path: Path, width: int = 1280, timeout: float = 60) -> PageResult:
    """Open ``path`` in headless Chromium; the page's errors, DOM facts and a screenshot."""
    browser = find_browser()
    if browser is None:
        raise FileNotFoundError("no chromium; fix: apt-get install -y chromium")
    # Chromium's helper processes (crashpad, utility) can still be writing the profile
    # for a moment after the browser is gone; leftovers in /tmp are harmless.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        argv = [
            browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-dev-shm-usage", "--remote-debugging-port=0", "--remote-allow-origins=*",
            f"--user-data-dir={profile}", f"--window-size={width},900", "about:blank",
        ]  # fmt: skip
        # Its own process group, so the whole browser (renderers, helpers) is stopped below.
        proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + timeout
            while not port_file.is_file() or not port_file.read_text().strip():
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"chromium did not start (rc={proc.poll()})")
                time.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            pages: list[dict[str, Any]] = []
            while not pages:  # the first tab registers a moment after the port opens
                if time.monotonic() > deadline:
                    raise RuntimeError("chromium opened no page")
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                if not pages:
                    time.sleep(0.1)
            s = _Session(pages[0]["webSocketDebuggerUrl"])
            for domain in ("Runtime", "Log", "Page"):
                s.call(f"{domain}.enable")
            uri = path.resolve().as_uri()
            s.call("Page.navigate", url=uri)
            s.wait_loaded(uri, timeout)
            s.drain(0.5)
            facts = json.loads(s.call("Runtime.evaluate", expression=FACTS_JS)["result"]["value"])
            size = s.call("Page.getLayoutMetrics")["cssContentSize"]
            height = int(min(size["height"], 16000))
            s.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                   deviceScaleFactor=1, mobile=False)  # fmt: skip
            shot = s.call("Page.captureScreenshot", format="png")
            s.drain(0.2)
            import base64

            return PageResult(_errors(s.events), facts, base64.b64decode(shot["data"]))
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
