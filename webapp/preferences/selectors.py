"""Reads of preference annotation, per user. Admins (permission preferences.view_all_labels) see
every comparison and every label. An annotator sees only what the queue gave them: the comparison
they hold a live reservation on and those they labelled or skipped, shown blind (the serializers
leave out gold flags and sources), and only their own labels. Anything else, gold or not, someone
else's or nobody's yet, answers exactly like a comparison that does not exist: a 404 on a read
(never a 403: nobody learns what exists), NotReserved (409) on a label (comparison_to_label).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.http import Http404
from django.utils import timezone

from webapp.accounts.models import Project
from webapp.preferences.agreement import LOSS, WIN, outcome
from webapp.preferences.errors import NotReserved
from webapp.preferences.models import (
    CHOICE_VALUE,
    Comparison,
    ComparisonOutput,
    LabelChange,
    PreferenceLabel,
    QueueSettings,
    Reservation,
    Skip,
)

VIEW_ALL = "preferences.view_all_labels"
LABEL = "preferences.add_preferencelabel"
MANAGE = "preferences.add_comparison"
RESOLVE = "preferences.change_comparison"


def sees_all(user) -> bool:
    """Admins: every project's comparisons, every annotator's labels, exports."""
    return user.is_authenticated and user.has_perm(VIEW_ALL)


def projects_for_user(user) -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    if sees_all(user):
        return Project.objects.all()
    return Project.objects.filter(members=user)


def project_for_user(user, pk) -> Project:
    project = projects_for_user(user).filter(pk=pk).first()
    if project is None:
        raise Http404("No such project.")
    return project


def queue_settings(project: Project) -> QueueSettings:
    """The project's queue settings; the defaults (unsaved) when it has none."""
    return QueueSettings.objects.filter(project=project).first() or QueueSettings(project=project)


def _with_outputs(queryset: QuerySet[Comparison]) -> QuerySet[Comparison]:
    return queryset.prefetch_related(
        Prefetch("outputs", queryset=ComparisonOutput.objects.select_related("model_version").order_by("index"))
    )


def _held_by(user, now: datetime) -> Exists:
    """The comparison has a live reservation of `user` (the queue gave it to them, for now)."""
    return Exists(Reservation.objects.filter(comparison=OuterRef("pk"), annotator=user, expires_at__gt=now))


def _labelled_by(user) -> Exists:
    return Exists(PreferenceLabel.objects.filter(comparison=OuterRef("pk"), annotator=user))


def comparisons_for_user(user, project_id: int | None = None) -> QuerySet[Comparison]:
    """The comparisons `user` may read: an admin, all those of every project; anyone else, those
    of their projects the queue gave them (held now, labelled or skipped). Gold comparisons the
    queue did not give them, other people's items and items nobody holds yet are left out, so
    the list never tells which comparisons are gold."""
    comparisons = Comparison.objects.filter(project__in=projects_for_user(user).values("pk"))
    if user.is_authenticated and not sees_all(user):
        skipped = Exists(Skip.objects.filter(comparison=OuterRef("pk"), annotator=user))
        comparisons = comparisons.filter(_held_by(user, timezone.now()) | _labelled_by(user) | skipped)
    if project_id is not None:
        comparisons = comparisons.filter(project_id=project_id)
    return _with_outputs(comparisons.order_by("pk"))


def comparison_for_user(user, pk) -> Comparison:
    comparison = comparisons_for_user(user).filter(pk=pk).first()
    if comparison is None:
        raise Http404("No such comparison.")
    return comparison


def comparison_to_label(user, pk, project_id: int | None = None) -> Comparison:
    """The comparison `user` may label now: one of their projects' that is reserved to them right
    now, or that they labelled (to change the label, or to post the same one again). Anything
    else raises NotReserved, whatever the comparison is: gold or not, full or not, someone
    else's, in another project or missing; one answer, so that it cannot be used as an oracle.
    label_record checks the same again under the comparison's lock."""
    if not user.is_authenticated:
        raise NotReserved()
    comparisons = Comparison.objects.filter(pk=pk, project__in=projects_for_user(user).values("pk"))
    if project_id is not None:
        comparisons = comparisons.filter(project_id=project_id)
    comparison = comparisons.filter(_held_by(user, timezone.now()) | _labelled_by(user)).first()
    if comparison is None:
        raise NotReserved()
    return comparison


