"""iteration_generate (the worker's side) with a tiny model built locally, called in-process."""

import time

import psycopg
import pytest
from django.db import connection

from tests.factories import DocumentFactory, ModelVersionFactory
from webapp.core.locks import _namespace_key
from webapp.registry.services import model_version_activate
from webapp.writing import services
from webapp.writing.models import Iteration

TEXT = "The cat sat on the the mat. It were happy.\n\nA second paragraph is here."


@pytest.fixture
def tiny_version(db, tiny_model_path):
    return model_version_activate(version=ModelVersionFactory(base_model=tiny_model_path))


def queued_round(document, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return services.iteration_start(document=document, user=user)


def test_generation_stores_proposals_that_rebuild_the_model_output(
    writer, tiny_version, django_capture_on_commit_callbacks
):
    doc = DocumentFactory(owner=writer, original_text=TEXT, current_text=TEXT)
    iteration = queued_round(doc, writer, django_capture_on_commit_callbacks)
    services.iteration_generate(iteration_id=iteration.pk)
    iteration.refresh_from_db()
    assert iteration.status in (Iteration.Status.REVIEW, Iteration.Status.APPLIED)
    assert iteration.model_version == tiny_version
    assert iteration.generation_settings["model"] == tiny_version.base_model
    assert iteration.generation_seconds > 0
    assert iteration.job.status == "succeeded" and iteration.job.done == iteration.job.total == 3
    # Accepting every proposal reproduces the model output exactly.
    services.proposals_decide_all(iteration=iteration, user=writer, verdict="accept")
    services.iteration_apply(iteration=iteration, user=writer)
    iteration.refresh_from_db()
    assert iteration.text_after == iteration.model_output


def test_a_model_that_cannot_load_fails_the_round_with_a_clear_reason(writer, db, django_capture_on_commit_callbacks):
    model_version_activate(version=ModelVersionFactory(base_model="/no/such/model-dir"))
    doc = DocumentFactory(owner=writer)
    iteration = queued_round(doc, writer, django_capture_on_commit_callbacks)
    services.iteration_generate(iteration_id=iteration.pk)
    iteration.refresh_from_db()
    assert iteration.status == Iteration.Status.FAILED
    assert "/no/such/model-dir" in iteration.error
    assert iteration.job.status == "failed" and "/no/such/model-dir" in iteration.job.error
    # The failed round can be retried; the retry is a new round at the same depth.
    retry = queued_round_retry(iteration, writer, django_capture_on_commit_callbacks)
    assert (retry.depth, retry.number, retry.status) == (1, 2, Iteration.Status.QUEUED)


def queued_round_retry(iteration, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return services.iteration_retry(iteration=iteration, user=user)


def test_rejected_edits_are_not_proposed_again(writer, tiny_version, django_capture_on_commit_callbacks):
    doc = DocumentFactory(owner=writer, original_text=TEXT, current_text=TEXT)
    first = queued_round(doc, writer, django_capture_on_commit_callbacks)
    services.iteration_generate(iteration_id=first.pk)
    first.refresh_from_db()
    assert first.status == Iteration.Status.REVIEW, "the random tiny model rewrites every sentence"
    services.proposals_decide_all(iteration=first, user=writer, verdict="reject")
    with django_capture_on_commit_callbacks(execute=False):
        second = services.iteration_apply(iteration=first, user=writer, revise_again=True)
    services.iteration_generate(iteration_id=second.pk)
    second.refresh_from_db()
    # Greedy decoding proposes the same edits on the same text; all were rejected before.
    assert second.proposals.count() == 0
    assert second.status == Iteration.Status.APPLIED
    assert second.generation_settings["dropped_as_rejected_before"] == first.proposals.count()


def wait_until_lock_released(key: int, timeout: float = 10.0) -> None:
    """A closed connection's locks go when the server notices the disconnect, not at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s", [key])
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the advisory lock was not released")


@pytest.mark.django_db(transaction=True)
def test_a_round_held_by_a_live_worker_is_skipped_and_taken_over_once_that_worker_is_gone(tiny_model_path):
    from tests.factories import UserFactory

    writer = UserFactory()
    model_version_activate(version=ModelVersionFactory(base_model=tiny_model_path))
    doc = DocumentFactory(owner=writer)
    iteration = services.iteration_start(document=doc, user=writer)
    Iteration.objects.filter(pk=iteration.pk).update(status=Iteration.Status.GENERATING)

    # Another worker's database session holds the round's lock: this one leaves it alone.
    other = psycopg.connect(dbname=connection.settings_dict["NAME"], host="127.0.0.1", user="postgres", autocommit=True)
    other.execute("SELECT pg_advisory_lock(%s, %s)", [_namespace_key("writing.iteration"), iteration.pk])
    services.iteration_generate(iteration_id=iteration.pk)
    iteration.refresh_from_db()
    assert iteration.status == Iteration.Status.GENERATING and not iteration.proposals.exists()

    # That worker dies (its connection closes): the redelivered task takes the round over.
    other.close()
    wait_until_lock_released(iteration.pk)
    services.iteration_generate(iteration_id=iteration.pk)
    iteration.refresh_from_db()
    assert iteration.status in (Iteration.Status.REVIEW, Iteration.Status.APPLIED)
    assert iteration.model_output is not None


def generated_round(writer, text: str, django_capture_on_commit_callbacks) -> tuple[dict, set]:
    """A new document's first round, generated: its settings and its proposals."""
    doc = DocumentFactory(owner=writer, original_text=text, current_text=text)
    services.iteration_generate(iteration_id=queued_round(doc, writer, django_capture_on_commit_callbacks).pk)
    iteration = doc.iterations.get()
    return iteration.generation_settings, {
        (p.start_char, p.end_char, p.before, p.after) for p in iteration.proposals.all()
    }


def test_the_lexicon_guard_filters_what_the_model_proposes(
    writer, tiny_version, django_capture_on_commit_callbacks, settings
):
    def proposals(guard: bool) -> tuple[dict, set]:
        settings.REDLINE_LEXICON_GUARD = guard
        return generated_round(writer, TEXT, django_capture_on_commit_callbacks)

    unguarded_settings, unguarded = proposals(False)
    guarded_settings, guarded = proposals(True)
    assert (unguarded_settings["lexicon_guard"], guarded_settings["lexicon_guard"]) == (False, True)
    # The same model and greedy decoding: the guard only takes away, and this random one rewords a lot.
    assert guarded < unguarded


def test_the_word_lists_add_their_fixes_to_the_models_edits(
    writer, tiny_version, django_capture_on_commit_callbacks, settings
):
    text = "You should of seen it. Their are two of them. We have went home."
    settings.REDLINE_LEXICON_GUARD = True  # the random model's own rewrites mostly go

    def proposals(fixes: bool) -> tuple[dict, set]:
        settings.REDLINE_WORD_LIST_FIXES = fixes
        return generated_round(writer, text, django_capture_on_commit_callbacks)

    plain_settings, plain = proposals(False)
    fixed_settings, fixed = proposals(True)
    assert (plain_settings["word_list_fixes"], fixed_settings["word_list_fixes"]) == (False, True)
    # The model's edits stay; the lists add theirs only where the model left the words alone.
    assert plain < fixed
    assert {(before, after) for _, _, before, after in fixed - plain} <= {
        ("of", "have"),
        ("Their", "There"),
        ("went", "gone"),
    }
