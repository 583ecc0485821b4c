"""Revising a document sentence by sentence and turning the revisions into reviewable edits.

Each sentence is revised on its own (the CoEdIT input format), so every edit stays inside one
sentence and the text between sentences is never touched. Applying all edits to the text
gives exactly the model output. Every edit gets its kind and R3 intent (inference.edit_kinds).
Edits that write a word that is not English are not proposed (the lexicon guard), nor, under
a grammar fix, rewordings of correct words the model is not sure of; where the settings or the
model ask for a minimum edit gain, an edit the model itself barely prefers to the sentence as
written is not proposed either. What is not proposed is not part of the model output.
"""

import math
import re
import time
from bisect import bisect_right
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

from inference import lexicon
from inference.diffing import EditAction, apply_edits, diff_words
from inference.edit_kinds import ANY_GAIN, EditKind, classify_edit, document_word_counts, edit_intent, guard_min_gain
from inference.editor import Generated, GenerationSettings
from inference.instructions import is_grammar_fix
from inference.sentences import sentence_spans
from inference.word_list_fixes import FREQUENCY_WEIGHT, WORD_LIST_MIN_GAIN, WordFix, word_fixes

if TYPE_CHECKING:
    from inference.best_of_n import BestOfN
    from inference.editor import Editor

_NEWLINE_RUN = re.compile(r"\s*\n\s*")


@dataclass(frozen=True)
class ProposedEdit(EditAction):
    intent: str
    score: float  # the confidence of the sentence revision the edit came from
    kind: EditKind | None = None  # inference.edit_kinds.classify_edit


@dataclass(frozen=True)
class DocumentRevision:
    model_output: str
    edits: list[ProposedEdit]
    sentence_count: int
    seconds: float
    from_sample: int = 0  # with best-of-n, the sentences whose revision is a sampled one (inference.best_of_n)


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


_END_MARKS = ".!?;:,"


def _mark_split(edit: EditAction) -> list[EditAction]:
    """One word changed and a punctuation mark added after it ("ojbect" -> "object.") are two
    decisions: the writer may want the respelling and not the period. Anything larger stays one."""
    before, after = edit.before, edit.after
    core = after.rstrip(_END_MARKS)
    one_word = before.isalpha() and core.isalpha()
    if edit.action != "R" or not one_word or core == after or core == before:
        return [edit]
    return [
        EditAction("R", edit.start, edit.end, before, core),
        EditAction("A", edit.end, edit.end, "", after[len(core) :]),
    ]


def revision_from_sentences(
    text: str, spans: list[tuple[int, int]], revisions: list[Generated], intent: str
) -> tuple[str, list[ProposedEdit]]:
    """The revised text and its edits, each with its kind and R3 intent (inference.edit_kinds;
    `intent` is the instruction's); an empty revision leaves its sentence unchanged, and the
    text's own line breaks are kept."""
    if len(spans) != len(revisions):
        raise ValueError(f"{len(spans)} sentences but {len(revisions)} revisions")
    counts = document_word_counts(text)
    edits: list[ProposedEdit] = []
    for (start, end), generated in zip(spans, revisions):
        sentence = text[start:end]
        revised = clean_revision(generated.text) or sentence
        for e in (piece for whole in diff_words(sentence, revised) for piece in _mark_split(whole)):
            if _layout_only(e):
                continue
            kind = classify_edit(sentence, e.start, e.end, e.after, counts)
            edits.append(
                ProposedEdit(
                    e.action,
                    e.start + start,
                    e.end + start,
                    e.before,
                    e.after,
                    edit_intent(kind, e.before, e.after, intent),
                    generated.score,
                    kind,
                )
            )
    return apply_edits(text, edits), edits


def revise_document(
    editor: "Editor",
    text: str,
    prompt: str,
    intent: str,
    settings: GenerationSettings = GenerationSettings(),
    on_progress: Callable[[int, int], None] | None = None,
    prompt_prefixes: list[str] | None = None,
    best_of: "BestOfN | None" = None,
) -> DocumentRevision:
    """Runs `prompt` over every sentence of `text`; on_progress(done, total) counts sentences.
    prompt_prefixes, one per sentence (sentence_spans), go before each sentence's prompt: the
    context a model that reads it is given (inference.memory). With `best_of`, a reward model picks
    each sentence's revision among several (inference.best_of_n); the edits then go through the
    same filters as greedy ones."""
    started = time.perf_counter()
    spans = sentence_spans(text)
    if prompt_prefixes is not None and len(prompt_prefixes) != len(spans):
        raise ValueError(f"{len(spans)} sentences but {len(prompt_prefixes)} prompt prefixes")
    prefixes = prompt_prefixes or [""] * len(spans)
    prompts = [prefix + model_input(prompt, text[start:end]) for prefix, (start, end) in zip(prefixes, spans)]
    from_sample = 0
    if best_of is not None:
        from inference.best_of_n import best_of_n_generate

        picked = best_of_n_generate(editor, prompts, settings, best_of, on_progress)
        revisions, from_sample = picked.generated, picked.from_sample
    else:
        revisions = editor.generate(prompts, settings, on_progress)
    _, edits = revision_from_sentences(text, spans, revisions, intent)
    grammar_fix = is_grammar_fix(prompt)
    if edits:
        edits = edits_to_propose(editor, text, spans, prompts, edits, settings, grammar_fix)
    if grammar_fix and settings.word_list_fixes:
        edits = sorted(
            edits + word_list_edits(editor, text, spans, prompts, edits, revisions, intent, settings),
            key=lambda e: (e.start, e.end),
        )
    model_output = apply_edits(text, edits)  # what is not proposed is not part of the model output
    return DocumentRevision(model_output, edits, len(spans), time.perf_counter() - started, from_sample)