def labels_for_user(
    user, *, project_id: int | None = None, comparison_id: int | None = None
) -> QuerySet[PreferenceLabel]:
    """The user's own labels; an admin's view holds everyone's."""
    if not user.is_authenticated:
        return PreferenceLabel.objects.none()
    labels = PreferenceLabel.objects.select_related("annotator", "comparison")
    if not sees_all(user):
        labels = labels.filter(annotator=user, comparison__project__members=user)
    if project_id is not None:
        labels = labels.filter(comparison__project_id=project_id)
    if comparison_id is not None:
        labels = labels.filter(comparison_id=comparison_id)
    return labels.order_by("-updated_at", "-id")


def label_of(user, comparison: Comparison) -> PreferenceLabel | None:
    return PreferenceLabel.objects.filter(comparison=comparison, annotator=user).first()


def annotator_progress(user, project: Project) -> dict:
    """How many comparisons of the project the user has labelled and skipped."""
    return {
        "labelled": PreferenceLabel.objects.filter(annotator=user, comparison__project=project).count(),
        "skipped": project.comparisons.filter(skips__annotator=user).count(),
        "total": project.comparisons.count(),
    }


def label_value(choice: str, ranking) -> object:
    """A label as agreement.py takes it: -2..2 or BOTH_BAD for a pair, a tuple for a ranking."""
    if ranking is not None:
        return tuple(ranking)
    return CHOICE_VALUE[choice]


# ---------------------------------------------------------------------------------------------
# The queue, seen by one annotator


