"""Greedy decoding that drafts from the prompt, for an editor whose output is mostly its input.

A revised sentence is mostly the sentence copied. Token by token, greedy decoding spends one
forward pass of the whole batch per output token. Here each row drafts the tokens that followed
the latest earlier occurrence of its last few tokens in the prompt and what it wrote so far
(prompt lookup decoding), and one forward pass checks every draft of the batch at once: the row
keeps the draft's tokens up to the first one the model would not have chosen, plus the model's
own choice there. A copied sentence takes a few passes instead of one per token.

The output is greedy decoding's, token for token (up to float rounding: a batch is computed in
another shape): a kept token is the model's argmax given exactly the tokens kept before it. The
drafts a row turned down stay in the key/value cache, masked out, so that the rows of a batch,
which keep different numbers of tokens, share one cache; positions count kept tokens only.
"""

from dataclasses import dataclass
from typing import Any

import torch

DRAFT_TOKENS = 6  # measured on the everyday suite, 2 CPUs, batches of 32: 4 to 8 alike, 12 and up slower
LOOKUP_NGRAM = 3  # the longest suffix looked up; shorter ones are tried when it is not found

# Generation-config fields that change greedy choices; a model setting any of them is decoded by
# transformers' own generate, which applies them.
_PROCESSOR_FIELDS = {
    "repetition_penalty": (None, 1.0),
    "encoder_repetition_penalty": (None, 1.0),
    "no_repeat_ngram_size": (None, 0),
    "encoder_no_repeat_ngram_size": (None, 0),
    "bad_words_ids": (None,),
    "min_length": (None, 0),
    "min_new_tokens": (None, 0),
    "suppress_tokens": (None,),
    "begin_suppress_tokens": (None,),
    "forced_bos_token_id": (None,),
    "forced_eos_token_id": (None,),
    "sequence_bias": (None,),
    "exponential_decay_length_penalty": (None,),
    "force_words_ids": (None,),
}


def plain_greedy(generation_config: Any) -> bool:
    """Whether the model's generation config leaves greedy decoding as the plain argmax."""
    return all(getattr(generation_config, name, None) in allowed for name, allowed in _PROCESSOR_FIELDS.items())


def draft_from_context(context: list[int], max_tokens: int, ngram: int = LOOKUP_NGRAM) -> list[int]:
    """The tokens that followed the latest earlier occurrence of the context's last `ngram`
    tokens (or fewer), at most max_tokens; empty when the suffix occurs nowhere before."""
    if max_tokens < 1:
        return []
    for n in range(min(ngram, len(context) - 1), 0, -1):
        suffix = context[-n:]
        for start in range(len(context) - n - 1, -1, -1):
            if context[start : start + n] == suffix:
                return context[start + n : start + n + max_tokens]
    return []


@dataclass
class _Row:
    context: list[int]  # the prompt's tokens (no padding) and every token kept so far
    limit: int
    tokens: list[int]
    logprobs: list[float]
    done: bool = False


def greedy_copy_decode(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    limits: list[int],
    stop_ids: set[int],
    pad_id: int,
    draft_tokens: int = DRAFT_TOKENS,
) -> tuple[list[list[int]], list[list[float]]]:
    """Greedy decoding of a left-padded batch: per row, the new tokens (up to and including a
    stop id, at most its limit) and the log-probability of each."""
    from transformers import DynamicCache

    device = input_ids.device
    mask = attention_mask.clone()
    valid = mask.sum(dim=1)  # tokens each row has kept, prompt included
    rows = [
        _Row(ids[m.bool()].tolist(), limit, [], [])
        for ids, m, limit in zip(input_ids.cpu(), attention_mask.cpu(), limits)
    ]
    cache = DynamicCache()
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    with torch.inference_mode():
        out = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, past_key_values=cache)
        logprobs = out.logits[:, -1:].float().log_softmax(-1)
        _keep(rows, logprobs, [[] for _ in rows], stop_ids)
        while not all(row.done for row in rows):
            drafts = [
                [] if row.done else draft_from_context(row.context, min(draft_tokens, row.limit - len(row.tokens) - 1))
                for row in rows
            ]
            width = 1 + max(len(d) for d in drafts)
            fed = torch.full((len(rows), width), pad_id, dtype=torch.long)
            new_mask = torch.zeros((len(rows), width), dtype=mask.dtype)
            for i, (row, draft) in enumerate(zip(rows, drafts)):
                if not row.done:
                    fed[i, : 1 + len(draft)] = torch.tensor([row.tokens[-1]] + draft)
                    new_mask[i, : 1 + len(draft)] = 1
            fed, new_mask = fed.to(device), new_mask.to(device)
            mask = torch.cat([mask, new_mask], dim=1)
            step_positions = valid.unsqueeze(1) + torch.arange(width, device=device)
            out = model(input_ids=fed, attention_mask=mask, position_ids=step_positions, past_key_values=cache)
            logprobs = out.logits.float().log_softmax(-1)
            kept = _keep(rows, logprobs, drafts, stop_ids)
            # The drafts a row turned down stay in the cache; from now on nothing attends to them.
            for i, n in enumerate(kept):
                mask[i, mask.shape[1] - width + n :] = 0
            valid += torch.tensor(kept, device=device)
    return [row.tokens for row in rows], [row.logprobs for row in rows]


def _keep(rows: list[_Row], logprobs: torch.Tensor, drafts: list[list[int]], stop_ids: set[int]) -> list[int]:
    """Keep, per row, the model's choices along its draft while they agree with it, and its
    choice at the first disagreement; return how many fed tokens each row keeps in the cache
    (the token it was given and the draft tokens it agreed with)."""
    choices = logprobs.argmax(-1).tolist()
    kept = []
    for i, (row, draft) in enumerate(zip(rows, drafts)):
        if row.done:
            kept.append(0)
            continue
        agreed = 0
        while agreed < len(draft) and choices[i][agreed] == draft[agreed]:
            agreed += 1
        for position in range(agreed + 1):
            token = choices[i][position]
            row.tokens.append(token)
            row.logprobs.append(logprobs[i, position, token].item())
            row.context.append(token)
            if token in stop_ids or len(row.tokens) >= row.limit:
                row.done = True
                break
        kept.append(1 + agreed)
    return kept
