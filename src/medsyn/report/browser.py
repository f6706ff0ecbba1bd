"""Open a report in headless Chromium: console errors, broken images, outside requests, layout at each width, and
a screenshot per width.

    .venv/bin/python -m medsyn.report.browser results/report.html --screenshot report.png --widths 1280 390

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
FIRST_SCREEN_PX = 800  # the height of a laptop's first screen: the overview's answer must start above it
WIDTHS = (1280, 390)  # a laptop and a phone

# Measured in the page: what sticks out of the page, what needs sideways scrolling inside its own box, and where
# the overview starts. A table may scroll inside its box on a phone only if it is marked "wide" in the template.
LAYOUT_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const name = el => (el.id ? '#' + el.id : '') + (el.className ? '.' + String(el.className).split(' ')[0] : '')
      || el.tagName.toLowerCase();
  const heads = Array.from(document.querySelectorAll('h2, h3')).map(h => [h.getBoundingClientRect().top, h.textContent]);
  const where = el => {  // the heading above the element, to name it in a message
    const top = el.getBoundingClientRect().top; let at = 'top';
    for (const [t, text] of heads) { if (t <= top) at = text.trim().slice(0, 40); }
    return '"' + at + '" ' + el.tagName.toLowerCase(); };
  const out = {viewport: vw, page_width: document.documentElement.scrollWidth, sticking_out: [], scrolling: [],
               images_too_wide: [], images_without_alt: []};
  for (const el of document.querySelectorAll('table, figure, img, pre, div, p, h1, h2, h3, ul')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 1 || r.left < -1)) out.sticking_out.push(where(el) + ' ' + name(el));
  }
  for (const box of document.querySelectorAll('.wide, table')) {
    if (box.scrollWidth > box.clientWidth + 1) out.scrolling.push(where(box));
  }
  for (const img of document.images) {
    if (img.getBoundingClientRect().width > vw) out.images_too_wide.push(img.alt);
    if (!img.alt || !img.alt.trim()) out.images_without_alt.push(img.src.slice(0, 40));
  }
  const ov = document.getElementById('overview-reading');
  out.overview_top = ov ? ov.getBoundingClientRect().top + window.scrollY : null;
  return out;
}"""


def chromium_path() -> str | None:
    return os.environ.get("MEDSYN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def check_report(html_path: str | Path, screenshot: str | Path | None = None, width: int = 1280,
                 widths: tuple[int, ...] | None = None) -> dict:
    """Load the file at each width (``widths``, else ``width``), wait for every image, and return what went wrong
    (empty lists = a clean page) and the layout per width. With ``screenshot`` (``x.png``) it saves ``x.png`` at
    the first width and ``x-<width>.png`` at the others, full page, and each one's first screen beside it
    (``x-first-screen.png``, ``x-<width>-first-screen.png``)."""
    from playwright.sync_api import sync_playwright  # a test extra (pyproject [test]), not a dependency of medsyn

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("no Chromium found: install Debian's 'chromium' package or set MEDSYN_CHROMIUM")
    html_path = Path(html_path).resolve()
    widths = tuple(widths or (width,))
    result = {"console_errors": [], "page_errors": [], "outside_requests": [], "failed_requests": [],
              "layout": {}, "screenshots": {}}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            for i, w in enumerate(widths):
                page = browser.new_page(viewport={"width": w, "height": FIRST_SCREEN_PX})
                if i == 0:
                    page.on("console", lambda m: m.type == "error" and result["console_errors"].append(m.text))
                    page.on("pageerror", lambda e: result["page_errors"].append(str(e)))
                    page.on("requestfailed", lambda r: result["failed_requests"].append(r.url[:120]))
                    page.on("request", lambda r: r.url.startswith(("http:", "https:", "ws:"))
                            and result["outside_requests"].append(r.url))
                page.goto(html_path.as_uri(), wait_until="load")
                if i == 0:
                    result["images"] = page.evaluate("document.images.length")
                    result["broken_images"] = page.evaluate(
                        "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
                        ".map(i => i.alt)")
                    result["title"] = page.title()
                    result["height_px"] = page.evaluate("document.body.scrollHeight")
                result["layout"][w] = page.evaluate(LAYOUT_JS)
                if screenshot:
                    shot = Path(screenshot)
                    shot = shot if i == 0 else shot.with_name(f"{shot.stem}-{w}{shot.suffix}")
                    page.screenshot(path=str(shot), full_page=True)
                    first = shot.with_name(f"{shot.stem}-first-screen{shot.suffix}")
                    page.screenshot(path=str(first))  # what a reader sees on opening the file
                    result["screenshots"][str(w)] = str(shot)
                    result["screenshots"][f"{w}-first-screen"] = str(first)
                    if i == 0:
                        result["screenshot"] = str(shot)
                page.close()
        finally:
            browser.close()
    return result


def layout_problems(result: dict, wide_tables_may_scroll_below: int = 600) -> list[str]:
    """What a reader would see go wrong, per width: the page scrolling sideways, an element sticking out, a figure
    wider than the screen, an image without alt text, the overview not starting on the first screen, and (from
    ``wide_tables_may_scroll_below`` px up) a table that needs sideways scrolling in its own box."""
    problems = []
    for w, lay in result["layout"].items():
        if lay["page_width"] > lay["viewport"]:
            problems.append(f"{w}px: the page is {lay['page_width']}px wide")
        problems += [f"{w}px: sticks out: {s}" for s in lay["sticking_out"]]
        problems += [f"{w}px: image wider than the screen: {s}" for s in lay["images_too_wide"]]
        problems += [f"{w}px: image without alt text: {s}" for s in lay["images_without_alt"]]
        if lay["overview_top"] is None or lay["overview_top"] > FIRST_SCREEN_PX:
            problems.append(f"{w}px: the overview starts at {lay['overview_top']}px, below the first screen")
        if int(w) >= wide_tables_may_scroll_below:
            problems += [f"{w}px: scrolls sideways: {s}" for s in lay["scrolling"]]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html")
    parser.add_argument("--screenshot", help="x.png: saved at the first width, x-<width>.png at the others")
    parser.add_argument("--widths", type=int, nargs="+", default=list(WIDTHS))
    args = parser.parse_args(argv)
    result = check_report(args.html, args.screenshot, widths=tuple(args.widths))
    result["layout_problems"] = layout_problems(result)
    print(json.dumps(result, indent=2))
    bad = any(result[k] for k in ("console_errors", "page_errors", "outside_requests", "failed_requests",
                                  "broken_images", "layout_problems"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
