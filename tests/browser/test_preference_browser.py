"""The labelling screen in a real browser: an annotator labels two pairs and ranks three outputs
by keyboard only, sees the progress counts change with each label as the next comparison takes
the screen, undoes the last label and gets that comparison back."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.preferences.helpers import make_comparisons
from webapp.preferences.models import LabelChange, PreferenceLabel

pytestmark = [pytest.mark.browser]


def test_label_by_keyboard_and_undo_in_the_browser(live_server, page, console_errors):
    project = ProjectFactory(name="Annotation")
    annotator = UserFactory(role="annotator", username="ann")
    project.members.add(annotator)
    first, second = make_comparisons(project, 2, prefix="pair")
    (ranked,) = make_comparisons(project, 1, outputs=3, prefix="three")
    (last,) = make_comparisons(project, 1, prefix="last")

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "ann")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Label").click()  # one project: straight to its queue
    expect(page.locator("h1")).to_have_text("Annotation")
    queue = page.locator("#queue")
    expect(queue).to_have_attribute("data-comparison", str(first.pk))
    expect(page.locator("#count-labelled")).to_have_text("0")
    expect(page.locator("#count-left")).to_have_text("4")
    expect(page.locator("#output-A")).to_contain_text("pair output 0/0")

    # 2: A is better. The answer brings the next pair, focused, and the counts move.
    page.wait_for_timeout(300)  # some time spent looking
    page.keyboard.press("2")
    expect(queue).to_have_attribute("data-comparison", str(second.pk))
    expect(page.locator("#count-labelled")).to_have_text("1")
    expect(page.locator("#count-today")).to_have_text("1")
    expect(page.locator("#count-left")).to_have_text("3")
    assert page.evaluate("document.activeElement && document.activeElement.id") == "queue"

    # 5: B is much better.
    page.keyboard.press("5")
    expect(queue).to_have_attribute("data-comparison", str(ranked.pk))
    expect(page.locator("#count-labelled")).to_have_text("2")
    expect(queue).to_have_attribute("data-mode", "ranking")

    # Three outputs: press 3 then 1, Backspace clears, again 3, 1 and Enter (B goes last).
    page.keyboard.press("3")
    page.keyboard.press("1")
    expect(page.locator("#ranking")).to_have_value("C, A")
    page.keyboard.press("Backspace")
    expect(page.locator("#ranking")).to_have_value("")
    page.keyboard.press("3")
    page.keyboard.press("1")
    expect(page.locator("#ranking-order li")).to_have_count(2)
    page.keyboard.press("Enter")
    expect(queue).to_have_attribute("data-comparison", str(last.pk))
    expect(page.locator("#count-labelled")).to_have_text("3")
    expect(page.locator("#count-left")).to_have_text("1")

    labels = {label.comparison_id: label for label in PreferenceLabel.objects.filter(annotator=annotator)}
    assert (labels[first.pk].choice, labels[second.pk].choice, labels[ranked.pk].ranking) == (
        "a_better",
        "b_much_better",
        [2, 0, 1],
    )
    assert labels[first.pk].seconds_spent is not None and 0.2 < labels[first.pk].seconds_spent < 60

    # u: the last label (the ranking) is undone and its comparison comes back.
    page.keyboard.press("u")
    expect(queue).to_have_attribute("data-comparison", str(ranked.pk))
    expect(page.locator("#count-labelled")).to_have_text("2")
    expect(page.locator("#count-left")).to_have_text("2")
    expect(page.locator("#undone")).to_contain_text("C > A > B")
    assert not PreferenceLabel.objects.filter(comparison=ranked).exists()
    assert LabelChange.objects.filter(comparison=ranked, action="undone").count() == 1

    # s skips it; the last pair is shown, and 0 (both bad) empties the queue.
    page.keyboard.press("s")
    expect(queue).to_have_attribute("data-comparison", str(last.pk))
    page.keyboard.press("0")
    expect(page.locator("#queue-empty")).to_be_visible()
    expect(page.locator("#count-labelled")).to_have_text("3")
    expect(page.locator("#count-left")).to_have_text("0")
    assert PreferenceLabel.objects.get(comparison=last).choice == "both_bad"
    assert console_errors == []
