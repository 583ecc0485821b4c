"""Rows of general English mixed into an editor's retraining (rehearsal).

Retrained on a few hundred decisions of one writer, a small editor drifts: it starts to change
prose nobody decided on (the promotion gate measured everyday harm going from 0.5% to 2.5% after
30 LoRA steps). Mixing in rows of the kind the editor was first trained on keeps what it knew:
half are correct sentences it should leave as they are, half carry one mistake it should fix.
For DPO each row is a pair: the correct sentence is preferred to the damaged one, and to the
mistake left in.

The sentences are the team's own everyday training sentences (inference/editor_data/
everyday_train.txt, part of this repository), never the everyday suite. The mistakes are ones no
writer's taste disagrees with (misspellings, doubled words, agreement, articles, confusions such
as their/there): nothing about capitals or end punctuation, which are a writer's own style.
"""

import random

from inference.training.common import PreferenceRow

ANCHOR_ERROR_TYPES = ("misspelling", "doubled_word", "agreement", "article", "confusion")


def anchor_rows(count: int, prompt: str, seed: int = 0) -> list[PreferenceRow]:
    """`count` rows (deterministic for a seed) for instruction `prompt`: alternately a correct
    sentence kept as it is (rejected: the sentence with a mistake put in) and a sentence with one
    mistake fixed (rejected: the mistake left in)."""
    from inference.editor_data import noise
    from inference.editor_data.general import team_sentences
    from inference.revision import model_input

    if count <= 0:
        return []
    rng = random.Random(f"anchors:{seed}")
    sentences = team_sentences()
    rng.shuffle(sentences)
    misspellings = noise.load_misspellings().train
    rows: list[PreferenceRow] = []
    for sentence in sentences * (1 + count // max(len(sentences), 1)):
        if len(rows) == count:
            break
        damaged = _with_mistake(sentence, rng, misspellings, noise)
        if damaged is None:
            continue
        if len(rows) % 2 == 0:
            rows.append(PreferenceRow(model_input(prompt, sentence), sentence, damaged))
        else:
            rows.append(PreferenceRow(model_input(prompt, damaged), sentence, damaged))
    return rows


def _with_mistake(sentence: str, rng: random.Random, misspellings, noise) -> str | None:
    for error in rng.sample(ANCHOR_ERROR_TYPES, len(ANCHOR_ERROR_TYPES)):
        if error == "misspelling":
            damaged = noise.misspelling(sentence, rng, misspellings)
        else:
            damaged = noise.CORRUPTIONS[error](sentence, rng)
        if damaged is not None and damaged != sentence:
            return damaged
    return None
