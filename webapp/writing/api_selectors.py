"""Reads the JSON API needs beyond selectors.py: lists shaped so that serializing them costs a
fixed number of queries."""

from django.db.models import QuerySet

from webapp.writing.models import Decision, Document, EditProposal, Iteration


def document_iterations(document: Document) -> QuerySet[Iteration]:
    """Every iteration of the document, oldest first, with its model version and job."""
    return document.iterations.select_related("model_version", "job").order_by("number")


def proposal_decisions(proposal: EditProposal) -> QuerySet[Decision]:
    """The proposal's full decision history, oldest first (the last one is current)."""
    return proposal.decisions.select_related("decided_by").order_by("decided_at", "pk")
