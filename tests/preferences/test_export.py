"""Export of preference pairs: majority per comparison (ties and both-bad give none), filters
(agreement, gold, dates), JSON lines that import again, Parquet that `datasets` loads with TRL's
columns, and the "preferences" dataset builder that snapshots use."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.preferences.helpers import label_as, make_comparisons, project_with
from webapp.preferences import services
from webapp.preferences.errors import PreferenceError
from webapp.preferences.models import Comparison, PreferenceLabel
from webapp.preferences.pairs import Vote, comparison_pair, majority_pair
from webapp.preferences.transfer import (
    ExportFilters,
    comparisons_import,
    labels_export_jsonl,
    labels_export_parquet,
    preference_records,
)
from webapp.registry.datasets import DatasetFilters, dataset_builders, dataset_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled():
    """Five pairs labelled by three annotators, and one gold pair: 0 unanimous A, 1 two B of
    three, 2 majority tie, 3 majority both bad, 4 no single majority; the gold one unanimous B."""
    project, (admin, *annotators) = project_with("admin", "annotator", "annotator", "annotator")
    services.queue_settings_save(
        project=project, user=admin, labels_per_comparison=3, gold_rate=0, reservation_seconds=600
    )
    comparisons = make_comparisons(project, 5)
    (gold,) = make_comparisons(project, 1, gold=True, prefix="gold")
    votes = {
        0: ["a_much_better", "a_better", "a_better"],
        1: ["b_better", "b_much_better", "a_better"],
        2: ["tie", "tie", "a_better"],
        3: ["both_bad", "both_bad", "b_better"],
        4: ["a_better", "b_better", "tie"],
    }
    for i, choices in votes.items():
        for user, choice in zip(annotators, choices):
            label_as(user, comparisons[i], choice=choice)
    for user in annotators:
        label_as(user, gold, choice="b_better")
    return project, admin, annotators, comparisons, gold


def test_majority_pairs_by_hand():
    assert majority_pair(2, [Vote("a_better"), Vote("a_much_better"), Vote("b_better")]).chosen == 0
    pair = majority_pair(2, [Vote("b_much_better"), Vote("b_better")])
    assert (pair.chosen, pair.rejected, pair.agreement, pair.strong) == (1, 0, 1.0, 0.5)
    assert majority_pair(2, [Vote("tie"), Vote("tie"), Vote("a_better")]) is None
    assert majority_pair(2, [Vote("a_better"), Vote("b_better")]) is None
    ranked = majority_pair(3, [Vote(ranking=[2, 0, 1]), Vote(ranking=[2, 1, 0]), Vote(ranking=[0, 2, 1])])
    assert (ranked.chosen, ranked.rejected, round(ranked.agreement, 3)) == (2, 1, 0.667)


def test_records_follow_the_majority_and_the_filters(labelled):
    project, _, _, comparisons, gold = labelled
    rows = list(preference_records(ExportFilters(project_id=project.pk)))
    assert [r["comparison_id"] for r in rows] == [comparisons[0].pk, comparisons[1].pk, gold.pk]
    first, second, gold_row = rows
    assert (first["chosen"], first["rejected"], first["agreement"], first["labels"]) == (
        "p output 0/0",
        "p output 0/1",
        1.0,
        3,
    )
    assert (second["chosen"], second["rejected"], round(second["agreement"], 3)) == (
        "p output 1/1",
        "p output 1/0",
        0.667,
    )
    assert gold_row["is_gold"] and first["chosen_source"] == "source 0"
    assert [
        r["comparison_id"] for r in preference_records(ExportFilters(project_id=project.pk, min_agreement=0.9))
    ] == [comparisons[0].pk, gold.pk]
    assert gold.pk not in [
        r["comparison_id"] for r in preference_records(ExportFilters(project_id=project.pk, exclude_gold=True))
    ]
    future = timezone.now() + timedelta(hours=1)
    assert list(preference_records(ExportFilters(project_id=project.pk, since=future))) == []
    assert len(list(preference_records(ExportFilters(project_id=project.pk, until=future)))) == 3
    other, _ = project_with("admin")
    assert list(preference_records(ExportFilters(project_id=other.pk))) == []


def test_export_reads_comparisons_in_chunks_with_a_fixed_number_of_queries(labelled, django_assert_max_num_queries):
    project = labelled[0]
    with django_assert_max_num_queries(4):  # comparisons, outputs, labels: one query each per chunk
        assert len(list(labels_export_jsonl(ExportFilters(project_id=project.pk)))) == 3


def test_jsonl_export_imports_again(labelled):
    project = labelled[0]
    lines = list(labels_export_jsonl(ExportFilters(project_id=project.pk, exclude_gold=True)))
    rows = [json.loads(line) for line in lines]
    assert all(line.endswith("\n") for line in lines) and list(rows[0])[:3] == ["prompt", "chosen", "rejected"]
    target, (target_admin,) = project_with("admin")
    created = comparisons_import(
        project=target, user=target_admin, filename="export.jsonl", data="".join(lines).encode()
    )
    assert len(created) == len(rows) == 2
    for row, comparison in zip(rows, Comparison.objects.filter(project=target).order_by("pk")):
        outputs = {o.text: o.source for o in comparison.outputs.all()}
        assert comparison.prompt == row["prompt"]
        assert outputs == {row["chosen"]: row["chosen_source"], row["rejected"]: row["rejected_source"]}
        assert comparison.outputs.get(index=comparison.meta["reference_choice"]).text == row["chosen"]
        assert comparison.meta["comparison_id"] == row["comparison_id"]


def test_parquet_export_loads_with_datasets_as_trl_columns(labelled, tmp_path):
    import datasets

    project = labelled[0]
    path = tmp_path / "prefs" / "train.parquet"
    assert labels_export_parquet(ExportFilters(project_id=project.pk), path, chunk_size=2) == 3
    loaded = datasets.load_dataset("parquet", data_files=str(path), split="train", cache_dir=str(tmp_path / "cache"))
    assert loaded.num_rows == 3
    assert loaded.column_names[:3] == ["prompt", "chosen", "rejected"]
    for name in ("prompt", "chosen", "rejected", "origin", "chosen_model_version"):
        assert loaded.features[name].dtype == "string"
    assert loaded[0]["chosen"] == "p output 0/0"
    import pyarrow.parquet as pq

    assert pq.ParquetFile(path).num_row_groups == 2  # written in chunks


def test_an_empty_parquet_export_is_refused_and_leaves_no_file(tmp_path):
    project, _ = project_with("admin")
    path = tmp_path / "empty.parquet"
    with pytest.raises(PreferenceError, match="nothing was exported"):
        labels_export_parquet(ExportFilters(project_id=project.pk), path)
    assert not path.exists()


def test_the_builder_is_registered_and_rebuilds_labels_as_they_stood_at_the_cutoff(labelled):
    project, _, annotators, comparisons, gold = labelled
    assert "preferences" in dataset_builders()
    cutoff = timezone.now()
    before = dataset_rows("preferences", DatasetFilters(cutoff=cutoff, project_id=project.pk))
    assert [r.meta["comparison"] for r in before] == [comparisons[0].pk, comparisons[1].pk, gold.pk]
    assert before[0].is_pair and before[0].chosen == "p output 0/0" and before[0].source == "preferences"
    # After the cutoff, comparison 0 flips to B for everyone and one label of comparison 1 is undone.
    for user in annotators:
        label_as(user, comparisons[0], choice="b_better")
    services.label_undo(user=annotators[2], project=project)  # their last label: comparison 0
    again = dataset_rows("preferences", DatasetFilters(cutoff=cutoff, project_id=project.pk))
    assert [(r.prompt, r.chosen, r.rejected) for r in again] == [(r.prompt, r.chosen, r.rejected) for r in before]
    now = dataset_rows("preferences", DatasetFilters(cutoff=timezone.now(), project_id=project.pk))
    row = next(r for r in now if r.meta["comparison"] == comparisons[0].pk)
    assert (row.chosen, row.meta["labels"]) == ("p output 0/1", 2)
    since = dataset_rows("preferences", DatasetFilters(cutoff=timezone.now(), project_id=project.pk, since=cutoff))
    assert [r.meta["comparison"] for r in since] == [comparisons[0].pk]
    assert PreferenceLabel.objects.filter(comparison=comparisons[0]).count() == 2


def test_resolved_pairs_by_hand():
    votes = [Vote("a_better"), Vote("b_better"), Vote("b_much_better")]
    pair = comparison_pair(2, votes, Vote("a_much_better"))
    assert (pair.chosen, pair.rejected, round(pair.agreement, 3), pair.resolved) == (0, 1, 0.333, True)
    assert comparison_pair(2, votes, Vote("both_bad")) is None  # resolved: neither is better
    assert (
        comparison_pair(2, votes, Vote("")).chosen == 1 and not comparison_pair(2, votes, None).resolved
    )  # the majority
    ranked = comparison_pair(3, [Vote(ranking=[0, 1, 2])], Vote(ranking=[2, 0, 1]))
    assert (ranked.chosen, ranked.rejected, ranked.agreement) == (2, 1, 0.0)


def test_an_admins_resolution_overrides_the_majority_in_export_and_builder(labelled):
    project, admin, annotators, comparisons, gold = labelled
    tied, no_majority = comparisons[2], comparisons[4]
    before = timezone.now()
    services.comparison_resolve(user=admin, comparison=no_majority, choice="b_better")
    services.comparison_resolve(user=admin, comparison=comparisons[0], choice="tie")
    records = {r["comparison_id"]: r for r in preference_records(ExportFilters(project.pk, min_agreement=0.9))}
    assert comparisons[0].pk not in records and tied.pk not in records
    assert (records[no_majority.pk]["chosen"], records[no_majority.pk]["resolved"]) == ("p output 4/1", True)
    assert records[gold.pk]["resolved"] is False
    rows = {
        r.meta["comparison"]: r
        for r in dataset_rows("preferences", DatasetFilters(cutoff=timezone.now(), project_id=project.pk))
    }
    assert rows[no_majority.pk].chosen == "p output 4/1" and rows[no_majority.pk].meta["resolved"] is True
    assert comparisons[0].pk not in rows
    # Resolutions made after the cutoff do not reach a snapshot taken at it.
    rows = {
        r.meta["comparison"] for r in dataset_rows("preferences", DatasetFilters(cutoff=before, project_id=project.pk))
    }
    assert comparisons[0].pk in rows and no_majority.pk not in rows
    # Clearing a resolution is history too: a snapshot at a cutoff in between still sees it.
    resolved_tie = timezone.now()
    services.comparison_resolve(user=admin, comparison=comparisons[0])
    comparisons[0].refresh_from_db()
    assert not comparisons[0].is_resolved
    assert list(comparisons[0].resolutions.values_list("choice", flat=True)) == ["tie", ""]
    rows = {
        r.meta["comparison"]
        for r in dataset_rows("preferences", DatasetFilters(cutoff=resolved_tie, project_id=project.pk))
    }
    assert comparisons[0].pk not in rows
    rows = {
        r.meta["comparison"]
        for r in dataset_rows("preferences", DatasetFilters(cutoff=timezone.now(), project_id=project.pk))
    }
    assert comparisons[0].pk in rows
    with pytest.raises(PreferenceError, match="takes a choice"):
        services.comparison_resolve(user=admin, comparison=tied, ranking=[1, 0])
    with pytest.raises(services.PreferenceForbidden):
        services.comparison_resolve(user=annotators[0], comparison=tied, choice="a_better")


def test_the_export_command_writes_parquet_and_jsonl(labelled, tmp_path):
    import datasets
    from django.core.management import CommandError, call_command

    project = labelled[0]
    call_command(
        "export_preferences", "--project", str(project.pk), "--out", str(tmp_path / "p.parquet"), "--exclude-gold"
    )
    loaded = datasets.load_dataset(
        "parquet", data_files=str(tmp_path / "p.parquet"), split="train", cache_dir=str(tmp_path / "c")
    )
    assert loaded.num_rows == 2
    call_command(
        "export_preferences", "--project", str(project.pk), "--out", str(tmp_path / "p.jsonl"), "--min-agreement", "0.9"
    )
    assert len((tmp_path / "p.jsonl").read_text().splitlines()) == 2  # the unanimous pair and the gold one
    with pytest.raises(CommandError, match="not a date"):
        call_command(
            "export_preferences",
            "--project",
            str(project.pk),
            "--out",
            str(tmp_path / "x.jsonl"),
            "--since",
            "yesterday",
        )
