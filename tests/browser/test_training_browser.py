"""The training screens in a real browser: an admin previews the data, clicks Train (twice, as
an impatient person does), watches the run page fill in its progress and loss curve while a
real Celery worker trains a tiny causal model, then promotes the new version and rolls back."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, DocumentFactory, UserFactory, iteration_in_review
from webapp.registry.models import ModelVersion
from webapp.registry.services import model_version_activate, model_version_active
from webapp.training.models import TrainingRun
from webapp.writing import services as writing

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
TRAINING_TIMEOUT = 180_000  # ms


def test_train_watch_promote_and_roll_back_in_the_browser(
    live_server, celery_worker, tiny_causal_model_path, page, console_errors
):
    base = model_version_activate(
        version=ModelVersion.objects.create(name="tiny causal", base_model=tiny_causal_model_path)
    )
    writer = UserFactory(role="writer")
    UserFactory(role="admin", username="ada")
    for animal in ("cat", "dog", "fox", "owl"):
        text = f"The {animal} sat on the the mat. The {animal} were happy."
        iteration = iteration_in_review(
            DocumentFactory(owner=writer, original_text=text, current_text=text),
            f"The {animal} sat on the mat. The {animal} was happy.",
            model_version=base,
        )
        for proposal, verdict in zip(iteration.proposals.order_by("index"), ("accept", "reject")):
            writing.proposal_decide(proposal=proposal, user=writer, verdict=verdict)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Training").click()
    expect(page.get_by_role("heading", name="Training", exact=True)).to_be_visible()
    # The preview says what a snapshot would hold: 8 rows, 4 of them pairs.
    expect(page.locator("#preview")).to_contain_text("8 rows, 4 of them pairs")

    page.fill("#id_held_out_percent", "50")  # half held out: the new version gets evaluated on them
    page.select_option("#id_method", "dpo")
    page.locator("details summary").click()
    page.fill("#id_max_steps", "6")
    page.fill("#id_batch_size", "2")
    page.fill("#id_learning_rate", "0.05")
    page.locator("#train-button").dblclick()
    expect(page.locator("h1")).to_contain_text("DPO (direct preference optimisation)", timeout=15_000)
    assert TrainingRun.objects.count() == 1  # the double click made one run
    run = TrainingRun.objects.get()

    # The page polls: the run goes through its steps, draws its loss curve and ends succeeded.
    expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=TRAINING_TIMEOUT)
    expect(page.locator("#run-steps")).to_have_text("step 6 of 6")
    expect(page.locator("#loss-chart polyline")).to_have_count(1)
    expect(page.locator("#loss-chart circle")).to_have_count(6)
    expect(page.locator("#run-version a")).to_be_visible()
    expect(page.locator(".job-text")).to_contain_text("evaluated on")
    new_version = ModelVersion.objects.get(training_run=run)

    page.locator("#run-version a").click()
    expect(page.locator("#lineage")).to_contain_text("tiny causal")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#promote").click()
    expect(page.locator(".message")).to_contain_text("is now the active version")
    expect(page.locator(f"#version-{new_version.pk}")).to_have_attribute("data-active", "true")
    assert model_version_active() == new_version
    expect(page.locator("#figures-per-version")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#rollback").click()
    expect(page.locator(".message")).to_contain_text("Rolled back")
    expect(page.locator(f"#version-{base.pk}")).to_have_attribute("data-active", "true")
    assert model_version_active() == base
    assert console_errors == []
