"""Seeded synthetic labelled texts for the classifier tests (no files, no downloads)."""
from __future__ import annotations

import random

_SUBJECTS = ["the committee", "our research team", "the museum", "a local farmer", "the city council",
             "the author", "this report", "the river valley", "many students", "the old library"]
_VERBS = ["examined", "described", "restored", "published", "discussed", "reviewed", "measured", "explained"]
_OBJECTS = ["the history of the region", "a detailed plan for the harbour", "the results of the survey",
            "the long winter season", "several rare manuscripts", "the causes of the flood",
            "a careful analysis of soil quality", "the design of the new bridge"]
_TAILS = ["in considerable detail", "over the following months", "with great care", "for the first time",
          "after a lengthy debate", "despite limited funding"]
_SPAM = ["BUY NOW", "click here", "FREE!!!", "best price", "$$$", "limited offer", "casino bonus",
         "100% guaranteed", "subscribe", "cheap pills", "WIN BIG", "act now", "Home | About | Contact",
         "Copyright 2024 All rights reserved", "Login", "Cookie policy", ">>>", "hot deals", "viagra",
         "make money fast"]


_SYLLABLES = ["ka", "lo", "mer", "tis", "an", "dru", "pel", "vo", "sen", "qua", "rit", "bo", "ne", "zul", "fa"]
# Shared topic words (both classes use them): a realistic vocabulary size; fastText can diverge (NaN)
# on tiny, endlessly repeated vocabularies.
_NOUNS = sorted({"".join(random.Random(i).choices(_SYLLABLES, k=3)) for i in range(600)})


def hq_text(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(3, 6)):
        sentences.append(f"{rng.choice(_SUBJECTS).capitalize()} {rng.choice(_VERBS)} "
                         f"{rng.choice(_OBJECTS)} of {rng.choice(_NOUNS)} {rng.choice(_TAILS)}.")
    return " ".join(sentences)


def lq_text(rng: random.Random) -> str:
    return "\n".join(" ".join(rng.choice(_SPAM) + " " + rng.choice(_NOUNS) for _ in range(rng.randint(2, 5)))
                     for _ in range(rng.randint(2, 6)))


def quality_dataset(n_per_label: int = 300, seed: int = 7) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    rows = [(hq_text(rng), "hq") for _ in range(n_per_label)] + [(lq_text(rng), "lq") for _ in range(n_per_label)]
    rng.shuffle(rows)
    return [t for t, _ in rows], [l for _, l in rows]


_FUNCS = ["compute_total", "parse_args", "load_config", "merge_rows", "read_file", "update_cache"]
_VARS = ["items", "rows", "path", "result", "count", "buffer", "config"]


def code_text(rng: random.Random) -> str:
    f, a, b = rng.choice(_FUNCS), rng.choice(_VARS), rng.choice(_VARS)
    n = rng.choice(_NOUNS)
    return (f"def {f}_{n}({a}, {b}=None):\n    if {b} is None:\n        {b} = []\n"
            f"    for x in {a}:\n        {b}.append(x * {rng.randint(2, 9)})\n    return {b}\n")


def math_text(rng: random.Random) -> str:
    x, y = rng.randint(2, 20), rng.randint(2, 20)
    return (f"Let x = {x} and y = {y}. Then x + y = {x + y} and x * y = {x * y}. "
            f"Consider the {rng.choice(_NOUNS)} sequence. "
            f"Therefore the equation 2x - y = {2 * x - y} holds, which proves the claim. "
            f"By induction on n, the sum of the first n integers equals n(n+1)/2.")


def multiclass_dataset(n_per_label: int = 120, seed: int = 11) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    rows = ([(code_text(rng), "code") for _ in range(n_per_label)]
            + [(math_text(rng), "math_reasoning") for _ in range(n_per_label)]
            + [(hq_text(rng), "general") for _ in range(n_per_label)])
    rng.shuffle(rows)
    return [t for t, _ in rows], [l for _, l in rows]
