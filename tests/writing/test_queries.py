"""The review page and the decision endpoint run a fixed number of SQL queries, whatever the
number of edits: no query per edit in views or templates."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import DocumentFactory, UserFactory, iteration_in_review
from webapp.writing import services

HTMX = {"HX-Request": "true"}

# (The session comes from the cache.) user, document, last iteration (with job and model
# version), the person's permissions (user's and groups'), proposals, their current decisions
# (with who decided), counts.
REVIEW_PAGE_QUERIES = 8
# user, permissions (2), proposal; proposal_decide: savepoint, lock the round (FOR SHARE: it
# must not be applied meanwhile), lock the proposal, current decision, insert, release; then
# the counts (the recorded decision is in hand).
DECISION_QUERIES = 11


def review_with_edits(owner, n: int):
    """A round in review with `n` one-word replacements, a few of them decided already."""
    words = [f"word{i}" for i in range(n)]
    text = " keep ".join(words) + "."
    output = " keep ".join(w.upper() for w in words) + "."
    document = DocumentFactory(owner=owner, original_text=text)
    iteration = iteration_in_review(document, output)
    proposals = list(iteration.proposals.order_by("index"))
    assert len(proposals) == n
    services.proposal_decide(proposal=proposals[0], user=owner, verdict="accept")
    services.proposal_decide(proposal=proposals[1], user=UserFactory(role="writer"), verdict="reject")
    return document, iteration, proposals


def review_page_queries(client, owner, n: int) -> int:
    document, _, proposals = review_with_edits(owner, n)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("writing:document_detail", args=[document.pk]))
    # The fragment answers 286: the round is in review, so a poll would stop.
    assert response.status_code == (286 if "HTTP_HX_REQUEST" in client.defaults else 200)
    assert response.text.count('class="edit intent-') == n
    return len(queries)


def decision_queries(client, owner, n: int) -> int:
    _, _, proposals = review_with_edits(owner, n)
    target = proposals[-1]
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("writing:proposal_decide", args=[target.pk]), {"verdict": "accept", "based_on": 0}, headers=HTMX
        )
    assert response.status_code == 200
    assert f'<span data-count="decided">3</span> of <span data-count="total">{n}</span>' in response.text
    return len(queries)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_review_page_runs_the_same_queries_for_3_and_30_edits(client, writer, htmx):
    client.force_login(writer)
    if htmx:
        client.defaults.update({"HTTP_HX_REQUEST": "true"})
    few = review_page_queries(client, writer, 3)
    many = review_page_queries(client, writer, 30)
    assert few == many == REVIEW_PAGE_QUERIES


def test_a_decision_runs_the_same_queries_for_3_and_30_edits(client, writer):
    client.force_login(writer)
    few = decision_queries(client, writer, 3)
    many = decision_queries(client, writer, 30)
    assert few == many == DECISION_QUERIES
