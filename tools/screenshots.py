#!/usr/bin/env python3
# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Take the README's screens from a running Odoo that serves a crm_billing demo
database, in a real (headless) Chromium at a desktop size.

    tools/serve.sh                      # or any Odoo serving the demo database
    python3 tools/screenshots.py [--url http://localhost:8069] [--db crm_billing]

The images are written to static/description/ (PNG, reduced to a palette so that
each stays small). Chromium is driven over the DevTools protocol (websocket-client);
nothing is written to the database: the script only logs in and looks.
"""

import argparse
import base64
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar

import websocket
from PIL import Image

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(HERE, "static", "description")


class Odoo:
    """JSON-RPC to find the demo records to show, with the session of one user."""

    def __init__(self, url, db, login, password):
        self.url = url
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self._call("/web/session/authenticate", {"db": db, "login": login, "password": password})

    def _call(self, path, params):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode()
        request = urllib.request.Request(
            self.url + path, body, {"Content-Type": "application/json"}
        )
        with self.opener.open(request, timeout=120) as response:
            answer = json.load(response)
        if answer.get("error"):
            raise RuntimeError(answer["error"]["data"]["message"])
        return answer["result"]

    def call(self, model, method, *args, **kwargs):
        return self._call(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        [row] = self.call(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            ["res_id"],
        )
        return row["res_id"]

    @property
    def session_id(self):
        return next(cookie.value for cookie in self.jar if cookie.name == "session_id")


class Chromium:
    """A headless Chromium and one page of it, driven over the DevTools protocol."""

    def __init__(self, width, height):
        self.profile = tempfile.mkdtemp(prefix="crm_billing_shots_")
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        binary = binary or shutil.which("google-chrome")
        self.process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                # Chromium 111 and newer refuse the DevTools socket to other origins
                "--remote-allow-origins=*",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        for _attempt in range(100):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.2)
        port = open(port_file).read().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as response:
            page = next(target for target in json.load(response) if target["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=120)
        self.next_id = 0
        self.send("Page.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def set_session(self, url, session_id):
        self.send("Network.clearBrowserCookies")
        self.send("Network.setCookie", name="session_id", value=session_id, url=url)

    def wait_for(self, selector, timeout=60):
        test = f"!!document.querySelector({json.dumps(selector)})"
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(test):
                return
            time.sleep(0.3)
        raise TimeoutError(f"{selector} did not appear")

    def click(self, selector):
        self.wait_for(selector)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def open(self, url, selector):
        self.send("Page.navigate", url=url)
        time.sleep(1)
        self.wait_for(selector)

    def capture(self, name):
        time.sleep(1.5)  # animations, fonts, graphs drawn
        data = base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])
        image = Image.open(io.BytesIO(data)).convert("RGB")
        image = image.quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        path = os.path.join(OUT, name)
        image.save(path, optimize=True)
        print(f"{path}: {os.path.getsize(path) // 1024} KB")

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="crm_billing")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--portal-login", default="portal")
    parser.add_argument("--portal-password", default="portal")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    url = args.url.rstrip("/")

    admin = Odoo(url, args.db, args.login, args.password)
    schedule = admin.ref("crm_billing.demo_schedule_acme")
    customer = admin.ref("crm_billing.demo_partner_acme")
    portal_schedule = admin.ref("crm_billing.demo_schedule_portal")
    # a confirmed order no plan covers yet, for the Billing Plan wizard
    [order] = admin.call(
        "sale.order",
        "search_read",
        [
            ("state", "=", "sale"),
            ("invoice_status", "=", "to invoice"),
            ("billing_schedule_ids", "=", False),
        ],
        ["id"],
        limit=1,
        order="amount_total desc",
    )
    portal = Odoo(url, args.db, args.portal_login, args.portal_password)

    browser = Chromium(args.width, args.height)
    try:
        browser.set_session(url, admin.session_id)
        browser.open(
            f"{url}/odoo/action-crm_billing.crm_billing_schedule_action/{schedule}",
            ".o_form_view .o_field_widget[name='line_ids'] .o_data_row",
        )
        browser.capture("screen_schedule_form.png")

        browser.open(
            f"{url}/odoo/action-crm_billing.crm_billing_schedule_action?view_type=kanban",
            ".o_kanban_renderer .o_kanban_record",
        )
        # every status, not only the running schedules the list opens on
        browser.click(".o_searchview_facet .o_facet_remove")
        browser.wait_for(".o_kanban_group:nth-child(4) .o_kanban_record")
        browser.capture("screen_schedule_kanban.png")

        browser.open(
            f"{url}/odoo/action-sale.action_orders/{order['id']}",
            ".o_form_view button[name='action_create_billing_schedule']",
        )
        browser.click(".o_form_view button[name='action_create_billing_schedule']")
        browser.wait_for(".modal .o_field_widget[name='billing_mode']")
        browser.click(".modal .o_field_widget[name='billing_mode'] input[data-value='instalment']")
        browser.wait_for(".modal .o_field_widget[name='instalment_ids'] .o_data_row")
        browser.capture("screen_billing_plan_wizard.png")

        browser.open(
            f"{url}/odoo/action-base.action_partner_form/{customer}",
            ".o_form_view .o_notebook a[name='crm_billing']",
        )
        browser.click(".o_form_view .o_notebook a[name='crm_billing']")
        browser.wait_for(".o_form_view .o_notebook a[name='crm_billing'].active")
        browser.capture("screen_customer_billing_tab.png")

        browser.open(
            f"{url}/odoo/action-crm_billing.crm_billing_mrr_report_action",
            ".o_graph_view canvas",
        )
        browser.capture("screen_mrr_graph.png")

        browser.set_session(url, portal.session_id)
        browser.open(f"{url}/my/billing/{portal_schedule}", "#wrap, main")
        browser.capture("screen_portal_schedule.png")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
