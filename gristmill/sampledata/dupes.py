"""Near-duplicate evaluation sets built from real text by this project's own code.

`build_set(texts, seed)` takes real documents (e.g. the article bodies of
../shared/data/extraction/ground-truth.json) and gives JSON lines `{"id", "text",
"cluster"}`. Half of the documents (chosen by the seed) get 1 to 3 near-duplicate
variants, each made by one or two of:

  edit         1-10% of the words replaced, deleted or inserted, in 1-4 runs (a changed
               date line, a rewritten sentence), replacement words drawn from the set
  boilerplate  20-80 words of site furniture (menus, share buttons, cookie notes,
               copyright lines) added before and/or after
  reorder      two or three paragraphs moved
  truncate     the text cut at 80-95% of its words

The other half are singletons (their own cluster). The furniture comes from templates
written here, filled with random site names; no third-party text is copied.
"""
from __future__ import annotations

import random
import re
from typing import Sequence

MENU = ["Home", "News", "World", "Business", "Sport", "Culture", "Opinion", "Video", "Podcasts",
        "Weather", "Science", "Travel", "Contact", "About us", "Subscribe", "Log in"]
LINES = [
    "Share this article on {site} social channels: Facebook Twitter LinkedIn Email",
    "Sign up for the {site} newsletter and get the top stories in your inbox every morning.",
    "We use cookies to improve your experience on {site}. By continuing you accept our policy.",
    "Copyright {year} {site} Media Group. All rights reserved. Terms of use | Privacy",
    "Advertisement - scroll to continue reading",
    "Related stories from {site}: more coverage, analysis and comment",
    "Follow {site} for breaking news updates, live blogs and video",
    "Comments are closed for this article. Read our community guidelines.",
    "Most read on {site} this week",
]
SYLLABLES = ["ka", "lo", "mer", "tin", "var", "so", "den", "ri", "pol", "ux", "ba", "nor", "el"]


def _site(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def boilerplate(rng: random.Random, words: int) -> str:
    site, year = _site(rng), rng.randint(2008, 2025)
    out = [" | ".join(rng.sample(MENU, rng.randint(5, 9)))]
    while sum(len(x.split()) for x in out) < words:
        out.append(rng.choice(LINES).format(site=site, year=year))
    return "\n".join(out)


def edit(text: str, rng: random.Random, vocab: Sequence[str]) -> str:
    words = text.split(" ")
    n = max(1, round(len(words) * rng.uniform(0.01, 0.10)))
    runs = rng.randint(1, 4)
    for _ in range(runs):
        size = max(1, n // runs)
        at = rng.randrange(max(1, len(words) - size))
        op = rng.choice(("replace", "delete", "insert"))
        if op == "replace":
            words[at:at + size] = [rng.choice(vocab) for _ in range(size)]
        elif op == "delete":
            del words[at:at + size]
        else:
            words[at:at] = [rng.choice(vocab) for _ in range(size)]
    return " ".join(words)


def reorder(text: str, rng: random.Random) -> str:
    paras = text.split("\n")
    for _ in range(rng.randint(2, 3)):
        if len(paras) < 3:
            break
        p = paras.pop(rng.randrange(len(paras)))
        paras.insert(rng.randrange(len(paras) + 1), p)
    return "\n".join(paras)


def truncate(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    return " ".join(words[:max(1, round(len(words) * rng.uniform(0.80, 0.95)))])


def variant(text: str, rng: random.Random, vocab: Sequence[str]) -> str:
    kinds = rng.sample(("edit", "boilerplate", "reorder", "truncate"), rng.randint(1, 2))
    for kind in kinds:
        if kind == "edit":
            text = edit(text, rng, vocab)
        elif kind == "boilerplate":
            words = rng.randint(20, 80)
            head = rng.random() < 0.5
            text = f"{boilerplate(rng, words)}\n{text}" if head else f"{text}\n{boilerplate(rng, words)}"
        elif kind == "reorder":
            text = reorder(text, rng)
        else:
            text = truncate(text, rng)
    return text


def build_set(texts: dict[str, str], seed: int = 0, dup_share: float = 0.5) -> list[dict]:
    """Rows {"id", "text", "cluster"}: every source text, plus variants of `dup_share` of them."""
    rng = random.Random(seed)
    vocab = sorted({w for t in texts.values() for w in re.findall(r"[A-Za-z]{3,}", t)}) or ["word"]
    rows = []
    for key in sorted(texts):
        text = texts[key]
        rows.append({"id": f"{key}-0", "text": text, "cluster": key})
        if rng.random() < dup_share:
            for v in range(1, rng.randint(1, 3) + 1):
                rows.append({"id": f"{key}-{v}", "text": variant(text, rng, vocab), "cluster": key})
    rng.shuffle(rows)
    return rows
