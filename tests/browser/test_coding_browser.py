"""The coding screens in a real browser: state a problem, get candidates and tests from a real
worker (tiny code model, sandbox), open a matrix cell's traceback, validate a test and accept a
candidate as the solution by keyboard."""

import pytest
from playwright.sync_api import expect

from inference.tiny_code import problem as tiny_problem
from tests.factories import PASSWORD, UserFactory
from webapp.coding.models import Problem
from webapp.registry.models import ModelVersion
from webapp.registry.services import model_version_activate

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
ROUND_TIMEOUT = 180_000  # ms


def test_problem_matrix_and_decisions_in_the_browser(
    live_server, celery_worker, tiny_code_model_path, page, console_errors
):
    model_version_activate(
        version=ModelVersion.objects.create(name="tiny code", kind="coder", base_model=tiny_code_model_path)
    )
    UserFactory(role="developer", username="dev")
    spec = tiny_problem("add").spec

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "dev")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Problems").click()
    page.fill("#id_statement", spec.statement)
    page.fill("#id_entry_point", spec.entry_point)
    page.fill("#id_signature", spec.signature)
    page.fill("#id_tests", "assert add(2, 2) == 4")
    page.get_by_role("button", name="Save the problem").click()
    expect(page.locator("#problem-title")).to_be_visible()
    problem = Problem.objects.get()

    page.locator("#start-round").click()
    expect(page.locator("#matrix")).to_be_visible(timeout=ROUND_TIMEOUT)
    expect(page.locator("#work")).to_have_attribute("data-open", "false")
    cells = page.locator("#matrix td.cell a")
    assert cells.count() >= 1
    cells.first.click()
    expect(page.locator("#execution-panel .execution")).to_be_visible()
    expect(page.locator("#execution-panel")).to_contain_text("Run 1")

    # Validate the first model test with its button.
    model_test = page.locator('.test[data-verdict="undecided"]').first
    test_id = model_test.get_attribute("id")
    model_test.locator("button.accept").click()
    expect(page.locator(f"#{test_id}")).to_have_attribute("data-verdict", "accept")

    # Keyboard: j focuses the best candidate, a accepts it as the solution.
    page.locator("body").press("j")
    expect(page.locator(".item.focused")).to_have_count(1)
    focused = page.locator(".item.focused").get_attribute("id")
    assert focused.startswith("candidate-")
    page.keyboard.press("a")
    expect(page.locator("#solution")).to_be_visible()
    problem.refresh_from_db()
    assert problem.solution_id == int(focused.removeprefix("candidate-"))
    assert console_errors == []
