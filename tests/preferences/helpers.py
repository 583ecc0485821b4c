"""Rows the preference tests share: projects with annotators, and comparisons made through the service."""

from tests.factories import ProjectFactory, UserFactory
from webapp.preferences.models import Choice, Comparison
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
