"""Debian's chromium, headless, driven by Selenium through Debian's chromedriver: the browser
tests and the README pictures of the web intake (as libreoffice.py is for the workbooks).

Nothing is downloaded: chromium and chromium-driver come from apt (scripts/install-system-deps)
and are built from the same source package, so the driver always fits the browser; Selenium
Manager, which would fetch a driver of its own, is told to stay offline. Selenium is a test
dependency: import this module only where it is installed.
"""

from __future__ import annotations

import base64
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # needed as root (CI runs as root); the pages are our own
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=sv-SE",
)


@contextmanager
def chromium(profile: Path, downloads: Path | None = None, width: int = 1200, height: int = 900,
             flags: Sequence[str] = ()) -> Iterator[webdriver.Chrome]:
    """A headless chromium with an empty profile in `profile`, saving downloads into `downloads`;
    `flags` are added to chromium's command line."""
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or CHROMIUM
    for flag in (*FLAGS, *flags, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    if downloads is not None:
        downloads.mkdir(parents=True, exist_ok=True)
        options.add_experimental_option(
            "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
        )
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or CHROMEDRIVER), options=options)
    try:
        if downloads is not None:
            driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        yield driver
    finally:
        driver.quit()


def click_and_wait(driver: webdriver.Chrome, element: WebElement, timeout: float = 60) -> None:
    """Click a button or link that loads a new page, and wait until the new page is there."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, timeout).until(lambda _driver: _gone(page))


# What chromedriver answers, instead of "stale element", when asked about a node of a document it is
# just replacing (seen in CI: a race of the navigation with the question, not an error of the page).
_NODE_OF_OLD_DOCUMENT = ("does not belong to the document", "No node with given id")


def _gone(element: WebElement) -> bool:
    """Has the element's document been replaced? (selenium's staleness_of, which knows only the
    "stale element" answer)."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if any(text in (exc.msg or "") for text in _NODE_OF_OLD_DOCUMENT):
            return True
        raise
    return False


def wait_for_download(folder: Path, pattern: str = "*.xlsx", timeout: float = 60) -> Path:
    """The first finished download in `folder` (chromium writes .crdownload files until done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = sorted(folder.glob(pattern))
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.1)
    raise TimeoutError(f"no download in {folder} within {timeout:.0f} s")


def whole_page(driver: webdriver.Chrome, path: Path, width: int = 1200) -> Path:
    """A PNG of the whole page at `width` pixels, however long it is (the DevTools protocol's
    screenshot beyond the viewport: a window cannot be made taller than the virtual screen)."""
    driver.set_window_size(width, driver.get_window_size()["height"])
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path
