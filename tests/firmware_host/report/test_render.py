"""The report as a reader sees it: the HTML in headless Chromium, the PDF pages through pdftoppm.

Needs Debian's ``chromium`` and ``poppler-utils``; skipped with the reason when absent.
The whole-night case runs the real loop on an 8-h synthetic night first (slow).
"""

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from firmware_host.cli import main
from firmware_host.report.writer import render_report
from tests.firmware_host.report.builder import make_session
from tests.jit import needs_jit

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFTOPPM = shutil.which("pdftoppm")


def ink(png) -> float:
    """Fraction of pixels that are not (near) white."""
    a = np.asarray(Image.open(png).convert("L"))
    return float(np.mean(a < 235))


def screenshot(html, out, tmp_path, height):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'chromium'}",
           f"--window-size=1280,{height}", f"--screenshot={out}", html.as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)
    return out


def pdf_pages(pdf, tmp_path):
    subprocess.run([PDFTOPPM, "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True,
                   capture_output=True, timeout=180)
    return sorted(tmp_path.glob("page-*.png"))


@pytest.fixture(scope="module")
def small_night(tmp_path_factory):
    labels = ["W", "W", "N1", "N2", "N2", "N3", "N3", "N2", "REM", "REM", "W", "N2"] * 4
    return make_session(tmp_path_factory.mktemp("small") / "night", labels, gaps=[20], bad_seconds=range(90))


@pytest.fixture(scope="module")
def full_night(tmp_path_factory):
    path = tmp_path_factory.mktemp("full") / "night"
    assert main(["run", "--duration", "8h", "--session-dir", str(path), "--quiet"]) == 0
    return path


def check_rendering(session, tmp_path):
    html, pdf = render_report(session, tmp_path / "report")
    if CHROMIUM is None:
        pytest.skip("Debian package 'chromium' is not installed (apt-get install chromium)")
    shot = screenshot(html, tmp_path / "report.png", tmp_path, 6000)
    assert Image.open(shot).size == (1280, 6000)
    top = Image.open(shot).crop((0, 0, 1280, 3000))
    top.save(tmp_path / "top.png")
    assert ink(tmp_path / "top.png") > 0.05                      # text, tables and figures, not blank
    if PDFTOPPM is None:
        pytest.skip("Debian package 'poppler-utils' (pdftoppm) is not installed")
    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) >= 3                                        # summary, overview figure, interventions
    assert all(ink(p) > 0.005 for p in pages)
    assert ink(pages[1]) > 0.1                                    # the overview figure fills its page
    return shot, pages


def test_small_night_renders(small_night, tmp_path):
    check_rendering(small_night, tmp_path)


@pytest.mark.slow
@needs_jit("an 8-h night through pure-Python kernels takes about an hour; the small "
                    "night above renders the same report sections without JIT")
def test_full_synthetic_night_renders(full_night, tmp_path):
    check_rendering(full_night, tmp_path)
