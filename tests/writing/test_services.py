"""The writing loop's services against real Postgres: rounds, decisions, history, apply."""

import threading

import pytest
from django.db import connection

from tests.conftest import FIXED_TEXT
from tests.factories import (
    DocumentFactory,
    ModelVersionFactory,
    UserFactory,
    iteration_in_review,
)
from webapp.registry.services import model_version_activate
from webapp.writing import services
from webapp.writing.display import document_loop_state
from webapp.writing.errors import DecisionConflict, LoopConflict, WritingError
from webapp.writing.models import Decision, Document, Iteration
from webapp.writing.selectors import (
    acceptance_by_depth,
    decision_counts,
    documents_for_user,
)


def start(document, user, **kwargs):
    """iteration_start without sending the Celery task (no worker in these tests)."""
    return services.iteration_start(document=document, user=user, **kwargs)


@pytest.fixture(autouse=True)
def no_task_sending(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        yield callbacks


class TestDocumentCreate:
    def test_title_from_first_line_and_crlf_normalised(self, writer):
        doc = services.document_create(owner=writer, text="# My essay\r\nIt were good.\r\n")
        assert doc.title == "My essay"
        assert doc.original_text == doc.current_text == "# My essay\nIt were good.\n"

    @pytest.mark.parametrize("text", ["", "   \n\t "])
    def test_empty_is_refused(self, writer, text):
        with pytest.raises(WritingError, match="empty"):
            services.document_create(owner=writer, text=text)
        assert Document.objects.count() == 0

    def test_over_the_limit_is_refused_with_the_limit(self, writer, settings):
        settings.REDLINE_MAX_DOCUMENT_CHARS = 1000
        with pytest.raises(WritingError, match="limit is 1,000"):
            services.document_create(owner=writer, text="word " * 300)

    def test_one_megabyte_is_refused_by_default(self, writer):
        with pytest.raises(WritingError, match="1,048,576 characters"):
            services.document_create(owner=writer, text="a" * (1024 * 1024))

    def test_nul_bytes_are_refused(self, writer):
        with pytest.raises(WritingError, match="NUL"):
            services.document_create(owner=writer, text="abc\x00def")

    def test_project_must_include_the_owner(self, writer):
        from tests.factories import ProjectFactory

        project = ProjectFactory()
        with pytest.raises(WritingError, match="not a member"):
            services.document_create(owner=writer, text="Hello.", project=project)


class TestVisibility:
    def test_owner_and_project_members_see_a_document_others_do_not(self, writer, other_writer):
        from tests.factories import ProjectFactory

        project = ProjectFactory()
        project.members.add(writer, other_writer)
        shared = services.document_create(owner=writer, text="Shared.", project=project)
        private = services.document_create(owner=writer, text="Private.")
        stranger = UserFactory()
        assert set(documents_for_user(writer)) == {shared, private}
        assert list(documents_for_user(other_writer)) == [shared]
        assert list(documents_for_user(stranger)) == []


class TestIterationStart:
    def test_queues_a_round_with_the_active_model_and_a_job(self, document, writer, django_capture_on_commit_callbacks):
        version = model_version_activate(version=ModelVersionFactory())
        with django_capture_on_commit_callbacks() as sent:
            iteration = start(document, writer, instruction="simplify")
        assert iteration.status == Iteration.Status.QUEUED
        assert (iteration.number, iteration.depth) == (1, 1)
        assert iteration.model_version == version
        assert iteration.instruction_text == "Simplify this sentence"
        assert iteration.text_before == document.current_text
        assert iteration.job.status == "queued"
        assert len(sent) == 1

    def test_unknown_instruction_is_refused(self, document, writer):
        with pytest.raises(WritingError, match="Unknown instruction 'shout'"):
            start(document, writer, instruction="shout")
        assert not Iteration.objects.exists()

    def test_custom_instruction_needs_text(self, document, writer):
        with pytest.raises(WritingError, match="needs its text"):
            start(document, writer, instruction="custom", custom_text="  ")
        it = start(document, writer, instruction="custom", custom_text="Make it  friendlier")
        assert it.instruction_text == "Make it friendlier"

    def test_a_second_round_while_one_is_open_is_refused(self, document, writer):
        start(document, writer)
        with pytest.raises(LoopConflict, match="already open"):
            start(document, writer)
        assert Iteration.objects.count() == 1

    def test_max_depth_stops_the_loop(self, writer):
        doc = DocumentFactory(owner=writer, max_depth=1)
        review = iteration_in_review(doc, FIXED_TEXT)
        services.iteration_apply(iteration=review, user=writer)
        with pytest.raises(LoopConflict, match="maximum depth"):
            start(doc, writer)
        state = document_loop_state(doc, doc.iterations.last())
        assert state.code == "max_depth" and not state.can_suggest


class TestDecisions:
    def test_changing_a_decision_keeps_the_earlier_one(self, review, writer):
        p = review.proposals.first()
        first = services.proposal_decide(proposal=p, user=writer, verdict="accept")
        second = services.proposal_decide(proposal=p, user=writer, verdict="reject")
        history = list(p.decisions.order_by("pk").values_list("verdict", "is_current"))
        assert history == [("accept", False), ("reject", True)]
        assert first.pk != second.pk

    def test_repeating_the_same_verdict_records_nothing(self, review, writer):
        p = review.proposals.first()
        a = services.proposal_decide(proposal=p, user=writer, verdict="accept")
        b = services.proposal_decide(proposal=p, user=writer, verdict="accept")
        assert a.pk == b.pk and p.decisions.count() == 1

    def test_unknown_verdict(self, review, writer):
        with pytest.raises(WritingError, match="Unknown decision"):
            services.proposal_decide(proposal=review.proposals.first(), user=writer, verdict="maybe")

    def test_stale_based_on_is_a_conflict_and_changes_nothing(self, review, writer, other_writer):
        p = review.proposals.first()
        services.proposal_decide(proposal=p, user=other_writer, verdict="reject")
        with pytest.raises(
            DecisionConflict, match=f"{other_writer.username} changed this edit meanwhile; it is now reject"
        ):
            services.proposal_decide(proposal=p, user=writer, verdict="accept", based_on=0)
        assert list(p.decisions.values_list("verdict", flat=True)) == ["reject"]

    def test_accept_all_then_undo_reverts_the_whole_batch(self, review, writer):
        proposals = list(review.proposals.all())
        services.proposal_decide(proposal=proposals[0], user=writer, verdict="reject")
        changed = services.proposals_decide_all(iteration=review, user=writer, verdict="accept")
        assert changed == len(proposals)
        assert decision_counts(review).accepted == len(proposals)
        services.decision_undo(iteration=review, user=writer)
        counts = decision_counts(review)
        assert (counts.accepted, counts.rejected, counts.undecided) == (0, 1, len(proposals) - 1)
        # The history keeps every row: reject, accept (batch), restored reject (undo).
        assert list(proposals[0].decisions.order_by("pk").values_list("verdict", "via")) == [
            ("reject", "web"),
            ("accept", "web"),
            ("reject", "undo"),
        ]

    def test_undo_walks_back_one_decision_at_a_time(self, review, writer):
        p1, p2 = review.proposals.all()[:2]
        services.proposal_decide(proposal=p1, user=writer, verdict="accept")
        services.proposal_decide(proposal=p2, user=writer, verdict="reject")
        services.decision_undo(iteration=review, user=writer)
        assert decision_counts(review).rejected == 0 and decision_counts(review).accepted == 1
        services.decision_undo(iteration=review, user=writer)
        assert decision_counts(review).decided == 0
        with pytest.raises(LoopConflict, match="no decision of yours"):
            services.decision_undo(iteration=review, user=writer)

    def test_decisions_after_apply_are_refused(self, review, writer):
        services.iteration_apply(iteration=review, user=writer)
        with pytest.raises(LoopConflict, match="closed"):
            services.proposal_decide(proposal=review.proposals.first(), user=writer, verdict="accept")


@pytest.mark.django_db(transaction=True)
def test_two_people_deciding_the_same_edit_at_once_leave_one_current_decision():
    writer = UserFactory()
    other = UserFactory()
    review = iteration_in_review(DocumentFactory(owner=writer), FIXED_TEXT)
    proposal = review.proposals.first()
    barrier = threading.Barrier(2)
    outcomes = []

    def decide(user, verdict):
        try:
            barrier.wait()
            services.proposal_decide(proposal=proposal, user=user, verdict=verdict, based_on=0)
            outcomes.append("ok")
        except DecisionConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=a) for a in ((writer, "accept"), (other, "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert Decision.objects.filter(proposal=proposal, is_current=True).count() == 1
    assert Decision.objects.filter(proposal=proposal).count() == 1


class TestApply:
    def test_applies_accepted_only_and_moves_the_document_on(self, review, writer, document):
        by_before = {p.before: p for p in review.proposals.all()}
        services.proposal_decide(proposal=by_before["the "], user=writer, verdict="accept")
        services.proposal_decide(proposal=by_before["were"], user=writer, verdict="reject")
        services.iteration_apply(iteration=review, user=writer)
        review.refresh_from_db()
        document.refresh_from_db()
        assert review.status == Iteration.Status.APPLIED
        assert review.text_after == "The cat sat on the mat. It were happy."
        assert document.current_text == review.text_after
        assert document.original_text == "The cat sat on the the mat. It were happy."

    def test_apply_and_revise_again_starts_the_next_round_on_the_new_text(self, review, writer, document):
        services.proposals_decide_all(iteration=review, user=writer, verdict="accept")
        nxt = services.iteration_apply(iteration=review, user=writer, revise_again=True)
        assert (nxt.number, nxt.depth, nxt.status) == (2, 2, Iteration.Status.QUEUED)
        assert nxt.text_before == FIXED_TEXT
        assert nxt.instruction == review.instruction

    def test_applying_twice_is_refused(self, review, writer):
        services.iteration_apply(iteration=review, user=writer)
        with pytest.raises(LoopConflict):
            services.iteration_apply(iteration=review, user=writer)

    def test_acceptance_rate_by_depth(self, review, writer):
        proposals = list(review.proposals.all())
        services.proposal_decide(proposal=proposals[0], user=writer, verdict="accept")
        services.proposal_decide(proposal=proposals[1], user=writer, verdict="reject")
        services.proposal_decide(proposal=proposals[1], user=writer, verdict="accept")
        assert acceptance_by_depth(review.document) == [
            {"depth": 1, "proposals": 2, "accepted": 2, "rejected": 0, "rate": 1.0}
        ]


class TestWriterEdit:
    def test_hand_edit_is_stored_as_a_writer_iteration(self, document, writer):
        it = services.document_text_edit(document=document, user=writer, text="Entirely new text.")
        document.refresh_from_db()
        assert it.source == Iteration.Source.WRITER and it.status == Iteration.Status.APPLIED
        assert (it.text_before, it.text_after) == (document.original_text, "Entirely new text.")
        assert document.current_text == "Entirely new text."
        nxt = start(document, writer)
        assert nxt.text_before == "Entirely new text." and nxt.depth == 1 and nxt.number == 2

    def test_unchanged_text_stores_nothing(self, document, writer):
        assert services.document_text_edit(document=document, user=writer, text=document.current_text) is None
        assert not document.iterations.exists()

    def test_not_while_a_round_is_open(self, review, writer, document):
        with pytest.raises(LoopConflict):
            services.document_text_edit(document=document, user=writer, text="x")
