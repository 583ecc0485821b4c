"""Best-of-n: a trained reward model picks among several revisions of each sentence.

The editor writes its greedy revision and n - 1 sampled ones; the reward model (a run of method
"reward" on the writers' decisions, inference.training.reward) scores each as an answer to the
sentence's prompt, and the highest-scoring revision is the one diffed into proposals. Ties, and
samples that only repeat another candidate, keep the greedy revision, so with a reward model that
cannot tell the candidates apart best-of-n proposes what greedy decoding does. After "Best-of-n"
reranking as used for RLHF evaluation, and SuperHF (the reward model's picks as SFT targets).
"""

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from inference.editor import Editor, Generated, GenerationSettings


@dataclass(frozen=True)
class BestOfN:
    scorer: Any  # inference.training.evaluate.RewardScorer, or anything with score(prompts, completions)
    n: int = 4
    temperature: float = 0.8

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError("best-of-n needs n of at least 1")
        if self.temperature <= 0:
            raise ValueError("temperature must be above 0")


@dataclass(frozen=True)
class Picked:
    generated: list["Generated"]  # per prompt, the revision the reward model scored highest
    from_sample: int  # how many of them are a sampled revision rather than the greedy one


def best_of_n_generate(
    editor: "Editor",
    prompts: list[str],
    settings: "GenerationSettings",
    best: BestOfN,
    on_progress: Callable[[int, int], None] | None = None,
) -> Picked:
    """Per prompt, the greedy revision and up to n - 1 distinct sampled ones, the reward model's
    favourite kept. Sampling is seeded (settings.seed + k), so a rerun picks the same."""
    greedy = editor.generate(prompts, settings, on_progress)
    candidates = [[g] for g in greedy]
    for k in range(1, best.n):
        sampling = replace(settings, do_sample=True, temperature=best.temperature, seed=settings.seed + k)
        for options, sampled in zip(candidates, editor.generate(prompts, sampling)):
            if sampled.text.strip() and all(sampled.text != o.text for o in options):
                options.append(sampled)
    flat = [(i, option) for i, options in enumerate(candidates) for option in options]
    if best.n == 1 or len(flat) == len(prompts):
        return Picked(greedy, 0)
    scores = best.scorer.score([prompts[i] for i, _ in flat], [o.text for _, o in flat])
    top: dict[int, tuple[float, int]] = {}
    for position, ((i, _), score) in enumerate(zip(flat, scores)):
        if i not in top or score > top[i][0]:  # strictly higher: a tie keeps the greedy revision
            top[i] = (score, position)
    picked = [flat[top[i][1]][1] for i in range(len(prompts))]
    return Picked(picked, sum(p is not g for p, g in zip(picked, greedy)))
