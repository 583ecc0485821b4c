"""Reads of the writing loop. Lookups that take a user return only what that user may see
(someone else's document, iteration or proposal is a 404, never a 403)."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import (
    Count,
    Exists,
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import TruncDate

from webapp.core.access import get_visible, shared_with
from webapp.registry.feedback import DailyAcceptance
from webapp.writing.models import Decision, Document, EditProposal, Iteration


def documents_for_user(user) -> QuerySet[Document]:
    return shared_with(user, Document.objects.all())


def document_for_user(user, pk) -> Document:
    return get_visible(Document.objects.all(), user, pk, lambda d: d)


def iteration_for_user(user, pk) -> Iteration:
    return get_visible(Iteration.objects.select_related("document"), user, pk, lambda i: i.document)


def proposal_for_user(user, pk) -> EditProposal:
    return get_visible(
        EditProposal.objects.select_related("iteration__document"), user, pk, lambda p: p.iteration.document
    )


def _current_decisions() -> Prefetch:
    return Prefetch(
        "decisions",
        queryset=Decision.objects.filter(is_current=True).select_related("decided_by"),
        to_attr="current_decisions",
    )


def proposals_with_decisions(iteration: Iteration) -> QuerySet[EditProposal]:
    """The round's proposals in order, each with `.current_decisions` (0 or 1 row)."""
    return EditProposal.objects.filter(iteration=iteration).prefetch_related(_current_decisions())


def proposal_with_decision(pk: int) -> EditProposal:
    return EditProposal.objects.prefetch_related(_current_decisions()).select_related("iteration").get(pk=pk)


@dataclass(frozen=True)
class DecisionCounts:
    accepted: int
    rejected: int
    total: int

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def undecided(self) -> int:
        return self.total - self.decided


def decision_counts(iteration: Iteration) -> DecisionCounts:
    # One LEFT JOIN on the current decision (at most one per proposal, by constraint).
    row = (
        EditProposal.objects.filter(iteration=iteration)
        .annotate(current=FilteredRelation("decisions", condition=Q(decisions__is_current=True)))
        .aggregate(
            total=Count("pk"),
            accepted=Count("pk", filter=Q(current__verdict=Decision.Verdict.ACCEPT)),
            rejected=Count("pk", filter=Q(current__verdict=Decision.Verdict.REJECT)),
        )
    )
    return DecisionCounts(accepted=row["accepted"], rejected=row["rejected"], total=row["total"])


def document_open_iteration(document: Document) -> Iteration | None:
    return document.iterations.filter(status__in=Iteration.OPEN).select_related("job", "model_version").first()


def document_last_iteration(document: Document) -> Iteration | None:
    return document.iterations.select_related("job", "model_version").order_by("-number").first()


def document_history(document: Document) -> QuerySet[Iteration]:
    """Every iteration, oldest first, with its proposals and their full decision history."""
    return (
        document.iterations.select_related("model_version", "created_by")
        .prefetch_related(
            Prefetch(
                "proposals",
                queryset=EditProposal.objects.prefetch_related(
                    Prefetch("decisions", queryset=Decision.objects.select_related("decided_by"))
                ),
            )
        )
        .order_by("number")
    )


def acceptance_by_depth(document: Document) -> list[dict]:
    """Per model depth: proposals, accepted, rejected, and the acceptance rate of decided ones."""
    rows = (
        EditProposal.objects.filter(iteration__document=document, iteration__source=Iteration.Source.MODEL)
        .values("iteration__depth")
        .annotate(
            proposals=Count("pk", distinct=True),
            accepted=Count("pk", filter=Q(decisions__is_current=True, decisions__verdict="accept"), distinct=True),
            rejected=Count("pk", filter=Q(decisions__is_current=True, decisions__verdict="reject"), distinct=True),
        )
        .order_by("iteration__depth")
    )
    out = []
    for r in rows:
        decided = r["accepted"] + r["rejected"]
        out.append(
            {
                "depth": r["iteration__depth"],
                "proposals": r["proposals"],
                "accepted": r["accepted"],
                "rejected": r["rejected"],
                "rate": (r["accepted"] / decided) if decided else None,
            }
        )
    return out


