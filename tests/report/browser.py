"""A headless Chromium driven over the Chrome DevTools Protocol (a websocket, websocket-client): load a
page, record its console errors, exceptions and network requests, run JavaScript in it, take
screenshots. Chromium comes from Debian's package (`apt-get install -y chromium`; .ci/run installs it).
"""
from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    for name in (os.environ.get("CURATE_CHROMIUM"), *BROWSERS):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class Browser:
    def __init__(self, executable: str, width: int = 1280, height: int = 900, timeout: float = 60.0):
        import websocket   # websocket-client, a dev extra

        self.profile = tempfile.mkdtemp(prefix="curate-chromium-")
        self.process = subprocess.Popen(
            [executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={self.profile}",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
             "--mute-audio", "--hide-scrollbars", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.time() + timeout
        while not port_file.exists() or not port_file.read_text().strip():
            if self.process.poll() is not None:
                raise RuntimeError("chromium exited: " + self.process.stderr.read().decode(errors="replace")[-2000:])
            if time.time() > deadline:
                raise TimeoutError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout))
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        self.timeout = timeout
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    # -- protocol --
    def call(self, method: str, **params):
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)
        raise TimeoutError(method)

    def wait_for(self, method: str, timeout: float | None = None) -> dict:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.time() + (timeout or self.timeout)
        while time.time() < deadline:
            message = json.loads(self.ws.recv())
            self.events.append(message)
            if message.get("method") == method:
                return message
        raise TimeoutError(method)

    def evaluate(self, expression: str, await_promise: bool = False):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    # -- pages --
    def load(self, path: Path, ready: str = "document.body && document.body.dataset.ready === '1'") -> None:
        self.events.clear()
        self.call("Page.navigate", url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired")
        deadline = time.time() + self.timeout
        while not self.evaluate(f"!!({ready})"):
            if time.time() > deadline:
                raise TimeoutError(f"the page never got ready: {ready}")
            time.sleep(0.2)

    def settle(self, seconds: float = 0.5) -> None:
        """Let pending events (late console messages, requests) arrive."""
        self.ws.settimeout(0.2)
        deadline = time.time() + seconds
        try:
            while time.time() < deadline:
                try:
                    self.events.append(json.loads(self.ws.recv()))
                except Exception:   # websocket timeout: nothing pending
                    pass
        finally:
            self.ws.settimeout(self.timeout)

    def console_errors(self) -> list[str]:
        errors = []
        for e in self.events:
            method, params = e.get("method"), e.get("params") or {}
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description"))) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails") or {}
                errors.append((details.get("exception") or {}).get("description") or details.get("text", "exception"))
            elif method == "Log.entryAdded" and (params.get("entry") or {}).get("level") == "error":
                errors.append(params["entry"].get("text", ""))
        return errors

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def screenshot(self, path: Path, selector: str | None = None, max_height: int = 6000) -> Path:
        """The whole page (or the element `selector`), up to `max_height` pixels, as a PNG."""
        box = self.evaluate(
            "(function(){var e=%s;var r=e.getBoundingClientRect();return {x:r.left+window.scrollX,"
            "y:r.top+window.scrollY,w:Math.max(r.width,document.documentElement.clientWidth),h:r.height};})()"
            % (f"document.querySelector({json.dumps(selector)})" if selector else "document.documentElement"))
        clip = {"x": 0, "y": box["y"], "width": box["w"], "height": min(box["h"], max_height), "scale": 1}
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)
