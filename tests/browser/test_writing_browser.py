"""The writing screens in a real browser: log in, paste a document, ask for edits, decide by
keyboard and by click, apply and revise again, and read the history. Generation runs in a
real Celery worker with the tiny model."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory
from webapp.writing.models import Decision, Document, Iteration

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TEXT = "The writer have finished the letter yesterday. She read the proposal carefully. They needs the budget today."
GENERATION_TIMEOUT = 120_000  # ms: the worker loads the model on its first round


def test_review_loop_in_the_browser(live_server, celery_worker, tiny_model_version, page, console_errors):
    writer = UserFactory(role="writer", username="wanda")

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "wanda")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()

    page.fill("#id_title", "Browser letter")
    page.fill("#id_text", TEXT)
    page.get_by_role("button", name="Create document").click()
    expect(page.locator("#document-title")).to_have_text("Browser letter")
    document = Document.objects.get(owner=writer, title="Browser letter")
    assert document.current_text == TEXT

    page.get_by_role("button", name="Suggest edits").click()
    edits = page.locator("#redline .edit")
    expect(edits.first).to_be_visible(timeout=GENERATION_TIMEOUT)
    assert edits.count() >= 2
    expect(page.locator("#depth")).to_have_text("Depth 1 of 5")
    first_round = Iteration.objects.get(document=document, number=1)
    assert first_round.status == Iteration.Status.REVIEW

    # Keyboard: the first undecided edit has the focus on load; j moves to the next, a accepts it.
    page.locator("body").press("j")
    focused = page.locator("#redline .edit.focused")
    expect(focused).to_have_count(1)
    accepted_id = focused.get_attribute("id")
    assert accepted_id == edits.nth(1).get_attribute("id")
    page.keyboard.press("a")
    expect(page.locator(f"#{accepted_id}")).to_have_attribute("data-decision", "accept")

    # Click: reject the first edit with its button.
    rejected_id = edits.nth(0).get_attribute("id")
    page.locator(f"#{rejected_id} button.reject").click()
    expect(page.locator(f"#{rejected_id}")).to_have_attribute("data-decision", "reject")
    expect(page.locator('#counts [data-count="decided"]')).to_have_text("2")

    current = {
        d.proposal_id: d.verdict for d in Decision.objects.filter(proposal__iteration=first_round, is_current=True)
    }
    assert current == {
        int(accepted_id.removeprefix("edit-")): "accept",
        int(rejected_id.removeprefix("edit-")): "reject",
    }

    page.get_by_role("button", name="Apply and revise again").click()
    # The next round: running, then (polling) in review or closed with nothing left to propose.
    expect(page.locator("#depth")).to_have_text("Depth 2 of 5", timeout=GENERATION_TIMEOUT)
    expect(page.locator("#round")).to_have_attribute(
        "data-state", re.compile("^(review|converged|idle)$"), timeout=GENERATION_TIMEOUT
    )
    second_round = Iteration.objects.get(document=document, number=2)
    assert second_round.depth == 2
    assert second_round.status in (Iteration.Status.REVIEW, Iteration.Status.APPLIED)
    assert second_round.model_version == tiny_model_version

    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    rounds = page.locator("article.history-round")
    expect(rounds).to_have_count(2)
    expect(rounds.nth(0)).to_contain_text("Round 1")
    expect(rounds.nth(1)).to_contain_text("Round 2")
    first = rounds.nth(0)
    expect(first.locator(f"#proposal-{accepted_id.removeprefix('edit-')} .decision-history .current")).to_contain_text(
        "accept by wanda"
    )
    expect(first.locator(f"#proposal-{rejected_id.removeprefix('edit-')} .decision-history .current")).to_contain_text(
        "reject by wanda"
    )
    expect(first.locator(".verdict-accept")).to_have_count(1)
    expect(first.locator(".verdict-reject")).to_have_count(1)

    assert console_errors == []