def _count(model, *conditions, **where):
    return Coalesce(
        Subquery(
            model.objects.filter(*conditions, **where)
            .order_by()
            .values("comparison")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        Value(0),
        output_field=IntegerField(),
    )


def open_comparisons(user, project: Project, *, gold: bool, k: int, now: datetime) -> QuerySet[Comparison]:
    """Comparisons the queue may still hand `user`: not labelled or skipped by them and, unless
    gold (every annotator labels every gold comparison), with fewer than k labels plus others'
    live reservations."""
    comparisons = (
        Comparison.objects.filter(project=project, is_gold=gold)
        .exclude(labels__annotator=user)
        .exclude(skips__annotator=user)
    )
    if gold:
        return comparisons
    labels = _count(PreferenceLabel, comparison=OuterRef("pk"))
    held = _count(Reservation, Q(comparison=OuterRef("pk")) & Q(expires_at__gt=now) & ~Q(annotator=user))
    return comparisons.annotate(taken=labels + held).filter(taken__lt=k)


def reservation_held(user, project, now=None) -> Reservation | None:
    """The live reservation the user holds in the project, on a comparison they have neither
    labelled nor skipped (what the labelling page shows; it never reserves)."""
    return (
        Reservation.objects.filter(annotator=user, comparison__project=project, expires_at__gt=now or timezone.now())
        .exclude(comparison__labels__annotator=user)
        .exclude(comparison__skips__annotator=user)
        .select_related("comparison")
        .order_by("-created_at", "-pk")
        .first()
    )


def reservation_of(user, comparison: Comparison) -> Reservation | None:
    return Reservation.objects.filter(annotator=user, comparison=comparison).first()


def last_undone(user, comparison: Comparison) -> LabelChange | None:
    """The label the user last took back on this comparison (what they had said), if any."""
    return (
        LabelChange.objects.filter(annotator=user, comparison=comparison, action=LabelChange.Action.UNDONE)
        .order_by("-at", "-pk")
        .first()
    )


def has_labels(user, project: Project) -> bool:
    return PreferenceLabel.objects.filter(annotator=user, comparison__project=project).exists()


def open_count(user, project: Project, *, gold: bool, k: int, now: datetime) -> int:
    """open_comparisons(...).count() without counting labels for every comparison of the
    project (a sequential scan with two subqueries a row: 0.4-0.6 s at 100,000 comparisons). A
    comparison nobody has labelled, that no one else holds and that `user` did not skip is
    open; only the others, few next to a big queue, are checked one by one."""
    if gold:  # open unless the user labelled or skipped it
        touched = (
            PreferenceLabel.objects.filter(annotator=user, comparison__project=project)
            .order_by()
            .values("comparison_id")
        )
    else:
        touched = (
            PreferenceLabel.objects.filter(comparison__project=project)
            .order_by()
            .values("comparison_id")
            .union(
                Reservation.objects.filter(comparison__project=project, expires_at__gt=now)
                .exclude(annotator=user)
                .values("comparison_id"),
                all=True,
            )
        )
    skipped = Skip.objects.filter(annotator=user, comparison__project=project).order_by().values("comparison_id")
    touched = touched.union(skipped, all=True)
    comparisons = Comparison.objects.filter(project=project, is_gold=gold)
    untouched = comparisons.count() - comparisons.filter(pk__in=touched).count()
    return untouched + open_comparisons(user, project, gold=gold, k=k, now=now).filter(pk__in=touched).count()


def queue_left(user, project: Project) -> int:
    """How many comparisons the queue could still give `user` now (the one they hold included)."""
    conf = queue_settings(project)
    now = timezone.now()
    left = open_count(user, project, gold=False, k=conf.labels_per_comparison, now=now)
    if conf.gold_rate > 0:
        left += open_count(user, project, gold=True, k=conf.labels_per_comparison, now=now)
    return left


def labelling_projects(user) -> QuerySet[Project]:
    """The projects `user` labels in: those they are a member of (admins: all of them)."""
    return projects_for_user(user).order_by("name")


def queue_progress(user, project: Project) -> dict:
    """What the labelling screen shows: labelled today and in all in the project, and left."""
    start_of_day = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    mine = PreferenceLabel.objects.filter(annotator=user, comparison__project=project)
    return {
        "today": mine.filter(created_at__gte=start_of_day).count(),
        "labelled": mine.count(),
        "left": queue_left(user, project),
    }


# ---------------------------------------------------------------------------------------------
# Quality figures (admins)


@dataclass(frozen=True)
class LabelRow:
    annotator_id: int
    annotator: str
    comparison_id: int
    choice: str
    ranking: list[int] | None
    rationale: str
    seconds_spent: float | None

    @property
    def value(self):
        return label_value(self.choice, self.ranking)


def project_label_rows(project: Project) -> list[LabelRow]:
    """Every current label of the project, oldest first."""
    rows = (
        PreferenceLabel.objects.filter(comparison__project=project)
        .order_by("created_at", "pk")
        .values_list(
            "annotator_id", "annotator__username", "comparison_id", "choice", "ranking", "rationale", "seconds_spent"
        )
    )
    return [LabelRow(*row) for row in rows]


def project_gold_answers(project: Project) -> dict[int, object]:
    """{comparison id: the gold answer as a label value} of the project's gold comparisons."""
    rows = project.comparisons.filter(is_gold=True).values_list("pk", "gold_choice", "gold_ranking")
    return {pk: label_value(choice, ranking) for pk, choice, ranking in rows if choice or ranking is not None}


def labels_per_day(project: Project) -> list[tuple]:
    """(day, labels given that day) for the project's current labels, oldest day first."""
    rows = (
        PreferenceLabel.objects.filter(comparison__project=project)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    )
    return [(row["day"], row["n"]) for row in rows]


def project_skips(project: Project) -> dict[int, int]:
    """{annotator id: comparisons they skipped in the project}."""
    rows = (
        project.comparisons.filter(skips__isnull=False).values("skips__annotator").annotate(n=Count("skips")).order_by()
    )
    return {row["skips__annotator"]: row["n"] for row in rows}


def disagreements(project: Project, *, include_resolved: bool = False) -> list[Comparison]:
    """The project's comparisons whose labels prefer different things (A vs B vs tie vs both
    bad, or different rankings), with their outputs and labels (`label_list`), newest first."""
    from webapp.preferences.agreement import side

    sides: dict[int, set] = defaultdict(set)
    for comparison_id, choice, ranking in PreferenceLabel.objects.filter(comparison__project=project).values_list(
        "comparison_id", "choice", "ranking"
    ):
        sides[comparison_id].add(side(label_value(choice, ranking)))
    ids = [pk for pk, seen in sides.items() if len(seen) > 1]
    comparisons = Comparison.objects.filter(pk__in=ids)
    if not include_resolved:
        comparisons = comparisons.filter(resolved_choice="", resolved_ranking__isnull=True)
    return list(_with_labels(comparisons.order_by("-pk")))


def _with_labels(comparisons: QuerySet[Comparison]) -> QuerySet[Comparison]:
    return _with_outputs(comparisons.select_related("resolved_by")).prefetch_related(
        Prefetch(
            "labels",
            queryset=PreferenceLabel.objects.select_related("annotator").order_by("created_at", "pk"),
            to_attr="label_list",
        )
    )


def comparison_with_labels(project: Project, pk) -> Comparison:
    """One comparison of the project with its outputs and every label (`label_list`); 404 otherwise."""
    comparison = _with_labels(Comparison.objects.filter(project=project, pk=pk)).first()
    if comparison is None:
        raise Http404("No such comparison.")
    return comparison


def disagreement_count(project: Project) -> tuple[int, int]:
    """(unresolved, resolved) comparisons whose labels disagree."""
    found = disagreements(project, include_resolved=True)
    resolved = sum(c.is_resolved for c in found)
    return len(found) - resolved, resolved


def project_versions(project: Project):
    """The model versions that wrote outputs of the project's comparisons, by name."""
    from webapp.registry.models import ModelVersion

    ids = ComparisonOutput.objects.filter(comparison__project=project, model_version__isnull=False).values(
        "model_version"
    )
    return ModelVersion.objects.filter(pk__in=ids).order_by("name", "pk")


def version_outcomes(project: Project) -> dict[tuple[int, int], list[str]]:
    """{(x, y): X's outcomes against Y}, x < y by version id, from every label on a comparison
    with one output of X and one of Y: a pairwise label gives one outcome (agreement.outcome;
    None for both bad), a ranking WIN when X's output is above Y's. A version with several
    outputs in one comparison (samples) is not compared there with itself or others."""
    outputs: dict[int, dict[int, list[int]]] = defaultdict(
        lambda: defaultdict(list)
    )  # comparison -> version -> indices
    n_outputs: dict[int, int] = defaultdict(int)
    for comparison_id, index, version in ComparisonOutput.objects.filter(comparison__project=project).values_list(
        "comparison_id", "index", "model_version_id"
    ):
        n_outputs[comparison_id] += 1
        if version is not None:
            outputs[comparison_id][version].append(index)
    single = {
        cid: {v: indices[0] for v, indices in versions.items() if len(indices) == 1}
        for cid, versions in outputs.items()
    }
    single = {cid: versions for cid, versions in single.items() if len(versions) >= 2}
    result: dict[tuple[int, int], list[str]] = defaultdict(list)
    labels = (
        PreferenceLabel.objects.filter(comparison_id__in=list(single))
        .order_by("pk")
        .values_list("comparison_id", "choice", "ranking")
    )
    for comparison_id, choice, ranking in labels:
        versions = sorted(single[comparison_id].items())
        for i, (x, x_index) in enumerate(versions):
            for y, y_index in versions[i + 1 :]:
                if ranking is not None:
                    result[x, y].append(WIN if ranking.index(x_index) < ranking.index(y_index) else LOSS)
                elif n_outputs[comparison_id] == 2:
                    result[x, y].append(outcome(CHOICE_VALUE[choice], "A" if x_index == 0 else "B"))
    return dict(result)
