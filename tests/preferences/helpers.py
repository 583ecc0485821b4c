"""Rows the preference tests share: projects with annotators, comparisons made through the
service, and labels given the way the queue allows them (on a comparison reserved to the
annotator)."""

from datetime import timedelta

from django.utils import timezone

from tests.factories import ProjectFactory, UserFactory
from webapp.preferences import services
from webapp.preferences.models import Choice, Comparison, PreferenceLabel, Reservation
from webapp.preferences.services import ComparisonSpec, OutputSpec, comparisons_store


def project_with(*roles: str):
    """A project and one member per role, in order."""
    project = ProjectFactory()
    users = [UserFactory(role=role) for role in roles]
    project.members.add(*users)
    return project, users


def make_comparisons(project, n: int, *, gold: bool = False, outputs: int = 2, prefix: str = "p") -> list[Comparison]:
    specs = [
        ComparisonSpec(
            f"{prefix} prompt {i}",
            [OutputSpec(f"{prefix} output {i}/{j}", f"source {j}") for j in range(outputs)],
            gold_choice=Choice.A_BETTER if gold and outputs == 2 else "",
            gold_ranking=list(range(outputs)) if gold and outputs > 2 else None,
        )
        for i in range(n)
    ]
    return comparisons_store(project=project, user=None, origin=Comparison.Origin.IMPORT, specs=specs)


def hold(user, comparison: Comparison, seconds: int = 600) -> Reservation:
    """Reserve `comparison` to `user`, as if the queue had handed it to them (tests that set up
    labels on chosen comparisons; the queue's own choice is tested in test_queue)."""
    reservation, _ = Reservation.objects.update_or_create(
        comparison=comparison, annotator=user, defaults={"expires_at": timezone.now() + timedelta(seconds=seconds)}
    )
    return reservation


def label_as(user, comparison: Comparison, **fields) -> PreferenceLabel:
    """The user's label on the comparison, recorded through its reservation."""
    hold(user, comparison)
    label, _ = services.label_record(user=user, comparison=comparison, **fields)
    return label
