"""A rep opens the emailed link in a real browser (headless Chromium) and confirms: the case resolves."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from local_cloud.cloud import action_links
from tests.cloud import wait_for_end, wait_until

SAM = "sam.evans@acmeair.example"


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "Debian's chromium and chromium-driver are needed: run `make browser`"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(flag)
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.mark.parametrize(
    "playbook_overrides",
    [
        {
            "sla": {"rep_response_seconds": 600, "supervisor_response_seconds": 600},
            "follow_up": {"delay_seconds": 0, "window_seconds": 1},  # a public case listens this long
        }
    ],
)
def test_rep_confirms_in_a_browser_and_the_case_resolves(cloud, browser):
    """The link in the email is the function URL the stack serves on loopback: opened as it is."""
    post = cloud.emulator.add_post(
        "bob", "@acmeair my duty-free order is late, tracking hasn't moved since Monday"
    )
    cloud.poll()
    case_id = f"case-{post.id}"
    [message] = wait_until(lambda: cloud.emails_to(SAM), what="the escalation email")
    browser.get(action_links(message)["resolved"])

    assert "Mark as resolved" in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.NAME, "note").send_keys("Parcel found at the depot")
    browser.find_element(By.ID, "confirm").click()
    WebDriverWait(browser, 10).until(
        expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Done")
    )

    assert wait_for_end(cloud.execution_arn(case_id))["status"] == "SUCCEEDED"
    case = cloud.store.cases.get(case_id)
    assert case.resolution_note == "Parcel found at the depot" and case.outcome == "resolved_no_follow_up"
