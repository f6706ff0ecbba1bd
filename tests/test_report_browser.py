"""The fixture report opened in headless Chromium (Debian's package, installed by .ci/run): no console errors,
no broken images, no request leaving the file, and a full-page screenshot (kept in MEDSYN_SCREENSHOT_DIR when
set, for a look by a human)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medsyn.report.browser import FIRST_SCREEN_PX, check_report, chromium_path, layout_problems
from report_fixture import render_fixture

pytest.importorskip("playwright", reason="playwright is in the test extra: bash scripts/install.sh --test")
if chromium_path() is None:
    if os.environ.get("CI"):  # .ci/run installs Chromium: a missing browser there is a failure, not a skip
        raise RuntimeError("CI: Debian's chromium is not installed (see .ci/run)")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


def test_report_opens_cleanly_in_headless_chromium(tmp_path):
    render_fixture(tmp_path)
    shots = Path(os.environ.get("MEDSYN_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    result = check_report(tmp_path / "report.html", shots / "fixture_report.png")
    assert result["title"] == "medsyn report"
    assert result["images"] == 6
    assert result["broken_images"] == []
    assert result["console_errors"] == [] and result["page_errors"] == []
    assert result["outside_requests"] == [] and result["failed_requests"] == []
    png = Path(result["screenshot"]).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    assert result["height_px"] > 3000  # the whole page rendered, not an error stub


def test_fixture_report_fits_a_laptop_and_a_phone_with_the_overview_on_the_first_screen(tmp_path):
    render_fixture(tmp_path)
    shots = Path(os.environ.get("MEDSYN_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    result = check_report(tmp_path / "report.html", shots / "fixture_layout.png", widths=(1280, 390))
    assert layout_problems(result) == []
    for width in (1280, 390):
        lay = result["layout"][width]
        assert lay["page_width"] == width and 0 < lay["overview_top"] < FIRST_SCREEN_PX
    # on a phone, wide tables (the metric details, the privacy intervals) scroll inside their own box, never the page
    assert result["layout"][1280]["scrolling"] == []
    assert sorted(result["screenshots"]) == ["1280", "1280-first-screen", "390", "390-first-screen"]


def test_the_layout_check_catches_a_wide_table_a_wide_image_and_a_missing_overview(tmp_path):
    cells = "".join(f"<td>column number {i}</td>" for i in range(40))
    page = tmp_path / "wide.html"
    page.write_text('<!DOCTYPE html><html><head><title>wide</title><meta name="viewport" '
                    'content="width=device-width, initial-scale=1"></head><body><h2>Leaderboard</h2>'
                    f'<div class="wide" style="overflow-x:auto"><table><tr>{cells}</tr></table></div>'
                    '<img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" style="width:2000px">'
                    '</body></html>')
    problems = layout_problems(check_report(page, widths=(1280,)))
    assert '1280px: scrolls sideways: "Leaderboard" div' in problems
    assert any(p.startswith("1280px: image without alt text") for p in problems)
    assert any(p.startswith("1280px: image wider than the screen") for p in problems)
    assert "1280px: the overview starts at Nonepx, below the first screen" in problems
    assert any(p.startswith("1280px: the page is") for p in problems)


def test_the_browser_check_catches_broken_images_and_console_errors(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><title>bad</title></head><body>'
                    '<img alt="broken" src="data:image/png;base64,AAAA">'
                    '<script>console.error("boom")</script></body></html>')
    result = check_report(page)
    assert result["broken_images"] == ["broken"]
    assert any("boom" in e for e in result["console_errors"])


@pytest.mark.skipif(not os.environ.get("MEDSYN_REPORT_HTML"), reason="set MEDSYN_REPORT_HTML=<report.html> to check a real run's report")
def test_a_real_run_report_opens_cleanly(tmp_path):
    """The same checks on a report of a real run, e.g. MEDSYN_REPORT_HTML=results/report.html."""
    html = Path(os.environ["MEDSYN_REPORT_HTML"])
    shots = Path(os.environ.get("MEDSYN_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    result = check_report(html, shots / f"{html.parent.parent.name or 'run'}_report.png")
    assert result["images"] >= 5 and result["broken_images"] == []
    assert result["console_errors"] == [] and result["page_errors"] == []
    assert result["outside_requests"] == [] and result["failed_requests"] == []
