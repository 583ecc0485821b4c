"""Dataset snapshots: the writing builder's rows, the held-out split, the hash, reproducibility."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import FIXED_TEXT
from tests.factories import DocumentFactory, ProjectFactory, iteration_in_review
from webapp.registry.datasets import DatasetFilters, DatasetRow, dataset_builders
from webapp.training.errors import TrainingRequestError
from webapp.training.models import SnapshotRow
from webapp.training.snapshots import (
    content_hash,
    snapshot_create,
    snapshot_export_jsonl,
    snapshot_preview,
    snapshot_rebuild,
    snapshot_rows,
    split_rows,
)
from webapp.writing import services
from webapp.writing.datasets import writing_rows
from webapp.writing.models import Decision

pytestmark = pytest.mark.django_db
PROMPT = "Fix grammatical errors in this sentence"


def decide(iteration, user, verdicts: list[str]):
    proposals = list(iteration.proposals.order_by("index"))
    for proposal, verdict in zip(proposals, verdicts):
        services.proposal_decide(proposal=proposal, user=user, verdict=verdict)
    return proposals


def rows_now(**filters):
    return list(writing_rows(DatasetFilters(cutoff=timezone.now(), **filters)))


def test_writing_rows_are_per_sentence_with_the_accepted_edits_chosen_and_the_rejected_ones_rejected(review, writer):
    decide(review, writer, ["accept", "reject"])  # " the" deleted: accepted; "were" -> "was": rejected
    first, second = rows_now()
    assert first.prompt == f"{PROMPT}: The cat sat on the the mat."
    assert (first.chosen, first.rejected) == ("The cat sat on the mat.", "")  # nothing rejected there: SFT only
    assert second.prompt == f"{PROMPT}: It were happy."
    assert (second.chosen, second.rejected) == ("It were happy.", "It was happy.")
    assert second.meta["rejected"] == [[3, 7, "were", "was"]] and second.meta["accepted"] == []
    assert second.meta["iteration"] == review.pk and second.meta["sentence"] == "It were happy."
    assert {"writing", "coding"} <= set(dataset_builders())


def test_undecided_and_undone_edits_count_for_neither(review, writer):
    decide(review, writer, ["accept"])
    services.proposal_decide(proposal=review.proposals.order_by("index")[1], user=writer, verdict="reject")
    services.decision_undo(iteration=review, user=writer)  # the reject is undone: that edit is undecided again
    (only,) = rows_now()
    assert only.chosen == "The cat sat on the mat."


def test_a_decision_counts_as_it_stood_at_the_cutoff(review, writer):
    (first, _) = decide(review, writer, ["reject"])
    cutoff = timezone.now()
    Decision.objects.filter(proposal=first).update(decided_at=cutoff - timedelta(seconds=5))
    services.proposal_decide(proposal=first, user=writer, verdict="accept")  # changed after the cutoff
    (row,) = list(writing_rows(DatasetFilters(cutoff=cutoff)))
    assert (row.chosen, row.rejected) == ("The cat sat on the the mat.", "The cat sat on the mat.")
    (row_now,) = rows_now()
    assert (row_now.chosen, row_now.rejected) == ("The cat sat on the mat.", "")


def test_the_text_the_writer_finally_kept_is_chosen_after_later_rounds_and_hand_edits(review, writer):
    decide(review, writer, ["accept", "reject"])
    before_apply = rows_now()
    assert [r.chosen for r in before_apply] == ["The cat sat on the mat.", "It were happy."]  # not applied yet
    services.iteration_apply(iteration=review, user=writer)
    document = review.document
    document.refresh_from_db()
    # The writer fixes by hand what they turned down, their own way, and adds a word elsewhere.
    services.document_text_edit(document=document, user=writer, text="The cat sat on the red mat. It is happy.")
    first, second = rows_now()
    assert (first.chosen, first.meta["final"]) == ("The cat sat on the red mat.", "The cat sat on the red mat.")
    assert (second.chosen, second.rejected) == ("It is happy.", "It were happy.".replace("were", "was"))
    assert second.prompt == f"{PROMPT}: It were happy."  # what the model saw stays the prompt


def test_a_turned_down_revision_the_writer_made_in_the_end_is_not_a_rejected_output(review, writer):
    decide(review, writer, ["accept", "reject"])
    services.iteration_apply(iteration=review, user=writer)
    services.document_text_edit(document=review.document, user=writer, text="The cat sat on the mat. It was happy.")
    _, second = rows_now()
    assert (second.chosen, second.rejected) == ("It was happy.", "")


def test_a_sentence_the_model_left_and_the_writer_fixed_by_hand_is_a_row(writer):
    text = "The cat sat on the the mat. Dogs barks."
    document = DocumentFactory(owner=writer, original_text=text, current_text=text)
    iteration = iteration_in_review(document, "The cat sat on the mat. Dogs barks.")
    decide(iteration, writer, ["accept"])
    services.iteration_apply(iteration=iteration, user=writer)
    services.document_text_edit(document=document, user=writer, text="The cat sat on the mat. Dogs bark.")
    first, missed = rows_now()
    assert first.chosen == "The cat sat on the mat." and len(first.meta["decisions"]) == 1
    assert (missed.prompt, missed.chosen, missed.rejected) == (f"{PROMPT}: Dogs barks.", "Dogs bark.", "")
    assert missed.meta["decisions"] == [] and missed.meta["accepted"] == missed.meta["rejected"] == []


def test_project_filter_keeps_only_that_projects_documents(writer):
    project = ProjectFactory()
    project.members.add(writer)
    inside = iteration_in_review(DocumentFactory(owner=writer, project=project), FIXED_TEXT)
    outside = iteration_in_review(DocumentFactory(owner=writer), FIXED_TEXT)
    decide(inside, writer, ["accept", "accept"])
    decide(outside, writer, ["accept", "accept"])
    assert {r.meta["iteration"] for r in rows_now(project_id=project.pk)} == {inside.pk}
    assert {r.meta["iteration"] for r in rows_now()} == {inside.pk, outside.pk}


def test_split_is_by_prompt_hash_and_keeps_one_held_out_row_in_small_sets():
    rows = [DatasetRow("writing", f"prompt {i}", f"chosen {i}") for i in range(40)]
    split = split_rows(rows, 10)
    held = [r.prompt for s, r in split if s == SnapshotRow.Split.HELD_OUT]
    assert 0 < len(held) < 12
    assert split_rows(list(reversed(rows)), 10) == list(reversed(split))  # a row's side never depends on its neighbours
    small = split_rows(rows[:5], 1)
    assert sum(s == SnapshotRow.Split.HELD_OUT for s, _ in small) == 1
    assert all(s == SnapshotRow.Split.TRAIN for s, _ in split_rows(rows, 0))
    twins = [DatasetRow("writing", "same prompt", "a"), DatasetRow("writing", "same prompt", "b")]
    assert len({s for s, _ in split_rows(twins * 20, 30)}) == 1  # duplicates never straddle the split


def test_snapshot_freezes_rows_and_hash_and_rebuilds_identically(review, writer, admin_user):
    decide(review, writer, ["accept", "reject"])
    snapshot = snapshot_create(user=admin_user, sources=["writing"], held_out_percent=0)
    stored = snapshot_rows(snapshot)
    assert snapshot.row_count == len(stored) == 2 and snapshot.held_out_count == 0
    assert snapshot.counts == {"writing": {"train": 2, "held_out": 0, "pairs": 1}}
    assert content_hash(stored) == snapshot.content_hash
    # Later feedback changes nothing in the snapshot or its rebuild.
    services.proposal_decide(proposal=review.proposals.order_by("index")[1], user=writer, verdict="accept")
    rebuilt = snapshot_rebuild(snapshot)
    assert rebuilt == stored and content_hash(rebuilt) == snapshot.content_hash
    later = snapshot_create(user=admin_user, sources=["writing"], held_out_percent=0)
    assert later.content_hash != snapshot.content_hash
    again = snapshot_create(user=admin_user, sources=["writing"], held_out_percent=0, cutoff=snapshot.cutoff)
    assert again.content_hash == snapshot.content_hash and snapshot_rows(again) == stored


def test_snapshot_exports_trl_columns_as_json_lines(review, writer, admin_user):
    decide(review, writer, ["accept", "reject"])
    snapshot = snapshot_create(user=admin_user, sources=["writing"], held_out_percent=0)
    records = [json.loads(line) for line in snapshot_export_jsonl(snapshot)]
    assert [r["position"] for r in records] == [0, 1]
    assert {"prompt", "chosen", "rejected", "split", "source", "meta"} <= set(records[1])
    assert records[1]["rejected"] == "It was happy."


def test_preview_counts_what_a_snapshot_would_hold(review, writer):
    decide(review, writer, ["accept", "reject"])
    preview = snapshot_preview(sources=["writing"], held_out_percent=0)
    assert preview == {"counts": {"writing": {"train": 2, "held_out": 0, "pairs": 1}}, "rows": 2, "pairs": 1}


def test_no_feedback_unknown_sources_and_bad_shares_are_refused(admin_user):
    with pytest.raises(TrainingRequestError, match="no feedback to train on"):
        snapshot_create(user=admin_user, sources=["writing"])
    with pytest.raises(TrainingRequestError, match="Unknown source 'telepathy'"):
        snapshot_create(user=admin_user, sources=["telepathy"])
    with pytest.raises(TrainingRequestError, match="at least one source"):
        snapshot_create(user=admin_user, sources=[])
    with pytest.raises(TrainingRequestError, match="between 0 and 50"):
        snapshot_create(user=admin_user, sources=["writing"], held_out_percent=80)