# Added for the documents list (writing screens): read-only.
def documents_with_last_round(user) -> QuerySet[Document]:
    """`documents_for_user` in one query, each document annotated with its last iteration's
    `last_status`, `last_depth`, `last_source` (None without iterations) and
    `last_has_proposals`."""
    last = Iteration.objects.filter(document=OuterRef("pk")).order_by("-number")
    last_of_outer = Iteration.objects.filter(document=OuterRef(OuterRef("pk"))).order_by("-number").values("pk")[:1]
    return documents_for_user(user).annotate(
        last_status=Subquery(last.values("status")[:1]),
        last_depth=Subquery(last.values("depth")[:1]),
        last_source=Subquery(last.values("source")[:1]),
        last_has_proposals=Exists(EditProposal.objects.filter(iteration_id=Subquery(last_of_outer))),
    )


def writer_past_decisions(*, user, exclude_iteration_id: int | None = None, limit: int = 500) -> list:
    """The person's current accept/reject decisions on model proposals (newest first, at most
    `limit`), each with the sentence its edit was proposed in (inference.memory.PastDecision)."""
    from inference.memory import PastDecision
    from inference.sentences import sentence_spans

    decisions = (
        Decision.objects.filter(
            decided_by=user,
            is_current=True,
            verdict__in=(Decision.Verdict.ACCEPT, Decision.Verdict.REJECT),
            proposal__iteration__source=Iteration.Source.MODEL,
        )
        .exclude(proposal__iteration_id=exclude_iteration_id)
        .select_related("proposal__iteration")
        .only(
            "verdict",
            "proposal__start_char",
            "proposal__end_char",
            "proposal__before",
            "proposal__after",
            "proposal__iteration__text_before",
        )
        .order_by("-decided_at", "-id")[:limit]
    )
    spans: dict[int, list[tuple[int, int]]] = {}
    found = []
    for d in decisions:
        p, text = d.proposal, d.proposal.iteration.text_before
        here = spans.setdefault(p.iteration_id, sentence_spans(text))
        span = next(((s, e) for s, e in here if s <= p.start_char and p.end_char <= e), None)
        if span is not None:
            sentence = text[span[0] : span[1]]
            found.append(PastDecision(d.pk, sentence, p.before, p.after, d.verdict, p.start_char - span[0]))
    return found


def writer_own_edits(*, user, limit: int = 200) -> list[tuple[str, str]]:
    """(text before, text after) of the person's own edits between rounds, newest first."""
    return list(
        Iteration.objects.filter(created_by=user, source=Iteration.Source.WRITER, status=Iteration.Status.APPLIED)
        .exclude(text_after=None)
        .order_by("-applied_at", "-id")
        .values_list("text_before", "text_after")[:limit]
    )


# ---------------------------------------------------------------------------------------------
# Read by the registry (webapp.registry.feedback), for training and its screens


def project_decision_count(project_id: int) -> int:
    return Decision.objects.filter(proposal__iteration__document__project_id=project_id).exclude(via="undo").count()


def acceptance_by_version_and_day(version_ids: list[int]) -> dict[int, list[DailyAcceptance]]:
    """For each version, per day: how many of its proposals writers accepted and rejected
    (current decisions, dated by the round that proposed them)."""
    rows = (
        EditProposal.objects.filter(iteration__model_version_id__in=version_ids, decisions__is_current=True)
        .annotate(day=TruncDate("iteration__created_at"))
        .values("iteration__model_version_id", "day")
        .annotate(
            accepted=Count("pk", filter=Q(decisions__verdict=Decision.Verdict.ACCEPT)),
            rejected=Count("pk", filter=Q(decisions__verdict=Decision.Verdict.REJECT)),
        )
        .order_by("iteration__model_version_id", "day")
    )
    found: dict[int, list[DailyAcceptance]] = defaultdict(list)
    for row in rows:
        found[row["iteration__model_version_id"]].append(DailyAcceptance(row["day"], row["accepted"], row["rejected"]))
    return dict(found)
