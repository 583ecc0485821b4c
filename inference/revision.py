"""Revising a document sentence by sentence and turning the revisions into reviewable edits.

Each sentence is revised on its own (the CoEdIT input format), so every edit stays inside one
sentence and the text between sentences is never touched. Applying all edits to the text
gives exactly the model output. Where the settings or the model ask for a minimum edit gain, an
edit the model itself barely prefers to the sentence as written is not proposed (and is not part
of the model output either).
"""

import re
import time
from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from inference.diffing import EditAction, apply_edits, diff_words
from inference.editor import Generated, GenerationSettings
from inference.sentences import sentence_spans

if TYPE_CHECKING:
    from inference.editor import Editor

_NEWLINE_RUN = re.compile(r"\s*\n\s*")


@dataclass(frozen=True)
class ProposedEdit(EditAction):
    intent: str
    score: float  # the confidence of the sentence revision the edit came from


@dataclass(frozen=True)
class DocumentRevision:
    model_output: str
    edits: list[ProposedEdit]
    sentence_count: int
    seconds: float


def model_input(prompt: str, sentence: str) -> str:
    """CoEdIT's input format, "<instruction>: <sentence>"."""
    return f"{prompt.strip().rstrip(':')}: {sentence}"


def clean_revision(text: str) -> str:
    """One line without surrounding whitespace; a sentence must not break the paragraph it sits in."""
    return _NEWLINE_RUN.sub(" ", text.strip())


def _layout_only(edit: EditAction) -> bool:
    """A line break the one-line revision turned into a space ("Best regards,\nSam"): layout
    the writer chose, not an edit the model meant."""
    return "\n" in edit.before and not edit.before.strip() and not edit.after.strip()


def revision_from_sentences(
    text: str, spans: list[tuple[int, int]], revisions: list[Generated], intent: str
) -> tuple[str, list[ProposedEdit]]:
    """The revised text and its edits; an empty revision leaves its sentence unchanged, and the
    text's own line breaks are kept."""
    if len(spans) != len(revisions):
        raise ValueError(f"{len(spans)} sentences but {len(revisions)} revisions")
    edits: list[ProposedEdit] = []
    for (start, end), generated in zip(spans, revisions):
        sentence = text[start:end]
        revised = clean_revision(generated.text) or sentence
        for e in diff_words(sentence, revised, offset=start):
            if not _layout_only(e):
                edits.append(ProposedEdit(e.action, e.start, e.end, e.before, e.after, intent, generated.score))
    return apply_edits(text, edits), edits


def revise_document(
    editor: "Editor",
    text: str,
    prompt: str,
    intent: str,
    settings: GenerationSettings = GenerationSettings(),
    on_progress: Callable[[int, int], None] | None = None,
    prompt_prefixes: list[str] | None = None,
) -> DocumentRevision:
    """Runs `prompt` over every sentence of `text`; on_progress(done, total) counts sentences.
    prompt_prefixes, one per sentence (sentence_spans), go before each sentence's prompt: the
    context a model that reads it is given (inference.memory)."""
    started = time.perf_counter()
    spans = sentence_spans(text)
    if prompt_prefixes is not None and len(prompt_prefixes) != len(spans):
        raise ValueError(f"{len(spans)} sentences but {len(prompt_prefixes)} prompt prefixes")
    prefixes = prompt_prefixes or [""] * len(spans)
    prompts = [prefix + model_input(prompt, text[start:end]) for prefix, (start, end) in zip(prefixes, spans)]
    revisions = editor.generate(prompts, settings, on_progress)
    model_output, edits = revision_from_sentences(text, spans, revisions, intent)
    min_gain = editor.min_edit_gain(settings)
    if min_gain is not None and edits:
        edits = edits_worth_proposing(editor, text, spans, prompts, edits, min_gain, settings.batch_size)
        model_output = apply_edits(text, edits)
    return DocumentRevision(model_output, edits, len(spans), time.perf_counter() - started)


def edits_worth_proposing(
    editor: "Editor",
    text: str,
    spans: list[tuple[int, int]],
    prompts: list[str],
    edits: list[ProposedEdit],
    min_gain: float,
    batch_size: int = 16,
) -> list[ProposedEdit]:
    """The edits of `text` whose gain (edit_gains) is at least `min_gain` nats: a fix the model
    is sure of stays, a word it slipped on while copying its sentence goes."""
    starts = [start for start, _ in spans]
    per_sentence: dict[int, list[ProposedEdit]] = {}
    for edit in edits:
        per_sentence.setdefault(bisect_right(starts, edit.start) - 1, []).append(edit)
    items = []
    for i, mine in per_sentence.items():
        start, end = spans[i]
        local = [EditAction(e.action, e.start - start, e.end - start, e.before, e.after) for e in mine]
        items.append((prompts[i], text[start:end], local))
    gains = edit_gains(editor, items, batch_size)
    grouped = [e for mine in per_sentence.values() for e in mine]  # the edits, in the order of their gains
    flat = [gain for sentence in gains for gain in sentence]
    return [e for e, gain in zip(grouped, flat) if gain >= min_gain]


def edit_gains(
    editor: "Editor", items: list[tuple[str, str, list[EditAction]]], batch_size: int = 16
) -> list[list[float]]:
    """For each (prompt, sentence, edits of that sentence): how much each edit, applied alone,
    raises the model's log-probability (nats) of the sentence as its answer to the prompt."""
    asks: list[tuple[str, str]] = []
    for prompt, sentence, edits in items:
        if not edits:
            continue
        asks.append((prompt, sentence))
        asks.extend((prompt, apply_edits(sentence, [e])) for e in edits)
    scores = iter(editor.score([p for p, _ in asks], [o for _, o in asks], batch_size))
    gains = []
    for _, _, edits in items:
        as_written = next(scores) if edits else 0.0
        gains.append([next(scores) - as_written for _ in edits])
    return gains
