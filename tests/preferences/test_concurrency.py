"""Many annotators pulling at once, each thread with its own Postgres connection: every
comparison gets exactly k labels, nobody labels one twice, nobody gets an item someone else
holds, expired reservations are handed out again, and the same label posted many times at once
is created once."""

import random
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from tests.factories import UserFactory
from tests.preferences.helpers import make_comparisons, project_with
from tests.writing.test_api import api_client
from webapp.preferences import services
from webapp.preferences.errors import PreferenceConflict
from webapp.preferences.models import LabelChange, PreferenceLabel, QueueSettings, Reservation

CHOICES = ["a_much_better", "a_better", "tie", "b_better", "b_much_better", "both_bad"]


def run_threads(target, users) -> list[Exception]:
    """Run target(user) in one thread per user, started together; the errors they raised."""
    barrier = threading.Barrier(len(users))
    errors: list[Exception] = []

    def work(user):
        try:
            barrier.wait(timeout=30)
            target(user)
        except Exception as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=work, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    close_old_connections()
    return errors


@pytest.mark.django_db(transaction=True)
def test_every_comparison_gets_exactly_k_labels_when_annotators_pull_at_once():
    k, n_annotators, n_comparisons = 3, 8, 15
    project, annotators = project_with(*["annotator"] * n_annotators)
    QueueSettings.objects.create(project=project, labels_per_comparison=k)
    comparisons = make_comparisons(project, n_comparisons)
    # Someone pulled five comparisons and walked away: their reservations have expired.
    ghost = UserFactory(role="annotator")
    project.members.add(ghost)
    past = timezone.now() - timedelta(minutes=1)
    Reservation.objects.bulk_create(
        Reservation(comparison=c, annotator=ghost, expires_at=past) for c in comparisons[:5]
    )
    labelled: dict[int, list[int]] = {}

    def annotate(user):
        rng = random.Random(user.pk)
        mine = labelled.setdefault(user.pk, [])
        while (reservation := services.comparison_reserve_next(user=user, project=project)) is not None:
            services.label_record(user=user, comparison=reservation.comparison, choice=rng.choice(CHOICES))
            mine.append(reservation.comparison_id)

    errors = run_threads(annotate, annotators)

    assert errors == []
    per_comparison = Counter(PreferenceLabel.objects.values_list("comparison_id", flat=True))
    assert per_comparison == {c.pk: k for c in comparisons}
    pairs = list(PreferenceLabel.objects.values_list("comparison_id", "annotator_id"))
    assert len(pairs) == len(set(pairs)) == k * n_comparisons
    for got in labelled.values():
        assert len(got) == len(set(got)), "an annotator got the same comparison twice"
    assert not PreferenceLabel.objects.filter(annotator=ghost).exists()
    assert not Reservation.objects.exclude(annotator=ghost).exists()  # labelling released every reservation


@pytest.mark.django_db(transaction=True)
def test_simultaneous_pulls_never_hand_out_the_same_item_twice():
    project, annotators = project_with(*["annotator"] * 10)
    comparisons = make_comparisons(project, 6)
    got: dict[int, int | None] = {}

    def pull(user):
        reservation = services.comparison_reserve_next(user=user, project=project)
        got[user.pk] = reservation.comparison_id if reservation else None

    assert run_threads(pull, annotators) == []
    handed = [c for c in got.values() if c is not None]
    assert sorted(handed) == sorted(c.pk for c in comparisons)  # each once, all of them
    assert list(got.values()).count(None) == 4


@pytest.mark.django_db(transaction=True)
def test_a_late_label_after_expiry_does_not_exceed_k():
    project, (slow, fast) = project_with("annotator", "annotator")
    (only,) = make_comparisons(project, 1)
    assert services.comparison_reserve_next(user=slow, project=project).comparison_id == only.pk
    Reservation.objects.filter(annotator=slow).update(expires_at=timezone.now() - timedelta(seconds=1))
    results = {}

    def race(user):
        if user == fast and services.comparison_reserve_next(user=user, project=project) is None:
            results[user.pk] = "nothing left"  # slow's late label came first
            return
        try:
            services.label_record(user=user, comparison=only, choice="a_better")
            results[user.pk] = "labelled"
        except PreferenceConflict:
            results[user.pk] = "refused"

    assert run_threads(race, [slow, fast]) == []
    assert list(results.values()).count("labelled") == 1
    assert PreferenceLabel.objects.filter(comparison=only).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_label_posted_eight_times_at_once_is_created_once():
    project, (annotator,) = project_with("annotator")
    (only,) = make_comparisons(project, 1)
    assert services.comparison_reserve_next(user=annotator, project=project).comparison_id == only.pk
    clients = [api_client(annotator) for _ in range(8)]  # the token made here, not in the threads
    answers = []

    def post(client):
        response = client.post(
            f"/api/preferences/comparisons/{only.pk}/label/", {"choice": "a_better", "rationale": "A"}, format="json"
        )
        answers.append((response.status_code, response.json()))

    assert run_threads(post, clients) == []
    assert sorted(status for status, _ in answers) == [200] * 7 + [201]
    assert len({body["id"] for _, body in answers}) == 1
    assert {(body["choice"], body["rationale"]) for _, body in answers} == {("a_better", "A")}
    assert PreferenceLabel.objects.count() == 1
    assert list(LabelChange.objects.values_list("action", flat=True)) == ["created"]
    assert not Reservation.objects.exists()
