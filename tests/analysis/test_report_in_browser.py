"""The report as a person sees it: report.html of a finished tiny sweep in headless Chromium."""

from __future__ import annotations

import shutil

import pytest
import yaml
from support.sweeps import tiny_sweep_data

from orchestrator.cli.analyze import analyze
from orchestrator.execution.submit import submit
from orchestrator.planning.plan import plan_sweep
from orchestrator.sweep.spec import SweepSpec

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,2000",
)


def browser():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip(
            "headless Chromium is not installed: `make browser` (Debian chromium, chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def test_report_html_shows_every_image_and_section(settings, tmp_path):
    data = tiny_sweep_data("browser")
    data["experiments"][0]["grid"]["mask_fit.regularization_weight"] = [1e-4, 1e-3]
    plan = plan_sweep(SweepSpec.model_validate(yaml.safe_load(yaml.safe_dump(data))))
    assert submit(plan, settings, "local").ok
    report, _ = analyze(settings, "browser")
    driver = browser()
    try:
        driver.get((report.parent / "report.html").as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])"
        )
        headings = driver.execute_script(
            "return Array.from(document.querySelectorAll('h2, h3')).map(h => h.textContent)"
        )
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1280, min(height + 100, 16000))
        driver.save_screenshot(str(tmp_path / "report.png"))
        shutil.copy(tmp_path / "report.png", settings.workspace / "report.png")
    finally:
        driver.quit()
    assert len(images) >= 7 and all(loaded for _, loaded in images), images
    for section in (
        "The paper's claims",
        "Weight sharing between the add and mul masks, per layer",
        "Accuracy of the base model, each mask and each inverted mask",
        "Is the module more than damage? not-f against random-f",
        "Mask-fit convergence",
        "Control-mask keep probabilities",
        "addmul_ff: across settings",
    ):
        assert section in headings, (section, headings)
    assert (tmp_path / "report.png").stat().st_size > 10_000
