"""Gold comparisons and other people's items stay hidden from annotators: a label needs the
annotator's live reservation and is refused with one answer for every other comparison (gold or
not, full or not, someone else's or missing), undo treats gold like any item, and the comparison
list and detail show an annotator only what the queue gave them. Admins see everything."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from tests.factories import UserFactory
from tests.preferences.helpers import hold, label_as, make_comparisons, project_with
from tests.writing.test_api import api_client
from webapp.preferences.errors import NotReserved
from webapp.preferences.models import LabelChange, PreferenceLabel, Reservation

pytestmark = pytest.mark.django_db
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


@pytest.fixture
def scene():
    """An annotator holding `mine`; beside it a free item, one full (k = 1), one another annotator
    holds, and a gold one, none of them given to the annotator."""
    project, (annotator, other, admin) = project_with("annotator", "annotator", "admin")
    mine, free, full, theirs = make_comparisons(project, 4)
    (gold,) = make_comparisons(project, 1, gold=True, prefix="gold")
    label_as(other, full, choice="tie")
    hold(other, theirs)
    item = api_client(annotator).post(f"/api/preferences/projects/{project.pk}/next/").json()
    assert item["comparison"]["id"] == mine.pk
    hidden = {"free": free, "full": full, "theirs": theirs, "gold": gold}
    return project, annotator, other, admin, mine, hidden


def label_post(user, pk: int, body=None):
    return api_client(user).post(
        f"/api/preferences/comparisons/{pk}/label/", body or {"choice": "a_better"}, format="json"
    )


def test_a_label_on_gold_answers_like_any_comparison_not_reserved_to_you(scene):
    project, annotator, other, admin, mine, hidden = scene
    missing = max(c.pk for c in hidden.values()) + 1000
    answers = {}
    for name, pk in [*((name, c.pk) for name, c in hidden.items()), ("missing", missing)]:
        response = label_post(annotator, pk)
        answers[name] = (response.status_code, response.content)
        # a body that does not fit (a ranking for a pair) does not get past the same answer
        wrong = label_post(annotator, pk, {"ranking": [0, 1, 2]})
        assert (wrong.status_code, wrong.content) == answers[name], name
    assert set(answers.values()) == {(409, b'{"detail":"' + NotReserved.MESSAGE.encode() + b'"}')}
    # an admin holding nothing gets the same
    assert label_post(admin, hidden["gold"].pk).json() == {"detail": NotReserved.MESSAGE}
    assert not PreferenceLabel.objects.filter(annotator__in=[annotator, admin]).exists()
    assert not LabelChange.objects.filter(annotator=annotator).exists()
    # what the queue gave them is labelled as before
    assert label_post(annotator, mine.pk).status_code == 201
    # and once labelled, the reservation is spent: no second comparison through it
    assert label_post(annotator, hidden["free"].pk).status_code == 409


def test_the_screen_refuses_a_gold_label_like_a_full_one(scene):
    project, annotator, other, admin, mine, hidden = scene
    client = Client()
    client.force_login(annotator)
    bodies = set()
    for comparison in (hidden["gold"], hidden["full"], hidden["free"]):
        url = reverse("preferences:label_submit", args=[project.pk, comparison.pk])
        response = client.post(url, {"choice": "a_better"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 409
        bodies.add(CSRF_INPUT.sub("", response.content.decode()))  # each answer masks the token anew
    assert len(bodies) == 1  # the same page, the item they hold shown again
    body = bodies.pop()
    assert f'data-comparison="{mine.pk}"' in body and escape(NotReserved.MESSAGE) in body
    assert not PreferenceLabel.objects.filter(annotator=annotator).exists()


def test_undo_of_a_gold_label_is_like_the_undo_of_any_label(scene):
    project, annotator, other, admin, mine, hidden = scene
    gold, regular = hidden["gold"], hidden["free"]
    second = UserFactory(role="annotator")
    project.members.add(second)
    answers = []
    for user, comparison in ((annotator, gold), (second, regular)):
        Reservation.objects.filter(annotator=user).delete()
        hold(user, comparison)  # as the queue hands it out
        assert label_post(user, comparison.pk).status_code == 201
        undone = api_client(user).post(f"/api/preferences/projects/{project.pk}/undo/")
        assert undone.status_code == 200
        body = undone.json()
        assert body["comparison"]["id"] == comparison.pk and body["label"] is None
        answers.append(body)
        assert Reservation.objects.get(annotator=user).comparison == comparison  # given back to them
        assert list(LabelChange.objects.filter(annotator=user).values_list("action", flat=True)) == [
            "created",
            "undone",
        ]
        assert api_client(user).get(f"/api/preferences/comparisons/{comparison.pk}/").status_code == 200
    gold_answer, regular_answer = answers
    assert gold_answer.keys() == regular_answer.keys()
    assert gold_answer["comparison"].keys() == regular_answer["comparison"].keys()
    assert "is_gold" not in gold_answer["comparison"]


def test_annotators_list_and_detail_show_only_what_the_queue_gave_them(scene):
    project, annotator, other, admin, mine, hidden = scene
    api = api_client(annotator)
    listed = api.get(f"/api/preferences/comparisons/?project={project.pk}").json()
    assert [c["id"] for c in listed["results"]] == [mine.pk]
    assert [c["id"] for c in api.get("/api/preferences/comparisons/").json()["results"]] == [mine.pk]
    missing = api.get("/api/preferences/comparisons/999999/")
    assert missing.status_code == 404
    for name, comparison in hidden.items():
        response = api.get(f"/api/preferences/comparisons/{comparison.pk}/")
        assert (response.status_code, response.json()) == (404, missing.json()), name
        skip = api.post(f"/api/preferences/comparisons/{comparison.pk}/skip/")
        assert (skip.status_code, skip.json()) == (404, missing.json()), name
    # The other annotator sees their own, never the first one's.
    theirs = [c["id"] for c in api_client(other).get("/api/preferences/comparisons/").json()["results"]]
    assert theirs == [hidden["full"].pk, hidden["theirs"].pk]
    # Admins see everything, gold flagged.
    everything = api_client(admin).get(f"/api/preferences/comparisons/?project={project.pk}").json()["results"]
    assert len(everything) == 5 and [c["is_gold"] for c in everything] == [False] * 4 + [True]
    assert api_client(admin).get(f"/api/preferences/comparisons/{hidden['gold'].pk}/").json()["is_gold"] is True
    # A labelled item stays in the annotator's list; an expired reservation drops out of it.
    assert label_post(annotator, mine.pk).status_code == 201
    hold(annotator, hidden["free"], seconds=-1)
    assert [c["id"] for c in api.get("/api/preferences/comparisons/").json()["results"]] == [mine.pk]


def test_a_gold_comparison_the_queue_hands_out_reads_like_any_other(scene):
    project, annotator, other, admin, mine, hidden = scene
    label_post(annotator, mine.pk)
    hold(annotator, hidden["gold"])
    api = api_client(annotator)
    detail = api.get(f"/api/preferences/comparisons/{hidden['gold'].pk}/").json()
    regular = api.get(f"/api/preferences/comparisons/{mine.pk}/").json()
    assert detail.keys() == regular.keys() and "is_gold" not in detail and "gold_choice" not in detail
    assert [c["id"] for c in api.get("/api/preferences/comparisons/").json()["results"]] == [
        mine.pk,
        hidden["gold"].pk,
    ]
