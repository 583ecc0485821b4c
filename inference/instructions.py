"""CoEdIT-style instructions, and the R3 intent that an edit made under each one carries."""

from dataclasses import dataclass

INTENTS = ("clarity", "fluency", "coherence", "style", "meaning-changed")


@dataclass(frozen=True)
class Instruction:
    key: str
    label: str
    prompt: str
    intent: str


INSTRUCTIONS: dict[str, Instruction] = {
    i.key: i
    for i in (
        Instruction("fix_grammar", "Fix grammar", "Fix grammatical errors in this sentence", "fluency"),
        Instruction("simplify", "Simplify", "Simplify this sentence", "clarity"),
        Instruction("coherent", "Make coherent", "Make this text coherent", "coherence"),
        Instruction("formal", "Make formal", "Write this more formally", "style"),
        Instruction("neutral", "Make neutral", "Write this in a more neutral way", "style"),
        Instruction("paraphrase", "Paraphrase", "Paraphrase this sentence", "style"),
        Instruction("custom", "Free instruction", "", "clarity"),
    )
}
DEFAULT_INSTRUCTION = "fix_grammar"
MAX_CUSTOM_PROMPT_CHARS = 500


def is_grammar_fix(prompt: str) -> bool:
    """The prompt is the "Fix grammar" one: its edits should correct, not reword (inference.edit_kinds)."""
    return prompt.strip().rstrip(":").strip() == INSTRUCTIONS[DEFAULT_INSTRUCTION].prompt


class UnknownInstruction(ValueError):
    pass


def instruction_resolve(key: str, custom_text: str = "") -> tuple[Instruction, str]:
    """The instruction for `key` and the prompt to give the model."""
    instruction = INSTRUCTIONS.get(key)
    if instruction is None:
        choices = ", ".join(INSTRUCTIONS)
        raise UnknownInstruction(f"Unknown instruction {key!r}; choose one of: {choices}.")
    if key != "custom":
        return instruction, instruction.prompt
    prompt = " ".join(custom_text.split())
    if not prompt:
        raise UnknownInstruction("A free instruction needs its text, for example 'Make this sound friendlier'.")
    if len(prompt) > MAX_CUSTOM_PROMPT_CHARS:
        raise UnknownInstruction(f"A free instruction is at most {MAX_CUSTOM_PROMPT_CHARS} characters.")
    return instruction, prompt
