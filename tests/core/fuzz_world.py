"""A small world for the fuzz tests (test_fuzz_api.py, test_fuzz_forms.py) to aim at: rows of every
kind an id in a URL can name, in one project that every role is a member of, so that a generated
id sometimes reaches a real row instead of a 404."""

from dataclasses import dataclass

from django.db import transaction

from tests.factories import DocumentFactory, ModelVersionFactory, ProjectFactory, UserFactory, iteration_in_review
from tests.preferences.helpers import make_comparisons
from webapp.accounts.models import Project
from webapp.coding import services as coding
from webapp.coding.models import CodeCandidate, CodeTest, CodingIteration, Execution, Problem
from webapp.core.models import Job
from webapp.core.services import job_create
from webapp.preferences.models import Comparison
from webapp.preferences.services import GENERATE_JOB_KIND
from webapp.registry.models import ModelVersion
from webapp.registry.services import model_version_activate
from webapp.training.models import DatasetSnapshot, TrainingRun
from webapp.training.snapshots import snapshot_create
from webapp.writing import services as writing
from webapp.writing.models import Document, EditProposal, Iteration

FIXED = "The cat sat on the mat. It was happy."
ROLES = ("admin", "annotator", "writer", "developer")

# Which kind of row an id names, by the path before it (the longest that fits wins): the JSON API's
# paths and the screens' routes.
KIND_BEFORE_ID = {
    "/api/documents/": Document,
    "/api/iterations/": Iteration,
    "/api/proposals/": EditProposal,
    "/api/coding/problems/": Problem,
    "/api/coding/iterations/": CodingIteration,
    "/api/coding/candidates/": CodeCandidate,
    "/api/coding/tests/": CodeTest,
    "/api/coding/executions/": Execution,
    "/api/training/runs/": TrainingRun,
    "/api/training/snapshots/": DatasetSnapshot,
    "/api/training/versions/": ModelVersion,
    "/api/preferences/comparisons/": Comparison,
    "/api/preferences/projects/": Project,
    "/api/preferences/jobs/": Job,
    "jobs/": Job,
    "documents/": Document,
    "documents/edits/": EditProposal,
    "documents/rounds/": Iteration,
    "problems/": Problem,
    "problems/rounds/": CodingIteration,
    "problems/candidates/": CodeCandidate,
    "problems/tests/": CodeTest,
    "problems/executions/": Execution,
    "training/runs/": TrainingRun,
    "training/snapshots/": DatasetSnapshot,
    "training/versions/": ModelVersion,
    "training/projects/": Project,
    "label/": Project,
    "quality/": Project,
    "/comparisons/": Comparison,
}


@dataclass
class World:
    users: dict
    project: Project
    rows: list  # one or two of every kind

    def ids_before(self, path: str) -> list[int]:
        """The pks of the rows an id after `path` may name: of its kind, else of every kind."""
        fits = [prefix for prefix in KIND_BEFORE_ID if path.endswith(prefix)]
        kind = KIND_BEFORE_ID[max(fits, key=len)] if fits else None
        ids = {row.pk for row in self.rows if kind is not None and isinstance(row, kind)}
        return sorted(ids or {row.pk for row in self.rows})


def in_savepoint_rolled_back(call):
    """`call()` inside a savepoint that is then rolled back, so that the next one meets the same
    world; a database error inside it (a 500 the test reports) does not spoil the transaction."""
    with transaction.atomic():
        result = call()
        transaction.set_rollback(True)
    return result


def world_make() -> World:
    project = ProjectFactory(name="Fuzz project")
    users = {role: UserFactory(role=role) for role in ROLES}
    project.members.add(*users.values())
    made = [project]
    for owner in (users["writer"], users["admin"]):
        document = DocumentFactory(owner=owner, project=project)
        review = iteration_in_review(document, FIXED)
        first, *_ = review.proposals.order_by("index")
        writing.proposal_decide(proposal=first, user=owner, verdict="accept")
        made += [document, review, *review.proposals.all()]
    active = model_version_activate(version=ModelVersionFactory(name="fuzz editor"))
    other = ModelVersionFactory(name="fuzz other")
    snapshot = snapshot_create(user=users["admin"], sources=["writing"], held_out_percent=0)
    run = TrainingRun.objects.create(
        method=TrainingRun.Method.SFT, status=TrainingRun.Status.QUEUED, snapshot=snapshot, base_version=other
    )
    made += [active, other, snapshot, run]
    made += make_comparisons(project, 2) + make_comparisons(project, 1, outputs=3, prefix="ranked")
    made.append(job_create(kind=GENERATE_JOB_KIND, user=users["admin"]))
    for owner in (users["developer"], users["admin"]):
        problem = coding.problem_create(
            owner=owner, title="Vowels", statement="Count the vowels.", entry_point="count_vowels", project=project
        )
        iteration = coding.iteration_start(problem=problem, user=owner)  # its task would go on commit: never here
        CodingIteration.objects.filter(pk=iteration.pk).update(status=CodingIteration.Status.READY, run=1)
        candidate = CodeCandidate.objects.create(
            iteration=iteration, index=0, code="def count_vowels(t):\n    return 0\n", normalized="c"
        )
        test = CodeTest.objects.create(
            problem=problem, iteration=iteration, code="assert count_vowels('a') == 1", normalized="t"
        )
        execution = Execution.objects.create(candidate=candidate, test=test, run=1, status=Execution.Status.FAILED)
        made += [problem, iteration, candidate, test, execution]
    return World(users=users, project=project, rows=made)
