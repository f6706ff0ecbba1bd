"""The fixture report opened in headless Chromium (Debian's package, installed by .ci/run): no console errors,
no broken images, no request leaving the file, and a full-page screenshot (kept in MEDSYN_SCREENSHOT_DIR when
set, for a look by a human)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medsyn.report.browser import check_report, chromium_path
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
    assert result["images"] == 5
    assert result["broken_images"] == []
    assert result["console_errors"] == [] and result["page_errors"] == []
    assert result["outside_requests"] == [] and result["failed_requests"] == []
    png = Path(result["screenshot"]).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    assert result["height_px"] > 3000  # the whole page rendered, not an error stub


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
