"""The writer's memory: past decisions on similar sentences shape the next round before any
retraining (retrieved with the real MiniLM encoder, generated with a real tiny model)."""

from dataclasses import astuple

import pytest

from inference.memory import (
    Match,
    PastDecision,
    context_text,
    edits_to_avoid,
    minilm_embed,
    retrieve,
)
from tests.factories import DocumentFactory, ModelVersionFactory, iteration_in_review
from webapp.registry.services import model_version_activate
from webapp.writing import selectors, services
from webapp.writing.models import Iteration

TEXT = "The option are enabled by default. The parser reads the file twice."
SIMILAR = "The options are enabled by default."


def test_minilm_puts_similar_sentences_close_and_different_ones_apart():
    a, b, c = minilm_embed([TEXT.split(". ")[0], SIMILAR, "Bake the bread for forty minutes at high heat."])
    cosine = lambda x, y: sum(p * q for p, q in zip(x, y))  # noqa: E731 (unit vectors)
    assert cosine(a, a) == pytest.approx(1.0, abs=1e-4)
    assert cosine(a, b) > 0.8 > 0.3 > cosine(a, c)


def test_retrieve_finds_decisions_on_the_most_similar_sentences_only():
    past = [
        PastDecision(1, SIMILAR, "options", "option", "reject"),
        PastDecision(2, SIMILAR, "are", "is", "accept"),
        PastDecision(3, "Bake the bread for forty minutes at high heat.", "forty", "40", "reject"),
    ]
    matches = retrieve(past, ["The option are enabled by default.", "Water boils at a hundred degrees."])
    assert {m.decision.decision_id for m in matches[0]} == {1, 2}
    assert matches[1] == []
    assert all(0.75 <= m.similarity <= 1.0 for m in matches[0])


def test_context_note_and_the_edits_to_avoid():
    rejected, accepted = PastDecision(1, "s", "utilize ", "use", "reject"), PastDecision(2, "s", "are", "is", "accept")
    matches = [Match(rejected, 0.9), Match(accepted, 0.8)]
    assert (
        context_text(matches)
        == 'On similar sentences this writer accepted "are" -> "is" and rejected "utilize" -> "use".\n'
    )
    assert context_text([]) == ""
    assert edits_to_avoid(matches) == {("utilize", "use")}
    # Accepted somewhere else as well: the writer does not always mind it, so it stays allowed.
    assert edits_to_avoid(matches + [Match(PastDecision(3, "t", "utilize", "use", "accept"), 0.8)]) == set()


@pytest.fixture
def tiny_version(db, tiny_model_path):
    return model_version_activate(version=ModelVersionFactory(base_model=tiny_model_path))


def generate(document, user, django_capture_on_commit_callbacks) -> Iteration:
    with django_capture_on_commit_callbacks(execute=False):
        iteration = services.iteration_start(document=document, user=user)
    services.iteration_generate(iteration_id=iteration.pk)
    iteration.refresh_from_db()
    return iteration


def test_edits_rejected_on_a_similar_sentence_of_another_document_are_not_proposed(
    writer, tiny_version, django_capture_on_commit_callbacks
):
    first = generate(
        DocumentFactory(owner=writer, original_text=TEXT, current_text=TEXT), writer, django_capture_on_commit_callbacks
    )
    assert first.status == Iteration.Status.REVIEW, "the random tiny model rewrites every sentence"
    assert first.generation_settings["memory"]["decisions"] == []  # nothing decided yet
    services.proposals_decide_all(iteration=first, user=writer, verdict="reject")
    rejected = {(p.before.strip(), p.after.strip()) for p in first.proposals.all()}
    assert len(selectors.writer_past_decisions(user=writer)) == first.proposals.count()

    # Another document with the same sentences: greedy decoding proposes the same edits, and the
    # writer turned every one of them down on those sentences before.
    second = generate(
        DocumentFactory(owner=writer, original_text=TEXT, current_text=TEXT), writer, django_capture_on_commit_callbacks
    )
    assert second.proposals.count() == 0
    assert second.generation_settings["dropped_as_rejected_on_similar"] == len(rejected)
    assert set(second.generation_settings["memory"]["decisions"]) == set(
        first.proposals.values_list("decisions__pk", flat=True)
    )
    assert second.generation_settings["memory"]["in_prompt"] is False  # this version does not read context


def test_a_model_that_reads_context_gets_the_writers_decisions_in_its_prompt(
    writer, tiny_version, django_capture_on_commit_callbacks
):
    first = generate(
        DocumentFactory(owner=writer, original_text=TEXT, current_text=TEXT), writer, django_capture_on_commit_callbacks
    )
    services.proposals_decide_all(iteration=first, user=writer, verdict="accept")
    tiny_version.reads_context = True
    tiny_version.save(update_fields=["reads_context"])
    second = generate(
        DocumentFactory(owner=writer, original_text=TEXT, current_text=TEXT), writer, django_capture_on_commit_callbacks
    )
    assert second.generation_settings["memory"]["in_prompt"] is True
    assert second.generation_settings["dropped_as_rejected_on_similar"] == 0  # accepted edits are not avoided
    # The context changes what the model reads, so the random model's output changes with it.
    assert second.model_output != first.model_output


def test_other_writers_decisions_are_not_this_writers_memory(
    writer, other_writer, tiny_version, django_capture_on_commit_callbacks
):
    first = generate(
        DocumentFactory(owner=other_writer, original_text=TEXT, current_text=TEXT),
        other_writer,
        django_capture_on_commit_callbacks,
    )
    services.proposals_decide_all(iteration=first, user=other_writer, verdict="reject")
    mine = generate(
        DocumentFactory(owner=writer, original_text=TEXT, current_text=TEXT), writer, django_capture_on_commit_callbacks
    )
    assert mine.proposals.count() == first.proposals.count() > 0
    assert mine.generation_settings["memory"]["decisions"] == []


