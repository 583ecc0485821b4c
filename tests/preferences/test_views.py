"""The preference screens through Django's test client: who may open them (login, role, project
membership, CSRF), blind labelling, the keyboard hints, a label's answer carrying the next item,
undo and skip, the time spent, an admin's resolution of a disagreement (and the export using it),
and the model-version win rates on the Quality screen matching agreement.win_rate."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from tests.factories import ModelVersionFactory, UserFactory
from tests.preferences.helpers import hold, label_as, make_comparisons, project_with
from webapp.preferences import agreement, services
from webapp.preferences.display import diff_segments, shown_outputs
from webapp.preferences.errors import NotReserved
from webapp.preferences.models import (
    Comparison,
    LabelChange,
    PreferenceLabel,
    Reservation,
    Skip,
)
from webapp.preferences.services import ComparisonSpec, OutputSpec, comparisons_store
from webapp.preferences.transfer import ExportFilters, preference_records

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def label_url(project):
    return reverse("preferences:label", args=[project.pk])


def queue_page(client, project):
    """The labelling page after asking for the next comparison, as the page does when it opens."""
    client.post(reverse("preferences:label_next", args=[project.pk]))
    return client.get(label_url(project))


def submit_url(project, comparison):
    return reverse("preferences:label_submit", args=[project.pk, comparison.pk])


def shown_comparison(response) -> int:
    found = re.search(r'id="queue"[^>]*data-comparison="(\d*)"', response.content.decode())
    assert found, "no #queue on the page"
    return int(found.group(1)) if found.group(1) else None


def count(response, name: str) -> int:
    return int(re.search(rf'id="count-{name}">(\d+)<', response.content.decode()).group(1))


@pytest.fixture
def team():
    project, (annotator, admin) = project_with("annotator", "admin")
    return project, annotator, admin


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# Permissions -----------------------------------------------------------------------------------


def test_every_screen_needs_a_login(team, client):
    project, *_ = team
    (comparison,) = make_comparisons(project, 1)
    for url in (
        reverse("preferences:label_projects"),
        label_url(project),
        reverse("preferences:quality_projects"),
        reverse("preferences:quality", args=[project.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    response = client.post(submit_url(project, comparison), {"choice": "a_better"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not PreferenceLabel.objects.exists()


def test_roles_and_membership(team):
    project, annotator, admin = team
    (comparison,) = make_comparisons(project, 1)
    writer = UserFactory(role="writer")
    project.members.add(writer)
    outsider = UserFactory(role="annotator")

    assert logged_in(writer).get(label_url(project)).status_code == 403
    assert logged_in(writer).post(submit_url(project, comparison), {"choice": "tie"}).status_code == 403
    assert logged_in(annotator).get(reverse("preferences:quality", args=[project.pk])).status_code == 403
    assert logged_in(annotator).get(reverse("preferences:quality_projects")).status_code == 403
    assert logged_in(outsider).get(label_url(project)).status_code == 404
    assert logged_in(outsider).post(submit_url(project, comparison), {"choice": "tie"}).status_code == 404
    assert not PreferenceLabel.objects.exists()
    assert logged_in(annotator).get(label_url(project)).status_code == 200
    assert logged_in(admin).get(reverse("preferences:quality", args=[project.pk])).status_code == 200


def test_nav_shows_label_to_annotators_and_quality_to_admins(team):
    project, annotator, admin = team
    page = logged_in(annotator).get(label_url(project)).content.decode()
    assert 'href="/label/"' in page and 'href="/quality/"' not in page
    page = logged_in(admin).get(reverse("preferences:quality", args=[project.pk])).content.decode()
    assert 'href="/label/"' in page and 'href="/quality/"' in page
    page = logged_in(UserFactory(role="writer")).get(reverse("writing:document_list")).content.decode()
    assert 'href="/label/"' not in page


def test_label_picker_lists_only_the_annotators_projects(team):
    project, annotator, _ = team
    other, (_,) = project_with("annotator")
    assert logged_in(annotator).get(reverse("preferences:label_projects"))["Location"] == label_url(project)
    second, _ = project_with()
    second.members.add(annotator)
    page = logged_in(annotator).get(reverse("preferences:label_projects")).content.decode()
    assert project.name in page and second.name in page and other.name not in page


def test_posts_need_the_csrf_token(team):
    project, annotator, _ = team
    (comparison,) = make_comparisons(project, 1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(annotator)
    page = client.get(label_url(project)).content.decode()
    next_url = reverse("preferences:label_next", args=[project.pk])
    assert client.post(next_url).status_code == 403
    assert not Reservation.objects.exists()
    assert client.post(submit_url(project, comparison), {"choice": "a_better"}).status_code == 403
    assert not PreferenceLabel.objects.exists()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)  # what htmx sends, from <body hx-headers>
    assert shown_comparison(client.post(next_url, HTTP_X_CSRFTOKEN=token, **HTMX)) == comparison.pk
    response = client.post(submit_url(project, comparison), {"choice": "a_better"}, HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 200
    assert PreferenceLabel.objects.get().choice == "a_better"


# Labelling ------------------------------------------------------------------------------------


def test_labelling_is_blind_and_escapes_model_text(team):
    project, annotator, admin = team
    services.queue_settings_save(
        project=project, user=admin, labels_per_comparison=1, gold_rate=1, reservation_seconds=600
    )
    version = ModelVersionFactory(name="secret-version-7")
    spec = ComparisonSpec(
        "Fix <b>this</b> prompt",
        [
            OutputSpec("<script>alert(1)</script> one", "source-alpha", version.pk),
            OutputSpec("plain two", "source-beta"),
        ],
        gold_choice="a_better",
        meta={"note": "meta-hidden"},
    )
    comparisons_store(project=project, user=None, origin=Comparison.Origin.IMPORT, specs=[spec])
    page = queue_page(logged_in(annotator), project).content.decode()
    assert "Output A" in page and "Output B" in page
    for hidden in ("source-alpha", "source-beta", "secret-version-7", "meta-hidden", "gold", "Gold"):
        assert hidden not in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;this&lt;/b&gt;" in page


def test_outputs_show_their_word_differences():
    left, right = diff_segments("The cat sat on the mat.", "A cat sat on a red mat.")
    assert [t for t, differs in left if differs] == ["The", "the"]
    assert [t for t, differs in right if differs] == ["A", "a red"]
    assert (
        "".join(t for t, _ in left) == "The cat sat on the mat."
        and "".join(t for t, _ in right) == "A cat sat on a red mat."
    )
    three = shown_outputs(["x y z", "x q z", "x y w"])
    assert [o.letter for o in three] == ["A", "B", "C"] and [o.number for o in three] == [1, 2, 3]
    assert [t for t, d in three[2].segments if d] == ["w"]


def test_the_page_marks_differences_and_shows_the_keys(team):
    project, annotator, _ = team
    comparisons_store(
        project=project,
        user=None,
        origin="import",
        specs=[ComparisonSpec("p", [OutputSpec("the old cat"), OutputSpec("the new cat")])],
    )
    page = queue_page(logged_in(annotator), project).content.decode()
    assert '<mark class="diff">old</mark>' in page and '<mark class="diff">new</mark>' in page
    for key, choice in (
        ("1", "a_much_better"),
        ("2", "a_better"),
        ("3", "tie"),
        ("4", "b_better"),
        ("5", "b_much_better"),
        ("0", "both_bad"),
    ):
        assert re.search(
            rf'<button type="submit" name="choice" value="{choice}" data-key="{key}"[^>]*><kbd>{key}</kbd>', page
        )
    assert 'id="skip-button"><kbd>s</kbd>' in page
    assert 'id="seconds"' in page and "preferences.js" in page
    assert 'data-mode="pair"' in page


def test_a_ranking_screen_for_three_outputs(team):
    project, annotator, _ = team
    (comparison,) = make_comparisons(project, 1, outputs=3)
    client = logged_in(annotator)
    page = queue_page(client, project).content.decode()
    assert 'data-mode="ranking"' in page and 'data-outputs="3"' in page
    assert 'name="ranking"' in page and "<kbd>Enter</kbd>" in page and "<kbd>Backspace</kbd>" in page
    assert 'name="choice"' not in page
    response = client.post(submit_url(project, comparison), {"ranking": "C, A, B"}, **HTMX)
    assert response.status_code == 200
    assert PreferenceLabel.objects.get().ranking == [2, 0, 1]


def test_a_label_answers_with_the_next_item_and_updates_progress(team):
    project, annotator, _ = team
    first, second, _third = make_comparisons(project, 3)
    client = logged_in(annotator)
    page = queue_page(client, project)
    assert shown_comparison(page) == first.pk
    assert (count(page, "today"), count(page, "labelled"), count(page, "left")) == (0, 0, 3)

    response = client.post(
        submit_url(project, first), {"choice": "b_better", "rationale": "clearer", "seconds": "2.5"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body  # the fragment only
    assert shown_comparison(response) == second.pk
    assert Reservation.objects.filter(annotator=annotator, comparison=second).exists()  # reserved already
    assert (count(response, "today"), count(response, "labelled"), count(response, "left")) == (1, 1, 2)
    assert "Labelled: B is better." in body
    label = PreferenceLabel.objects.get(annotator=annotator)
    assert (label.comparison, label.choice, label.rationale, label.seconds_spent) == (first, "b_better", "clearer", 2.5)
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_opening_the_page_reserves_nothing_and_asks_for_the_next_with_a_post(team):
    project, annotator, _ = team
    first, _second = make_comparisons(project, 2)
    client = logged_in(annotator)
    page = client.get(label_url(project)).content.decode()
    assert not Reservation.objects.exists()  # a read
    next_url = reverse("preferences:label_next", args=[project.pk])
    assert f'hx-post="{next_url}" hx-trigger="load, submit"' in page and 'id="next-button"' in page
    assert client.get(next_url).status_code == 405
    fragment = client.post(next_url, **HTMX)
    assert shown_comparison(fragment) == first.pk and "<html" not in fragment.content.decode()
    assert Reservation.objects.get(annotator=annotator).comparison == first
    assert shown_comparison(client.get(label_url(project))) == first.pk  # the page shows what is held


def test_without_javascript_a_label_redirects_back_to_the_queue(team):
    project, annotator, _ = team
    first, second = make_comparisons(project, 2)
    client = logged_in(annotator)
    assert shown_comparison(queue_page(client, project)) == first.pk
    response = client.post(submit_url(project, first), {"choice": "tie"})
    assert response.status_code == 302 and response["Location"] == label_url(project)
    assert shown_comparison(client.get(label_url(project))) == second.pk


def test_time_spent_is_checked_on_the_server(team):
    project, annotator, _ = team
    first, second = make_comparisons(project, 2)
    client = logged_in(annotator)
    client.get(label_url(project))
    for bad in ("-1", "soon", "nan", "inf"):
        response = client.post(submit_url(project, first), {"choice": "tie", "seconds": bad}, **HTMX)
        assert response.status_code == 400, bad
        assert shown_comparison(response) == first.pk and 'id="queue-error"' in response.content.decode()
    assert not PreferenceLabel.objects.exists()
    # More than the server saw pass since it handed the comparison out is cut to that (plus slack).
    client.post(submit_url(project, first), {"choice": "tie", "seconds": "3000"}, **HTMX)
    assert PreferenceLabel.objects.get().seconds_spent <= 10
    client.post(submit_url(project, second), {"choice": "tie"}, **HTMX)
    assert PreferenceLabel.objects.get(comparison=second).seconds_spent is None


def test_a_label_without_a_choice_or_a_bad_one_is_refused(team):
    project, annotator, _ = team
    (first,) = make_comparisons(project, 1)
    client = logged_in(annotator)
    assert client.post(submit_url(project, first), {}, **HTMX).status_code == 400
    assert client.post(submit_url(project, first), {"choice": "best"}, **HTMX).status_code == 400
    response = client.post(submit_url(project, first), {"ranking": "B, A"}, **HTMX)  # a pair takes a choice
    assert response.status_code == 400 and "takes a choice" in response.content.decode()
    assert not PreferenceLabel.objects.exists()


def test_undo_gives_the_last_comparison_back(team):
    project, annotator, _ = team
    first, _second = make_comparisons(project, 2)
    client = logged_in(annotator)
    assert shown_comparison(queue_page(client, project)) == first.pk
    client.post(submit_url(project, first), {"choice": "a_much_better"}, **HTMX)
    response = client.post(reverse("preferences:label_undo", args=[project.pk]), **HTMX)
    assert response.status_code == 200
    assert shown_comparison(response) == first.pk
    body = response.content.decode()
    assert "You had said: <strong>A is much better</strong>" in body
    assert 'value="a_much_better" data-key="1" class="button choice choice-a_much_better" aria-pressed="true"' in body
    assert count(response, "labelled") == 0
    assert not PreferenceLabel.objects.exists()
    assert LabelChange.objects.filter(action="undone").count() == 1
    # Nothing left to undo: said, not a crash.
    response = client.post(reverse("preferences:label_undo", args=[project.pk]), **HTMX)
    assert response.status_code == 409 and "no label to undo" in response.content.decode()


def test_skip_moves_on_and_an_empty_queue_says_so(team):
    project, annotator, _ = team
    first, second = make_comparisons(project, 2)
    client = logged_in(annotator)
    assert shown_comparison(queue_page(client, project)) == first.pk
    response = client.post(reverse("preferences:label_skip", args=[project.pk, first.pk]), **HTMX)
    assert shown_comparison(response) == second.pk
    assert Skip.objects.filter(annotator=annotator, comparison=first).exists()
    response = client.post(submit_url(project, second), {"choice": "tie"}, **HTMX)
    assert shown_comparison(response) is None
    body = response.content.decode()
    assert 'id="queue-empty"' in body and "Nothing left to label" in body
    assert count(response, "left") == 0
    assert 'id="undo-button"' in body  # the last label can still be taken back


def queue_error(response) -> str:
    found = re.search(r'id="queue-error">([^<]*)<', response.content.decode())
    assert found, "no error on the page"
    return found.group(1)


def test_a_label_on_a_comparison_not_reserved_to_you_gets_one_answer_whatever_it_is(team):
    project, annotator, _ = team
    other = UserFactory(role="annotator")
    project.members.add(other)
    full, free, theirs = make_comparisons(project, 3)
    (gold,) = make_comparisons(project, 1, gold=True, prefix="gold")
    label_as(other, full, choice="tie")  # k = 1: full is full
    hold(other, theirs)
    client = logged_in(annotator)
    assert shown_comparison(queue_page(client, project)) == free.pk
    missing = reverse("preferences:label_submit", args=[project.pk, gold.pk + 1000])
    answers = set()
    for url in (submit_url(project, full), submit_url(project, theirs), submit_url(project, gold), missing):
        response = client.post(url, {"choice": "a_better"}, **HTMX)
        assert response.status_code == 409, url
        assert shown_comparison(response) == free.pk  # the refusal shows the item they hold
        answers.add(queue_error(response))
    assert answers == {escape(NotReserved.MESSAGE)}
    assert list(PreferenceLabel.objects.values_list("annotator", "comparison")) == [(other.pk, full.pk)]
    # Without JavaScript: the same message, and back to the queue.
    response = client.post(submit_url(project, gold), {"choice": "a_better"}, follow=True)
    assert response.redirect_chain == [(label_url(project), 302)]
    assert escape(NotReserved.MESSAGE) in response.content.decode()
    assert not PreferenceLabel.objects.filter(annotator=annotator).exists()


# Quality ----------------------------------------------------------------------------------------


@pytest.fixture
def disputed(team):
    """Two annotators; comparison 0 they agree on, 1 they disagree on (A vs B), 2 tie vs both bad."""
    project, annotator, admin = team
    second = UserFactory(role="annotator")
    project.members.add(second)
    services.queue_settings_save(
        project=project, user=admin, labels_per_comparison=2, gold_rate=0, reservation_seconds=600
    )
    comparisons = make_comparisons(project, 3)
    for comparison, (one, two) in zip(
        comparisons, (("a_better", "a_much_better"), ("a_better", "b_better"), ("tie", "both_bad"))
    ):
        label_as(annotator, comparison, choice=one, rationale="mine")
        label_as(second, comparison, choice=two, rationale="theirs")
    return project, admin, comparisons


def test_quality_screen_shows_agreement_figures(disputed):
    project, admin, _ = disputed
    (gold,) = make_comparisons(project, 1, gold=True, prefix="gold")  # gold answer: A better
    annotators = list(project.members.filter(groups__name="annotator").order_by("pk"))
    label_as(annotators[0], gold, choice="a_much_better")
    label_as(annotators[1], gold, choice="b_better")
    page = logged_in(admin).get(reverse("preferences:quality", args=[project.pk]), {"min_common": 2}).content.decode()

    records = [
        (
            l.annotator_id,
            l.comparison_id,
            {"a_much_better": -2, "a_better": -1, "tie": 0, "b_better": 1, "b_much_better": 2, "both_bad": "both_bad"}[
                l.choice
            ],
        )
        for l in PreferenceLabel.objects.filter(comparison__project=project)
    ]
    ordinal = agreement.krippendorff_alpha(
        agreement.units_from_labels([r for r in records if r[2] != "both_bad"]), "ordinal"
    )
    nominal = agreement.krippendorff_alpha(agreement.units_from_labels(records), "nominal")
    assert f'id="alpha-ordinal">{ordinal:.3f}<' in page
    assert f'id="alpha-nominal">{nominal:.3f}<' in page
    (kappa,) = agreement.pairwise_kappa(records, min_common=2)
    assert f'<td class="num kappa">{kappa.kappa:.3f}</td>' in page
    first_row = re.search(rf'id="annotator-{annotators[0].pk}">(.*?)</tr>', page, re.DOTALL).group(1)
    assert "1 of 1" in first_row and "100.0%" in first_row and '<td class="num">4</td>' in first_row
    second_row = re.search(rf'id="annotator-{annotators[1].pk}">(.*?)</tr>', page, re.DOTALL).group(1)
    assert "0 of 1" in second_row and "0.0%" in second_row
    assert 'id="labels-per-day"' in page  # the chart
    # Pairs below the threshold are left out, and the page says so.
    page = logged_in(admin).get(reverse("preferences:quality", args=[project.pk])).content.decode()
    assert 'id="no-kappas"' in page


def test_disagreements_list_the_labels_side_by_side(disputed):
    project, admin, (agreed, split, tie_vs_bad) = disputed
    page = logged_in(admin).get(reverse("preferences:quality", args=[project.pk])).content.decode()
    assert f'id="comparison-{split.pk}"' in page and f'id="comparison-{tie_vs_bad.pk}"' in page
    assert f'id="comparison-{agreed.pk}"' not in page  # A better and A much better agree
    article = re.search(rf'id="comparison-{split.pk}".*?</article>', page, re.DOTALL).group(0)
    assert "A is better" in article and "B is better" in article and "mine" in article and "theirs" in article


def test_an_admin_resolves_a_disagreement_and_the_export_uses_it(disputed):
    project, admin, (agreed, split, tie_vs_bad) = disputed
    client = logged_in(admin)
    resolve = reverse("preferences:resolve", args=[project.pk, split.pk])
    assert not [
        r for r in preference_records(ExportFilters(project.pk)) if r["comparison_id"] == split.pk
    ]  # no majority

    response = client.post(resolve, {"choice": "b_much_better"}, **HTMX)
    assert response.status_code == 200
    assert 'data-resolved="true"' in response.content.decode() and "B is much better" in response.content.decode()
    split.refresh_from_db()
    assert (split.resolved_choice, split.resolved_by, split.resolved_at is not None) == ("b_much_better", admin, True)
    (record,) = [
        r for r in preference_records(ExportFilters(project.pk, min_agreement=0.9)) if r["comparison_id"] == split.pk
    ]
    assert (record["chosen"], record["rejected"], record["resolved"]) == ("p output 1/1", "p output 1/0", True)

    # Resolved ones leave the open list; "show resolved too" brings them back.
    page = client.get(reverse("preferences:quality", args=[project.pk])).content.decode()
    assert f'id="comparison-{split.pk}"' not in page
    page = client.get(reverse("preferences:quality", args=[project.pk]), {"show": "all"}).content.decode()
    assert f'id="comparison-{split.pk}"' in page

    # A resolution that says "tie" gives no pair, even where the majority had one; clearing gives it back.
    client.post(reverse("preferences:resolve", args=[project.pk, agreed.pk]), {"choice": "tie"}, **HTMX)
    assert not [r for r in preference_records(ExportFilters(project.pk)) if r["comparison_id"] == agreed.pk]
    client.post(reverse("preferences:resolve", args=[project.pk, agreed.pk]), {"clear": "1"}, **HTMX)
    agreed.refresh_from_db()
    assert (agreed.resolved_choice, agreed.resolved_by) == ("", None)
    assert [r for r in preference_records(ExportFilters(project.pk)) if r["comparison_id"] == agreed.pk]

    # Without htmx: a redirect back to the comparison on the page.
    response = client.post(reverse("preferences:resolve", args=[project.pk, tie_vs_bad.pk]), {"choice": "both_bad"})
    assert response.status_code == 302 and response["Location"].endswith(f"#comparison-{tie_vs_bad.pk}")
    assert client.post(resolve, {}, **HTMX).status_code == 400


def test_annotators_cannot_resolve(disputed):
    project, _, (_, split, _) = disputed
    annotator = project.members.filter(groups__name="annotator").first()
    response = logged_in(annotator).post(reverse("preferences:resolve", args=[project.pk, split.pk]), {"choice": "tie"})
    assert response.status_code == 403
    split.refresh_from_db()
    assert split.resolved_choice == ""


def test_version_win_rates_on_the_page_match_agreement(team):
    project, annotator, admin = team
    others = [UserFactory(role="annotator") for _ in range(4)]
    project.members.add(*others)
    services.queue_settings_save(
        project=project, user=admin, labels_per_comparison=5, gold_rate=0, reservation_seconds=600
    )
    x, y, z = (
        ModelVersionFactory(name="alpha <v1>"),
        ModelVersionFactory(name="beta"),
        ModelVersionFactory(name="gamma"),
    )
    specs = [
        ComparisonSpec(f"prompt {i}", [OutputSpec(f"x says {i}", "x", x.pk), OutputSpec(f"y says {i}", "y", y.pk)])
        for i in range(2)
    ] + [
        ComparisonSpec("prompt swapped", [OutputSpec("y first", "y", y.pk), OutputSpec("x second", "x", x.pk)]),
        ComparisonSpec(
            "three", [OutputSpec("z one", "z", z.pk), OutputSpec("x two", "x", x.pk), OutputSpec("y three", "y", y.pk)]
        ),
    ]
    c0, c1, swapped, three = comparisons_store(project=project, user=None, origin="versions", specs=specs)
    people = [annotator, *others]
    for person, choice in zip(people, ("a_better", "a_much_better", "b_better", "tie", "both_bad")):
        label_as(person, c0, choice=choice)
    for person, choice in zip(people[:3], ("b_better", "a_better", "a_better")):
        label_as(person, c1, choice=choice)
    for person, choice in zip(people[:2], ("b_better", "a_better")):  # x is B here
        label_as(person, swapped, choice=choice)
    label_as(people[0], three, ranking=[1, 2, 0])  # x above y above z
    expected_outcomes = ["win", "win", "loss", "tie", None, "loss", "win", "win", "win", "loss", "win"]
    expected = agreement.win_rate(expected_outcomes, n_boot=2000, seed=0)

    url = reverse("preferences:quality", args=[project.pk])
    page = logged_in(admin).get(url, {"x": x.pk, "y": y.pk}).content.decode()
    assert f'data-rate="{expected.rate}"' in page and f'data-n="{expected.n}"' in page
    assert f'id="win-rate-value">{expected.rate * 100:.1f}%<' in page
    assert f'id="win-rate-interval">{expected.low * 100:.1f}% to {expected.high * 100:.1f}%<' in page
    assert "alpha &lt;v1&gt;" in page and "alpha <v1>" not in page  # version names are escaped, SVG included
    assert 'id="win-rate-plot"' in page and page.count('class="win-row') == 3  # x-y, x-z, y-z

    # The other way round: 1 - the rate, the interval mirrored.
    flipped = agreement.win_rate(
        [{"win": "loss", "loss": "win"}.get(o, o) for o in expected_outcomes], n_boot=2000, seed=0
    )
    page = logged_in(admin).get(url, {"x": y.pk, "y": x.pk, "fragment": "versions"}, **HTMX).content.decode()
    assert "<html" not in page and 'id="versions"' in page
    assert f'id="win-rate-value">{flipped.rate * 100:.1f}%<' in page
    assert abs(flipped.rate - (1 - expected.rate)) < 1e-9


def queries(client_call) -> int:
    with CaptureQueriesContext(connection) as captured:
        client_call()
    return len(captured.captured_queries)


def test_a_label_and_the_next_item_take_a_fixed_number_of_queries(team):
    project, annotator, _ = team
    comparisons = make_comparisons(project, 30)
    client = logged_in(annotator)
    assert shown_comparison(queue_page(client, project)) == comparisons[0].pk
    first = queries(lambda: client.post(submit_url(project, comparisons[0]), {"choice": "tie"}, **HTMX))
    assert first <= 45
    for comparison in comparisons[1:5]:
        client.post(submit_url(project, comparison), {"choice": "a_better"}, **HTMX)
    # More labels behind it cost nothing more.
    assert queries(lambda: client.post(submit_url(project, comparisons[5]), {"choice": "b_better"}, **HTMX)) == first
    assert PreferenceLabel.objects.filter(annotator=annotator).count() == 6


def test_the_quality_page_takes_a_fixed_number_of_queries(disputed):
    project, admin, _ = disputed
    client = logged_in(admin)
    url = reverse("preferences:quality", args=[project.pk])
    few = queries(lambda: client.get(url))
    assert few <= 30
    more = make_comparisons(project, 5, prefix="more")
    annotators = list(project.members.filter(groups__name="annotator"))
    for comparison in more:
        for person, choice in zip(annotators, ("a_better", "b_better")):
            label_as(person, comparison, choice=choice)
    assert queries(lambda: client.get(url)) == few
    page = client.get(url).content.decode()
    assert all(f'id="comparison-{c.pk}"' in page for c in more)