def word_list_edits(
    editor: "Editor",
    text: str,
    spans: list[tuple[int, int]],
    prompts: list[str],
    edits: list[ProposedEdit],
    revisions: list[Generated],
    intent: str,
    settings: GenerationSettings,
) -> list[ProposedEdit]:
    """The word lists' fixes (inference.word_list_fixes) for the words no edit touches: of each
    fix's candidates, the one the model and the word's frequency rank first (its gain plus
    FREQUENCY_WEIGHT nats per e-fold of frequency), if its gain reaches WORD_LIST_MIN_GAIN or the
    fix is a sure pattern's."""
    local = _local_edits(edits, spans)
    found = [
        (i, fix)
        for i, (start, end) in enumerate(spans)
        for fix in word_fixes(text[start:end], [(e.start, e.end) for e in local.get(i, [])])
    ]
    if not found:
        return []
    with_fixes = sorted({i for i, _ in found})
    asks = [(prompts[i], text[spans[i][0] : spans[i][1]]) for i in with_fixes]
    asks += [(prompts[i], _with(text[spans[i][0] : spans[i][1]], fix, c)) for i, fix in found for c in fix.candidates]
    scores = editor.score([p for p, _ in asks], [o for _, o in asks], settings.batch_size)
    as_written = dict(zip(with_fixes, scores))
    candidate_scores = iter(scores[len(as_written) :])
    counts = document_word_counts(text)
    proposed = []
    for i, fix in found:
        ranked = [(next(candidate_scores) - as_written[i], c) for c in fix.candidates]
        gain, best = max(ranked, key=lambda pair: pair[0] + FREQUENCY_WEIGHT * math.log1p(lexicon.frequency(pair[1])))
        if gain < WORD_LIST_MIN_GAIN and not fix.sure:
            continue
        sentence = text[spans[i][0] : spans[i][1]]
        kind = classify_edit(sentence, fix.start, fix.end, best, counts)
        proposed.append(
            ProposedEdit(
                "R",
                fix.start + spans[i][0],
                fix.end + spans[i][0],
                fix.before,
                best,
                edit_intent(kind, fix.before, best, intent),
                revisions[i].score,
                kind,
            )
        )
    return proposed


def _local_edits(edits: list[ProposedEdit], spans: list[tuple[int, int]]) -> dict[int, list[ProposedEdit]]:
    """Each sentence's edits (by index in `spans`, in order), with offsets within the sentence."""
    starts = [start for start, _ in spans]
    per_sentence: dict[int, list[ProposedEdit]] = {}
    for e in edits:
        i = bisect_right(starts, e.start) - 1
        per_sentence.setdefault(i, []).append(replace(e, start=e.start - spans[i][0], end=e.end - spans[i][0]))
    return per_sentence


def _with(sentence: str, fix: WordFix, candidate: str) -> str:
    return sentence[: fix.start] + candidate + sentence[fix.end :]


def edits_to_propose(
    editor: "Editor",
    text: str,
    spans: list[tuple[int, int]],
    prompts: list[str],
    edits: list[ProposedEdit],
    settings: GenerationSettings,
    grammar_fix: bool,
) -> list[ProposedEdit]:
    """The edits of `text` that pass the lexicon guard and the minimum edit gain
    (sentence_edits_to_propose), in their order."""
    per_sentence = _local_edits(edits, spans)
    items = [(prompts[i], text[spans[i][0] : spans[i][1]], local) for i, local in per_sentence.items()]
    kept = sentence_edits_to_propose(editor, items, settings, [grammar_fix] * len(items))
    return sorted(
        (
            replace(e, start=e.start + spans[i][0], end=e.end + spans[i][0])
            for i, mine in zip(per_sentence, kept)
            for e in mine
        ),
        key=lambda e: (e.start, e.end),
    )


def sentence_edits_to_propose(
    editor: "Editor",
    items: list[tuple[str, str, list[ProposedEdit]]],
    settings: GenerationSettings,
    grammar_fix: list[bool],
) -> list[list[ProposedEdit]]:
    """For each (prompt, sentence, edits with offsets in the sentence): the edits to propose;
    grammar_fix says, per item, whether its prompt was a grammar fix.

    The lexicon guard (inference.edit_kinds.guard_min_gain, unless settings.lexicon_guard is off)
    drops edits that write a word that is not English, and under a grammar fix keeps a rewording
    or a respelt name only if the model's own gain for it (edit_gains) reaches
    REWORDING_MIN_GAIN (a repeated word's respelling, REPEATED_WORD_MIN_GAIN); the minimum edit
    gain (Editor.min_edit_gain) then applies to every edit. A fix the model is sure of stays; a
    word it slipped on while copying its sentence goes."""
    min_gain = editor.min_edit_gain(settings)
    floor = ANY_GAIN if min_gain is None else min_gain
    needed = [
        [guard_min_gain(e.kind, strict) if settings.lexicon_guard and e.kind else ANY_GAIN for e in edits]
        for (_, _, edits), strict in zip(items, grammar_fix, strict=True)
    ]
    candidates = [
        [(e, max(n, floor)) for e, n in zip(edits, mine) if n is not None] for (_, _, edits), mine in zip(items, needed)
    ]
    to_score = [[e for e, n in pairs if n > ANY_GAIN] for pairs in candidates]
    gains = edit_gains(editor, [(p, s, edits) for (p, s, _), edits in zip(items, to_score)], settings.batch_size)
    kept = []
    for pairs, scored, sentence_gains in zip(candidates, to_score, gains):
        gain_of = {id(e): g for e, g in zip(scored, sentence_gains)}
        kept.append([e for e, n in pairs if n == ANY_GAIN or gain_of[id(e)] >= n])
    return kept


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
