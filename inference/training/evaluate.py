"""How a model version judges the rows: log-probabilities of the chosen and rejected completions under
a causal model, and scores under a reward model, with every row laid out exactly as in training
(common.encode_completion and common.encode_scored). Eval mode, no gradients, CPU or GPU.
"""

import math
from typing import TYPE_CHECKING, Any, Iterable

from inference.training.common import (
    ModelRef,
    PreferenceRow,
    as_rows,
    check_causal,
    encode_completion,
    encode_scored,
    load_model,
    load_tokenizer,
    quiet_progress,
)

if TYPE_CHECKING:
    import torch


def _load(ref: ModelRef, task: str) -> tuple[Any, Any, str]:
    from inference.devices import select_device

    check_causal(ref)
    device, dtype = select_device()
    tokenizer = load_tokenizer(ref)
    with quiet_progress():
        model = load_model(ref, task=task, dtype=dtype, pad_token_id=tokenizer.pad_token_id)
    model.to(device)
    model.eval()
    return model, tokenizer, device


def _padded(sequences: list[list[int]], pad_id: int, device: str) -> tuple["torch.Tensor", "torch.Tensor"]:
    """Right-padded ids and their attention mask."""
    import torch

    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, seq in enumerate(sequences):
        ids[i, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[i, : len(seq)] = 1
    return ids.to(device), mask.to(device)


def _sequence_logprobs(model: Any, pad_id: int, device: str, items: list[tuple[list[int], list[int]]]) -> list[float]:
    """Sum of log p(completion token | everything before it) for each (prompt ids, completion ids)."""
    import torch

    ids, mask = _padded([p + c for p, c in items], pad_id, device)
    with torch.inference_mode():
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        token_logps = torch.gather(logits.log_softmax(-1), 2, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    scored = torch.zeros_like(token_logps)
    for i, (prompt, completion) in enumerate(items):
        # Position t predicts token t + 1: the completion's tokens are predicted from len(prompt) - 1 on.
        scored[i, len(prompt) - 1 : len(prompt) - 1 + len(completion)] = 1
    return (token_logps * scored).sum(dim=1).tolist()


def completion_logprobs(
    model: ModelRef, rows: Iterable[PreferenceRow], batch_size: int = 16
) -> list[tuple[float, float]]:
    """(log p(chosen | prompt), log p(rejected | prompt)) per row, each the sum over the completion's
    tokens and its EOS; nan for the rejected side of a row without one."""
    rows = as_rows(rows)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not rows:
        return []
    causal, tokenizer, device = _load(model, "causal")
    items: list[tuple[list[int], list[int]]] = []
    for row in rows:
        items.append(encode_completion(tokenizer, row.prompt, row.chosen))
        if row.rejected:
            items.append(encode_completion(tokenizer, row.prompt, row.rejected))
    scores: list[float] = []
    for start in range(0, len(items), batch_size):
        scores.extend(_sequence_logprobs(causal, tokenizer.pad_token_id, device, items[start : start + batch_size]))
    out, it = [], iter(scores)
    for row in rows:
        out.append((next(it), next(it) if row.rejected else math.nan))
    return out


def _accuracy(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    if not pairs:
        return {"n": 0, "accuracy": None, "mean_margin": None}
    margins = [chosen - rejected for chosen, rejected in pairs]
    return {
        "n": len(pairs),
        "accuracy": sum(m > 0 for m in margins) / len(margins),
        "mean_margin": sum(margins) / len(margins),
    }


def preference_accuracy(model: ModelRef, rows: Iterable[PreferenceRow], batch_size: int = 16) -> dict[str, Any]:
    """Over the rows with a rejected side: the share where the model gives the chosen completion the
    higher log-probability (accuracy), their number (n) and the mean log-probability margin."""
    pairs = [row for row in as_rows(rows) if row.is_pair]
    return _accuracy(completion_logprobs(model, pairs, batch_size))


class RewardScorer:
    """A reward model loaded once, scoring (prompt, completion) pairs as it was trained to."""

    def __init__(self, reward_model: ModelRef):
        self.ref = reward_model
        self.model, self.tokenizer, self.device = _load(reward_model, "reward")

    def score(self, prompts: list[str], completions: list[str], batch_size: int = 16) -> list[float]:
        import torch

        if len(prompts) != len(completions):
            raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        texts = [encode_scored(self.tokenizer, p, c) for p, c in zip(prompts, completions)]
        scores: list[float] = []
        for start in range(0, len(texts), batch_size):
            ids, mask = _padded(texts[start : start + batch_size], self.tokenizer.pad_token_id, self.device)
            with torch.inference_mode():
                scores.extend(self.model(input_ids=ids, attention_mask=mask).logits[:, 0].float().tolist())
        return scores


def reward_scores(
    reward_model: ModelRef, rows: Iterable[PreferenceRow], batch_size: int = 16
) -> list[tuple[float, float]]:
    """(score of chosen, score of rejected) per row under a reward model; nan without a rejected side."""
    rows = as_rows(rows)
    if not rows:
        return []
    prompts, completions = [], []
    for row in rows:
        for completion in (row.chosen, row.rejected) if row.rejected else (row.chosen,):
            prompts.append(row.prompt)
            completions.append(completion)
    scores = RewardScorer(reward_model).score(prompts, completions, batch_size)
    out, it = [], iter(scores)
    for row in rows:
        out.append((next(it), next(it) if row.rejected else math.nan))
    return out


def reward_accuracy(reward_model: ModelRef, rows: Iterable[PreferenceRow], batch_size: int = 16) -> dict[str, Any]:
    """Over the rows with a rejected side: the share where the reward model scores the chosen output
    higher (accuracy), their number (n) and the mean score margin."""
    pairs = [row for row in as_rows(rows) if row.is_pair]
    return _accuracy(reward_scores(reward_model, pairs, batch_size))
