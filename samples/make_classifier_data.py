"""Write the demo's labelled classifier data: samples/classifier/{quality,domain}.jsonl.gz.

    python samples/make_classifier_data.py [--out samples/classifier] [--per-label 300]

Text we wrote, recombined by a seeded generator (byte-identical output for the same arguments):
- quality.jsonl.gz, labels hq / lq: hq is explanatory prose (how-to, history, science, travel,
  cooking); lq is what web crawls are full of: SEO keyword stuffing, navigation menus,
  calendars and tables of numbers, coupon spam, "click here" link farms.
- domain.jsonl.gz, labels code / math_reasoning / general: code snippets with a line of
  explanation; worked mathematical reasoning; general prose.
It is English only and far too small and regular for real use: `make run` trains the demo's
quality and domain models on it in seconds so the classify stage has something to apply.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

_TOPICS = ["the old harbour", "sourdough bread", "the river delta", "solar panels", "the medieval abbey",
           "a mountain trail", "the city library", "tomato seedlings", "the railway viaduct", "honey bees",
           "a wooden canoe", "the village market", "coral reefs", "the printing press", "winter tyres",
           "the bicycle chain", "olive groves", "the lighthouse", "a compost heap", "glacier lakes"]
_OPENERS = ["Most visitors never notice that {t} has a longer history than the town around it.",
            "If you want to understand {t}, start with the people who depend on it every day.",
            "Before the first frost, it is worth spending an afternoon looking after {t}.",
            "Historians still disagree about when {t} was first mentioned in the records.",
            "The simplest way to learn about {t} is to watch it closely for a whole season."]
_MIDDLES = ["The first step is to check the condition of every part and write down what you find.",
            "Careful measurements over several years showed a slow but steady change.",
            "Local volunteers restored it in the 1990s, using photographs from the archive.",
            "Water, temperature and patience matter far more than expensive equipment.",
            "A short guided tour explains how the different pieces fit together.",
            "Older residents remember the time when everything was still done by hand.",
            "The results were published in a small report that is still worth reading today.",
            "Small mistakes at this stage are easy to fix, so there is no need to hurry.",
            "In spring the area fills with walkers, but in autumn you will often have it to yourself.",
            "Each generation has added something, and the traces of their work are still visible."]
_CLOSERS = ["With a little care, it will last for many more years.",
            "It is a good example of how small, patient decisions add up over time.",
            "Anyone curious can find the original documents in the regional archive.",
            "The effort is modest, and the reward is something that works as it should.",
            "That, more than anything, is why people keep coming back."]

_SPAM = ["best cheap deals", "buy now", "discount code", "free shipping", "top 10", "click here",
         "limited offer", "casino bonus", "win big today", "hot singles", "lowest price guaranteed",
         "download free", "crypto signals", "make money fast", "100% working", "sale sale sale"]
_MENU = ["Home", "About us", "Contact", "Login", "Register", "Cart (0)", "FAQ", "Sitemap", "Privacy policy",
         "Terms of use", "Newsletter", "Careers", "Press", "Shop", "Blog", "Support"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]

_CODE = [
    "def {f}(items):\n    total = 0\n    for item in items:\n        total += item.{a}\n    return total",
    "for (let i = 0; i < {n}; i++) {{\n  console.log({f}(i));\n}}",
    "SELECT {a}, COUNT(*) FROM {f} WHERE year > {n} GROUP BY {a} ORDER BY 2 DESC;",
    "#include <stdio.h>\nint main(void) {{\n    int {a} = {n};\n    printf(\"%d\\n\", {a} * 2);\n    return 0;\n}}",
    "import numpy as np\n{a} = np.zeros(({n}, {n}))\n{a}[:, 0] = 1\nprint({a}.sum(axis=0))",
    "class {F}:\n    def __init__(self, {a}):\n        self.{a} = {a}\n\n    def __repr__(self):\n"
    "        return f\"{F}({{self.{a}!r}})\"",
    "git checkout -b {f}\ngit add -A\ngit commit -m \"Add {a}\"\ngit push origin {f}",
    "fn {f}({a}: &[i32]) -> i32 {{\n    {a}.iter().sum()\n}}",
]
_CODE_NOTES = ["This function returns the sum in a single pass.", "Run it with the default settings first.",
               "The loop prints one line per value.", "Note the index on the grouping column.",
               "Compile with warnings enabled.", "The repr makes debugging easier."]
_NAMES = ["parse_rows", "load_config", "orders", "scores", "build_index", "merge_sorted", "events", "weights"]
_ATTRS = ["price", "count", "value", "size", "total", "matrix", "label", "offset"]

_MATH = [
    "Let x be the number of apples. Then 3x + {a} = {b}, so 3x = {c} and x = {d}. Therefore there are {d} apples.",
    "We want the sum of the first {n} odd numbers. Each partial sum is a square: 1, 4, 9, ... so the sum is "
    "{n}^2 = {sq}. Hence the answer is {sq}.",
    "Suppose a triangle has legs {p} and {q}. By the Pythagorean theorem the hypotenuse is sqrt({p}^2 + {q}^2) "
    "= sqrt({pq}). Since {pq} is the value under the root, we simplify and check the units.",
    "Proof: assume n is even, so n = 2k for some integer k. Then n^2 = 4k^2 = 2(2k^2), which is even. "
    "This completes the proof.",
    "To solve {a}y - {b} = {c}, add {b} to both sides: {a}y = {bc}. Divide by {a}: y = {bc}/{a}. "
    "We verify by substitution.",
    "The probability of rolling two sixes is 1/6 * 1/6 = 1/36. The probability of at least one six in "
    "{n} rolls is 1 - (5/6)^{n}, which we compute step by step.",
]


def hq_text(rng: random.Random) -> str:
    topic = rng.choice(_TOPICS)
    parts = [rng.choice(_OPENERS).format(t=topic)] + rng.sample(_MIDDLES, rng.randint(3, 5))
    return " ".join(parts + [rng.choice(_CLOSERS)])


def lq_text(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:   # keyword stuffing
        words = [f"{rng.choice(_SPAM)} {rng.choice(_TOPICS)}" for _ in range(rng.randint(8, 20))]
        return " ".join(words).upper() if rng.random() < 0.3 else " | ".join(words)
    if kind == 1:   # navigation and footer
        return "\n".join(" | ".join(rng.sample(_MENU, 5)) for _ in range(rng.randint(3, 6))) + \
            f"\n© {rng.randint(2005, 2024)} All rights reserved"
    if kind == 2:   # calendar / table of numbers
        return "\n".join(f"{rng.choice(_MONTHS)} {rng.randint(1, 28)}: {rng.randint(0, 999)} - "
                         f"{rng.randint(0, 999)} - {rng.randint(0, 99)}%" for _ in range(rng.randint(6, 14)))
    return " ".join(f"Click here for {rng.choice(_SPAM)}!!! >>> {rng.choice(_TOPICS)} <<<"
                    for _ in range(rng.randint(3, 8)))


def code_text(rng: random.Random) -> str:
    f, a = rng.choice(_NAMES), rng.choice(_ATTRS)
    snippet = rng.choice(_CODE).format(f=f, F=f.title().replace("_", ""), a=a, n=rng.randint(2, 50))
    return f"{rng.choice(_CODE_NOTES)}\n\n{snippet}"


def math_text(rng: random.Random) -> str:
    d, a = rng.randint(2, 40), rng.randint(1, 30)
    n, p, q = rng.randint(3, 30), rng.randint(3, 12), rng.randint(3, 12)
    b, c = rng.randint(2, 9), rng.randint(1, 50)
    return rng.choice(_MATH).format(a=a, b=3 * d + a, c=3 * d, d=d, n=n, sq=n * n, p=p, q=q, pq=p * p + q * q,
                                    bc=b + c)


def build(per_label: int, seed: int) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    quality = [{"text": hq_text(rng), "label": "hq"} for _ in range(per_label)]
    quality += [{"text": lq_text(rng), "label": "lq"} for _ in range(per_label)]
    domain = [{"text": code_text(rng), "label": "code"} for _ in range(per_label)]
    domain += [{"text": math_text(rng), "label": "math_reasoning"} for _ in range(per_label)]
    domain += [{"text": hq_text(rng), "label": "general"} for _ in range(per_label)]
    for rows in (quality, domain):
        rng.shuffle(rows)
    return {"quality": quality, "domain": domain}


def write(out: Path, per_label: int = 300, seed: int = 20241) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, rows in build(per_label, seed).items():
        path = out / f"{name}.jsonl.gz"
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
            fh.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8"))
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "classifier")
    parser.add_argument("--per-label", type=int, default=300)
    args = parser.parse_args()
    for path in write(args.out, args.per_label):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
