"""The queue's rules: who may pull, what they get (their live reservation first; never an item
they labelled or skipped; never one with k labels and reservations; expired reservations are
free), gold mixed in at the project's rate, labels with history, change, skip and undo."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from tests.preferences.helpers import hold, label_as, make_comparisons, project_with
from webapp.preferences import services
from webapp.preferences.errors import (
    NotReserved,
    PreferenceConflict,
    PreferenceError,
    PreferenceForbidden,
)
from webapp.preferences.models import (
    LabelChange,
    PreferenceLabel,
    QueueSettings,
    Reservation,
    Skip,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    project, users = project_with("annotator", "annotator", "annotator", "admin")
    return project, users


def pull(user, project):
    reservation = services.comparison_reserve_next(user=user, project=project)
    return reservation.comparison if reservation else None


def test_the_same_item_comes_back_until_labelled_then_the_next(team):
    project, (a, *_rest) = team
    first, second = make_comparisons(project, 2)
    assert pull(a, project) == first
    assert pull(a, project) == first
    assert Reservation.objects.filter(annotator=a).count() == 1
    services.label_record(user=a, comparison=first, choice="a_better", seconds_spent=3.5)
    assert not Reservation.objects.filter(annotator=a, comparison=first).exists()
    assert pull(a, project) == second
    services.label_record(user=a, comparison=second, choice="tie")
    assert pull(a, project) is None


def test_k_labels_per_comparison_counting_live_reservations(team):
    project, (a, b, c, _) = team
    QueueSettings.objects.create(project=project, labels_per_comparison=2)
    (only,) = make_comparisons(project, 1)
    assert pull(a, project) == only
    assert pull(b, project) == only  # k = 2: a's reservation leaves room for one more
    assert pull(c, project) is None  # a's and b's reservations fill it
    services.label_record(user=a, comparison=only, choice="a_better")
    assert pull(c, project) is None
    with pytest.raises(NotReserved):  # the queue did not give it to c
        services.label_record(user=c, comparison=only, choice="b_better")
    # Had c a reservation anyway (k lowered, say), the count under the lock would still refuse it.
    hold(c, only)
    QueueSettings.objects.filter(project=project).update(labels_per_comparison=1)
    with pytest.raises(PreferenceConflict, match="already has all the labels"):
        services.label_record(user=c, comparison=only, choice="b_better")
    Reservation.objects.filter(annotator=c).delete()
    QueueSettings.objects.filter(project=project).update(labels_per_comparison=2)
    services.label_record(user=b, comparison=only, choice="a_better")
    assert only.labels.count() == 2


def test_an_expired_reservation_is_free_again(team):
    project, (a, b, *_) = team
    (only,) = make_comparisons(project, 1)
    assert pull(a, project) == only
    assert pull(b, project) is None
    Reservation.objects.filter(annotator=a).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert pull(b, project) == only
    services.label_record(user=b, comparison=only, choice="a_better")
    # a's reservation expired and b took the only label there is: a's late label is refused
    with pytest.raises(PreferenceConflict):
        services.label_record(user=a, comparison=only, choice="b_better")
    assert list(only.labels.values_list("annotator", flat=True)) == [b.pk]


def test_reservation_length_comes_from_the_settings(team):
    project, (a, *_) = team
    QueueSettings.objects.create(project=project, reservation_seconds=30)
    make_comparisons(project, 1)
    reservation = services.comparison_reserve_next(user=a, project=project)
    assert timedelta(seconds=25) < reservation.expires_at - timezone.now() <= timedelta(seconds=30)


def test_skipped_items_never_come_back_to_that_annotator_but_do_to_others(team):
    project, (a, b, *_) = team
    first, second = make_comparisons(project, 2)
    assert pull(a, project) == first
    services.comparison_skip(user=a, comparison=first)
    assert Skip.objects.filter(annotator=a, comparison=first).exists()
    assert pull(a, project) == second
    services.label_record(user=a, comparison=second, choice="a_better")
    assert pull(a, project) is None
    assert pull(b, project) == first


def test_change_writes_history_and_the_same_label_again_writes_nothing(team):
    project, (a, *_) = team
    (only,) = make_comparisons(project, 1)
    assert pull(a, project) == only
    label, created = services.label_record(user=a, comparison=only, choice="a_better")
    assert created
    # after the label the reservation is gone, yet the same label again is answered, not refused
    assert services.label_record(user=a, comparison=only, choice="a_better") == (label, False)
    changed, created = services.label_record(user=a, comparison=only, choice="b_much_better", rationale="B is right")
    assert not created and changed.pk == label.pk and changed.choice == "b_much_better"
    history = list(LabelChange.objects.order_by("at", "pk").values_list("action", "choice", "rationale"))
    assert history == [("created", "a_better", ""), ("changed", "b_much_better", "B is right")]


def test_undo_removes_the_last_label_keeps_history_and_gives_the_item_back(team):
    project, (a, *_) = team
    first, second, third = make_comparisons(project, 3)
    label_as(a, first, choice="a_better")
    label_as(a, second, choice="tie")
    assert pull(a, project) == third  # a holds third
    reservation = services.label_undo(user=a, project=project)
    assert reservation.comparison == second
    assert not PreferenceLabel.objects.filter(annotator=a, comparison=second).exists()
    assert list(LabelChange.objects.filter(comparison=second).values_list("action", "choice")) == [
        ("created", "tie"),
        ("undone", "tie"),
    ]
    assert pull(a, project) == second  # the undone one returns first
    assert not Reservation.objects.filter(annotator=a, comparison=third).exists()  # third went back to the pool
    assert services.label_undo(user=a, project=project).comparison == first
    with pytest.raises(PreferenceConflict, match="no label to undo"):
        services.label_undo(user=a, project=project)


def test_gold_is_mixed_in_at_the_gold_rate(team):
    project, (a, b, *_) = team
    gold = make_comparisons(project, 3, gold=True, prefix="gold")
    regular = make_comparisons(project, 3)
    QueueSettings.objects.create(project=project, gold_rate=1.0, labels_per_comparison=1)
    # rate 1: gold first for everyone (k does not limit gold), then the regular items
    assert pull(a, project) == gold[0]
    services.label_record(user=a, comparison=gold[0], choice="a_better")
    assert pull(b, project) == gold[0]
    services.label_record(user=b, comparison=gold[0], choice="b_better")
    QueueSettings.objects.filter(project=project).update(gold_rate=0.0)
    got = []
    while (comparison := pull(a, project)) is not None:
        got.append(comparison)
        services.label_record(user=a, comparison=comparison, choice="a_better")
    assert got == regular  # rate 0: no gold, and nothing is left once the regular items are done


def test_gold_slots_are_deterministic_and_near_the_rate():
    slots = [services.gold_slot(7, position) for position in range(2000)]
    assert slots == [services.gold_slot(7, position) for position in range(2000)]
    assert 0.17 < sum(s < 0.2 for s in slots) / len(slots) < 0.23
    assert slots != [services.gold_slot(8, position) for position in range(2000)]


def test_rankings_for_three_outputs_and_choices_for_pairs(team):
    project, (a, *_) = team
    (triple,) = make_comparisons(project, 1, outputs=3)
    (pair,) = make_comparisons(project, 1, prefix="pair")
    hold(a, triple)
    hold(a, pair)
    with pytest.raises(PreferenceError, match="takes a ranking"):
        services.label_record(user=a, comparison=triple, choice="a_better")
    with pytest.raises(PreferenceError, match="each output index 0..2 once"):
        services.label_record(user=a, comparison=triple, ranking=[0, 0, 1])
    with pytest.raises(PreferenceError, match="takes a choice"):
        services.label_record(user=a, comparison=pair, ranking=[1, 0])
    with pytest.raises(PreferenceError, match="Unknown choice"):
        services.label_record(user=a, comparison=pair, choice="better")
    assert services.label_record(user=a, comparison=triple, ranking=[2, 0, 1])[0].ranking == [2, 0, 1]
    assert PreferenceLabel.objects.count() == 1


def test_only_member_annotators_and_admins_pull():
    project, (annotator, admin, writer) = project_with("annotator", "admin", "writer")
    make_comparisons(project, 2)
    outsider = UserFactory(role="annotator")
    outside_admin = UserFactory(role="admin")
    with pytest.raises(PreferenceForbidden, match="not a member"):
        services.comparison_reserve_next(user=outsider, project=project)
    with pytest.raises(PreferenceForbidden, match="Only annotators and admins"):
        services.comparison_reserve_next(user=writer, project=project)
    assert pull(annotator, project) is not None
    assert pull(admin, project) is not None
    assert pull(outside_admin, project) is None  # two items with k = 1, both reserved by the others
