"""A writer's preference, learnt in a moment from their decisions, before any retraining.

The model proposes; the writer accepts or rejects. A writer who never wants a final period, or a
capital on the first word, rejects the same kind of edit on every new sentence, and an exact
memory of rejected edits (inference.memory) only catches the same edit on a similar sentence.
This is a small logistic regression over what kind of edit it is, not which sentence it is in:
its kind (inference.edit_kinds), whether it touches the sentence's end punctuation or its first
word, whether it only changes case, the punctuation and words it adds and removes, and where it
is. Trained on one writer's decisions (a few hundred at most; milliseconds), it gives the
probability that this writer accepts an edit; the round does not propose edits below a threshold
(CIPHER infers a writer's latent preference from their edits; ReLoop2 corrects a model with an
error memory before it is retrained).

With `embed` (inference.memory.minilm_embed, the MiniLM encoder already shipped), the sentence's
embedding joins the features, scaled by EMBEDDING_WEIGHT: what kind of sentence it is, for a
writer whose taste differs between, say, code comments and e-mail.

With fewer than MIN_DECISIONS decisions, or only accepts or only rejects, there is nothing to
learn and the model holds nothing back.
"""

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from inference.edit_kinds import classify_edit, document_word_counts

MIN_DECISIONS = 20
# Edits this writer accepts with a lower probability are not proposed. Measured on the flywheel's
# writers (bench/flywheel.py --memory): 0.3 holds back what they reject and keeps their fixes.
THRESHOLD = 0.3  # the default of REDLINE_PREFERENCE_THRESHOLD
REGULARISATION = 1.0  # sklearn's C: lower keeps the model nearer the writer's overall acceptance rate
# The embedding's share against the one-hot features of the edit: unit vectors of 384 numbers,
# so that a sentence's kind informs the guess without outweighing the edit's own kind.
EMBEDDING_WEIGHT = 0.5
_END_MARKS = ".!?;:,"
_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class DecidedEdit:
    sentence: str
    start: int  # offsets within the sentence
    end: int
    after: str
    accepted: bool


def edit_features(sentence: str, start: int, end: int, after: str) -> dict[str, float]:
    """The features of replacing sentence[start:end] by `after`: what kind of edit it is."""
    before = sentence[start:end]
    kind = classify_edit(sentence, start, end, after, document_word_counts(sentence)).kind
    features: dict[str, float] = {f"kind={kind}": 1.0}
    stripped = sentence.rstrip()
    if end >= len(stripped) and (before.strip(_END_MARKS + " ") == after.strip(_END_MARKS + " ")):
        features["end_punctuation"] = 1.0
        features[f"end:{before.strip()[-1:] or '-'}->{after.strip()[-1:] or '-'}"] = 1.0
    if not sentence[:start].strip():
        features["first_word"] = 1.0
    if before.lower() == after.lower() and before != after:
        features["case_only"] = 1.0
        features["to_capital" if after[:1].isupper() else "to_lower"] = 1.0
    old, new = Counter(_TOKEN.findall(before.lower())), Counter(_TOKEN.findall(after.lower()))
    for token in new - old:
        features[f"adds:{token}"] = 1.0
    for token in old - new:
        features[f"removes:{token}"] = 1.0
    features[f"where={'start' if start == 0 else 'end' if end >= len(stripped) else 'middle'}"] = 1.0
    return features


class PreferenceModel:
    """P(this writer accepts an edit), from their past decisions."""

    def __init__(
        self,
        vectorizer: Any = None,
        classifier: Any = None,
        decisions: int = 0,
        acceptance: float = 0.0,
        embed: Callable[[list[str]], list[list[float]]] | None = None,
    ):
        self.vectorizer, self.classifier = vectorizer, classifier
        self.decisions, self.acceptance = decisions, acceptance
        self.embed = embed

    @property
    def trained(self) -> bool:
        return self.classifier is not None

    @classmethod
    def fit(
        cls, decided: list[DecidedEdit], embed: Callable[[list[str]], list[list[float]]] | None = None
    ) -> "PreferenceModel":
        accepted = sum(d.accepted for d in decided)
        acceptance = accepted / len(decided) if decided else 0.0
        if len(decided) < MIN_DECISIONS or accepted in (0, len(decided)):
            return cls(decisions=len(decided), acceptance=acceptance)
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = DictVectorizer()
        x = vectorizer.fit_transform([edit_features(d.sentence, d.start, d.end, d.after) for d in decided])
        model = cls(vectorizer, None, len(decided), acceptance, embed)
        x = model._with_embeddings(x, [d.sentence for d in decided])
        model.classifier = LogisticRegression(C=REGULARISATION, max_iter=1000)
        model.classifier.fit(x, [d.accepted for d in decided])
        return model

    def _with_embeddings(self, x: Any, sentences: list[str]) -> Any:
        if self.embed is None:
            return x
        from scipy.sparse import csr_matrix, hstack

        dense = csr_matrix([[EMBEDDING_WEIGHT * v for v in vector] for vector in self.embed(sentences)])
        return hstack([x, dense], format="csr")

    def accept_probability(self, sentence: str, start: int, end: int, after: str) -> float | None:
        """None while the model is not trained."""
        if not self.trained:
            return None
        x = self._with_embeddings(self.vectorizer.transform([edit_features(sentence, start, end, after)]), [sentence])
        return float(self.classifier.predict_proba(x)[0][list(self.classifier.classes_).index(True)])

    def keeps(self, sentence: str, start: int, end: int, after: str, threshold: float = THRESHOLD) -> bool:
        """Whether the edit is worth proposing to this writer."""
        p = self.accept_probability(sentence, start, end, after)
        return p is None or p >= threshold
