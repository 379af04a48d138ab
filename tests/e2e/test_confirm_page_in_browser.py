"""A rep opens the emailed link in a real browser (headless Chromium) and confirms: the case resolves."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from functions.action_page.app import lambda_handler as action_page
from local_cloud.runner import ActionServer
from tests.integration.test_case_workflow import SAM, _start
from tests.workflow_harness import Cloud, action_links, create_function, wait_for_end, wait_until


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


@pytest.fixture
def confirm_server(cloud: Cloud) -> Iterator[str]:
    name = "action-page"
    create_function(name, _role())  # the role the cloud fixture created
    cloud.lambdas.register(name, action_page)
    server = ActionServer()
    base = server.bind(0)
    server.function_name = name
    server.start()
    try:
        yield base
    finally:
        server.stop()


def _role() -> str:
    import boto3

    return str(boto3.client("iam").get_role(RoleName="turnaround-test")["Role"]["Arn"])


def test_rep_confirms_in_a_browser_and_the_case_resolves(cloud, confirm_server, browser):
    case_id, _ = _start(
        cloud, "bob", "@acmeair my duty-free order is late, tracking hasn't moved since Monday"
    )
    [message] = wait_until(lambda: cloud.emails_to(SAM), what="the escalation email")
    link = urlsplit(action_links(message)["resolved"])
    browser.get(f"{confirm_server.rstrip('/')}{link.path}?{link.query}")

    assert "Mark as resolved" in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.NAME, "note").send_keys("Parcel found at the depot")
    browser.find_element(By.ID, "confirm").click()
    WebDriverWait(browser, 10).until(
        expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Done")
    )

    assert wait_for_end(cloud.execution_arn(case_id))["status"] == "SUCCEEDED"
    case = cloud.store.get_case(case_id)
    assert case["resolution_note"] == "Parcel found at the depot" and case["outcome"] == "resolved"