NOTES = [
    ("the cache keep every entry", "The cache keeps every entry."),
    ("a worker read the queue", "A worker reads the queue."),
    ("the report list the figures", "The report lists the figures."),
    ("we sends the invoice today", "We send the invoice today."),
    ("she write the notes", "She writes the notes."),
    ("the parser read the file", "The parser reads the file."),
    ("it run every night", "It runs every night."),
    ("they keeps the logs", "They keep the logs."),
]


def test_a_writers_preference_model_learns_from_their_decisions_what_not_to_propose(writer):
    # A writer of lower-case notes with no final period: they accept the verb fixes and reject
    # the capital and the period, on eight documents.
    for draft, revised in NOTES:
        document = DocumentFactory(owner=writer, original_text=draft, current_text=draft)
        iteration = iteration_in_review(document, revised)
        for proposal in iteration.proposals.all():
            style = proposal.before.lower() == proposal.after.lower() or proposal.after.strip() == "."
            services.proposal_decide(proposal=proposal, user=writer, verdict="reject" if style else "accept")
    new = "the server send the reply"
    iteration = iteration_in_review(DocumentFactory(owner=writer, original_text=new, current_text=new), new)
    memory = services._writer_memory(iteration)
    assert memory.preference.trained and memory.preference.decisions >= 20
    assert not memory.keeps(new, 0, 3, "The")  # a capital they never wanted
    assert not memory.keeps(new, len(new), len(new), ".")  # nor a final period
    assert memory.keeps(new, 11, 15, "sends")  # a verb fix they always took


def test_the_preference_model_can_be_switched_off(writer, settings):
    settings.REDLINE_PREFERENCE_MODEL = False
    document = DocumentFactory(owner=writer, original_text="the cache keep it", current_text="the cache keep it")
    services.proposals_decide_all(
        iteration=iteration_in_review(document, "The cache keeps it."), user=writer, verdict="reject"
    )
    iteration = iteration_in_review(DocumentFactory(owner=writer), "Anything.")
    memory = services._writer_memory(iteration)
    assert memory.preference is None and memory.keeps("the cache", 0, 3, "The")


def _generating(document, user) -> Iteration:
    iteration = iteration_in_review(document, document.current_text, user=user)
    Iteration.objects.filter(pk=iteration.pk).update(status=Iteration.Status.GENERATING)
    iteration.refresh_from_db()
    return iteration


def _store(iteration: Iteration, model_output: str) -> Iteration:
    """The round stored as the worker stores it, for a model that wrote `model_output`."""
    from inference.diffing import diff_words
    from inference.revision import DocumentRevision, ProposedEdit

    edits = [ProposedEdit(*astuple(e), "fluency", 0.5) for e in diff_words(iteration.text_before, model_output)]
    revision = DocumentRevision(model_output, edits, 1, 0.1)
    services._iteration_store_revision(iteration, revision, {}, services._writer_memory(iteration))
    iteration.refresh_from_db()
    return iteration


def test_a_word_the_writer_respelt_by_hand_is_proposed_respelt_next_time(writer, other_writer, settings):
    settings.REDLINE_PREFERENCE_EMBEDDING = False
    drafted = "Set hte signal pad size."
    document = DocumentFactory(owner=writer, original_text=drafted, current_text=drafted)
    services.iteration_apply(iteration=iteration_in_review(document, drafted.replace("pad", "pads")), user=writer)
    document.refresh_from_db()
    services.document_text_edit(document=document, user=writer, text=document.current_text.replace("hte", "the"))

    new = "Hte reduction happens over hte loaded block."
    # The model misses both misspellings and adds a period the writer may not want.
    iteration = _store(
        _generating(DocumentFactory(owner=writer, original_text=new, current_text=new), writer),
        new.replace("block.", "block!"),
    )
    proposed = {(p.before, p.after) for p in iteration.proposals.all()}
    assert {("Hte", "The"), ("hte", "the")} <= proposed
    assert iteration.generation_settings["writer_corrections"] == 2

    # Another writer's hand edits are not this writer's memory; and it can be switched off.
    theirs = _store(
        _generating(DocumentFactory(owner=other_writer, original_text=new, current_text=new), other_writer), new
    )
    assert theirs.proposals.count() == 0
    settings.REDLINE_WRITER_CORRECTIONS = False
    again = _store(_generating(DocumentFactory(owner=writer, original_text=new, current_text=new), writer), new)
    assert again.proposals.count() == 0


def test_a_writer_who_rejects_their_respelling_as_often_as_they_made_it_gets_it_no_more(writer, settings):
    settings.REDLINE_PREFERENCE_EMBEDDING = False
    drafted = "Fix hte bug."
    document = DocumentFactory(owner=writer, original_text=drafted, current_text=drafted)
    services.document_text_edit(document=document, user=writer, text="Fix the bug.")
    first = _store(
        _generating(DocumentFactory(owner=writer, original_text=drafted, current_text=drafted), writer), drafted
    )
    assert [(p.before, p.after) for p in first.proposals.all()] == [("hte", "the")]
    services.proposals_decide_all(iteration=first, user=writer, verdict="reject")
    # A sentence unlike the rejected one, so that only the respellings' count can hold it back.
    other = "Water boils at a hundred degrees in hte kettle."
    later = _store(_generating(DocumentFactory(owner=writer, original_text=other, current_text=other), writer), other)
    assert later.proposals.count() == 0 and later.generation_settings["dropped_as_rejected_on_similar"] == 0
