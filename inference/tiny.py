"""Tiny random models built locally from configs, for tests, benches and offline demos.

Nothing is downloaded: a word-level tokenizer is trained on a small generated corpus and a
model of a few thousand parameters is built from a config. Its output is nonsense made of
real words, which is enough to exercise generation, diffing and the review screens.
"""

import argparse
import random
from pathlib import Path
from typing import TYPE_CHECKING

from inference.instructions import INSTRUCTIONS

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerFast

KINDS = ("seq2seq", "causal")
PAD, EOS, UNK, BOS = "<pad>", "</s>", "<unk>", "<s>"

_SUBJECTS = (
    "the writer",
    "a student",
    "my neighbour",
    "the committee",
    "our team",
    "the old man",
    "she",
    "he",
    "they",
    "we",
    "the children",
    "a reviewer",
    "the editor",
    "this report",
    "the company",
    "her brother",
    "the teacher",
    "a small dog",
    "the city council",
    "everyone",
)
_VERBS = (
    "writes",
    "write",
    "wrote",
    "reads",
    "read",
    "has finished",
    "have finished",
    "is reviewing",
    "are reviewing",
    "explains",
    "explained",
    "describes",
    "described",
    "changes",
    "changed",
    "improves",
    "improved",
    "discusses",
    "discussed",
    "sends",
    "sent",
    "likes",
    "liked",
    "needs",
)
_OBJECTS = (
    "the letter",
    "a long essay",
    "the first chapter",
    "an email",
    "the proposal",
    "the results",
    "a short story",
    "the main argument",
    "his notes",
    "their plan",
    "the budget",
    "a new idea",
    "the final draft",
    "the summary",
    "our findings",
    "the introduction",
    "a clear example",
)
_ADVERBS = (
    "quickly",
    "slowly",
    "carefully",
    "again",
    "yesterday",
    "today",
    "every morning",
    "at last",
    "before lunch",
    "after the meeting",
    "in the evening",
    "without help",
    "very well",
    "badly",
)
_CLAUSES = (
    "because it was late",
    "although nobody asked",
    "so that others could follow",
    "while the rain fell",
    "but the meeting was cancelled",
    "and then it went home",
    "when the deadline came",
    "since the data was incomplete",
    "as the manager suggested",
    "however the answer was unclear",
    "which surprised everyone",
    "that nobody expected",
)
_EXTRA = (
    "The quick brown fox jumps over the lazy dog.",
    "Please revise this paragraph so it reads more clearly.",
    "It is important to note that the results are preliminary.",
    "In conclusion, the evidence suggests a different approach.",
    "Their going to the store tomorrow, isn't it?",
    "Me and him was late to the meeting.",
    "Revised: This sentence is better now!",
    "Can you help me? Yes, of course; I will.",
    "A fast dog, a slow cat, and one bird.",
)


def corpus(size: int = 600, seed: int = 0) -> list[str]:
    """Varied English sentences (some with deliberate errors) built from small word lists."""
    rng = random.Random(seed)
    lines = list(_EXTRA) + [i.prompt + ":" for i in INSTRUCTIONS.values() if i.prompt]
    while len(lines) < size:
        words = [rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS)]
        if rng.random() < 0.6:
            words.append(rng.choice(_ADVERBS))
        if rng.random() < 0.4:
            words.append(rng.choice(_CLAUSES))
        sentence = " ".join(words)
        end = rng.choice(".....!?")
        lines.append(sentence[0].upper() + sentence[1:] + end)
    return lines


def build_tokenizer(lines: list[str], kind: str) -> "PreTrainedTokenizerFast":
    """A word-level tokenizer: every generated id decodes to a whole word or punctuation mark."""
    from tokenizers import (
        Tokenizer,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    specials = [PAD, EOS, UNK, BOS]
    tok = Tokenizer(models.WordLevel(unk_token=UNK))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(lines, trainers.WordLevelTrainer(special_tokens=specials, min_frequency=1))
    # T5 style: the encoder input ends with </s>. Llama style: the prompt starts with <s>.
    marker, single = (EOS, f"$A {EOS}") if kind == "seq2seq" else (BOS, f"{BOS} $A")
    marker_id = tok.token_to_id(marker)
    tok.post_processor = processors.TemplateProcessing(single=single, special_tokens=[(marker, marker_id)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token=PAD,
        eos_token=EOS,
        unk_token=UNK,
        bos_token=BOS,
        padding_side="right" if kind == "seq2seq" else "left",
        model_max_length=512,
    )


def build_model(kind: str, vocab_size: int, pad_id: int, eos_id: int, bos_id: int) -> "PreTrainedModel":
    """A one-layer model with random weights; small enough to generate fast on a CPU."""
    if kind == "seq2seq":
        from transformers import T5Config, T5ForConditionalGeneration

        config = T5Config(
            vocab_size=vocab_size,
            d_model=32,
            d_kv=16,
            d_ff=64,
            num_layers=1,
            num_decoder_layers=1,
            num_heads=2,
            pad_token_id=pad_id,
            eos_token_id=eos_id,
            decoder_start_token_id=pad_id,
            tie_word_embeddings=True,
            initializer_factor=3.0,  # big enough that the output depends on the input
        )
        return T5ForConditionalGeneration(config)
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        bos_token_id=bos_id,
        tie_word_embeddings=True,
        initializer_range=0.3,  # big enough that the output depends on the input
    )
    return LlamaForCausalLM(config)


def build_tiny_model(path: str | Path, kind: str = "seq2seq", seed: int = 0) -> Path:
    """Writes a tokenizer and a random model of `kind` into `path`; the same seed gives the same model."""
    import torch

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    path = Path(path)
    tokenizer = build_tokenizer(corpus(seed=seed), kind)
    torch.manual_seed(seed)
    pad_id, eos_id, bos_id = tokenizer.convert_tokens_to_ids([PAD, EOS, BOS])
    model = build_model(kind, len(tokenizer), pad_id, eos_id, bos_id)
    gen = model.generation_config
    gen.pad_token_id, gen.eos_token_id = pad_id, eos_id
    gen.max_new_tokens = 64  # a bound for callers that give none
    # Random weights loop on one token and never end; these keep the output short, varied words.
    gen.suppress_tokens = [pad_id, bos_id, tokenizer.unk_token_id]
    gen.no_repeat_ngram_size = 2
    gen.exponential_decay_length_penalty = (8, 1.5)  # </s> grows likelier after 8 tokens
    model.eval()
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build a tiny random model for tests and offline demos.")
    parser.add_argument("path", help="directory to write the model and tokenizer into")
    parser.add_argument("--kind", choices=KINDS, default="seq2seq")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(build_tiny_model(args.path, args.kind, args.seed))


if __name__ == "__main__":
    main()
