"""Open a report in headless Chromium: console errors, broken images, outside requests, and a screenshot.

    .venv/bin/python -m medsyn.report.browser results/report.html --screenshot report.png

Needs Debian's ``chromium`` (or MEDSYN_CHROMIUM=<path>) and the ``playwright`` Python package (test extra; it
drives the system browser, nothing is downloaded).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

# This machine's network is closed: without these, Chromium keeps retrying Google's hosts in the background.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    return os.environ.get("MEDSYN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def check_report(html_path: str | Path, screenshot: str | Path | None = None, width: int = 1400) -> dict:
    """Load the file, wait for every image, and return what went wrong (empty lists = a clean page)."""
    from playwright.sync_api import sync_playwright  # a test extra (pyproject [test]), not a dependency of medsyn

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("no Chromium found: install Debian's 'chromium' package or set MEDSYN_CHROMIUM")
    html_path = Path(html_path).resolve()
    result = {"console_errors": [], "page_errors": [], "outside_requests": [], "failed_requests": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on("console", lambda m: m.type == "error" and result["console_errors"].append(m.text))
            page.on("pageerror", lambda e: result["page_errors"].append(str(e)))
            page.on("requestfailed", lambda r: result["failed_requests"].append(r.url[:120]))
            page.on("request", lambda r: r.url.startswith(("http:", "https:", "ws:"))
                    and result["outside_requests"].append(r.url))
            page.goto(html_path.as_uri(), wait_until="load")
            result["images"] = page.evaluate("document.images.length")
            result["broken_images"] = page.evaluate(
                "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt)")
            result["title"] = page.title()
            result["height_px"] = page.evaluate("document.body.scrollHeight")
            if screenshot:
                page.screenshot(path=str(screenshot), full_page=True)
                result["screenshot"] = str(screenshot)
        finally:
            browser.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html")
    parser.add_argument("--screenshot")
    args = parser.parse_args(argv)
    result = check_report(args.html, args.screenshot)
    print(json.dumps(result, indent=2))
    bad = any(result[k] for k in ("console_errors", "page_errors", "outside_requests", "failed_requests",
                                  "broken_images"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
