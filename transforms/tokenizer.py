"""TrainTokenizer and Tokenize: sentencepiece BPE with Llama-family options.

Plain functions: `training_lines` (split text to respect max_sentence_length),
`train_bpe` (model bytes from lines), `encode_docs` ([BOS] ids [EOS] per text).
Beam: a deterministic sample (the documents with the smallest id hashes, bounded
in count) is gathered on one worker to train; the model bytes reach Tokenize as a
side input, where each worker loads the processor once and encodes in batches.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import re
from typing import Iterable, Iterator

import apache_beam as beam
import numpy as np
import sentencepiece as spm

from gristmill.transforms.document import Document, Rejection, id_fraction
from gristmill.transforms.stage import COUNTS, KEPT, REJECTED, Counted, StageOutputs

STAGE = "tokenize"
UNK, BOS, EOS, PAD = 0, 1, 2, 3
log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TokenizerConfig:
    vocab_size: int = 32000
    sample_docs: int = 200_000          # documents gathered for training (smallest id hashes)
    max_sentence_length: int = 4192     # bytes; sentencepiece skips longer lines, so we split
    input_sentence_size: int = 5_000_000
    character_coverage: float = 0.9995
    model_path: str = ""                # a user-given .model skips training
    val_fraction: float = 0.01


def training_lines(text: str, max_bytes: int = 4192) -> Iterator[str]:
    """Non-empty lines of text, long ones cut at whitespace into pieces under max_bytes."""
    for line in text.splitlines():
        line = line.strip()
        while len(line.encode()) > max_bytes:
            cut = line.encode()[:max_bytes].decode("utf-8", errors="ignore")
            space = cut.rfind(" ")
            if space > len(cut) // 2:
                cut = cut[:space]
            yield cut
            line = line[len(cut):].strip()
        if line:
            yield line


def train_bpe(lines: Iterable[str], config: TokenizerConfig = TokenizerConfig()) -> bytes:
    """A sentencepiece BPE model (serialized) trained on the lines.

    If the data cannot fill the requested vocabulary, sentencepiece names the largest
    size it can; we train that one and log a warning (the manifest records both).
    """
    lines = list(lines)
    if not lines:
        raise ValueError("no text to train the tokenizer on: every document was dropped")
    vocab = config.vocab_size
    for _ in range(2):
        out = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(lines), model_writer=out, model_type="bpe",
                vocab_size=vocab, byte_fallback=True, split_digits=True,
                normalization_rule_name="identity", remove_extra_whitespaces=False,
                allow_whitespace_only_pieces=True, add_dummy_prefix=True,
                character_coverage=config.character_coverage,
                max_sentence_length=config.max_sentence_length,
                input_sentence_size=config.input_sentence_size, shuffle_input_sentence=False,
                unk_id=UNK, bos_id=BOS, eos_id=EOS, pad_id=PAD, num_threads=1, minloglevel=2)
            return out.getvalue()
        except RuntimeError as e:
            small = re.search(r"smaller than required_chars\. (\d+) vs (\d+)", str(e))
            if small:
                raise ValueError(
                    f"vocab_size {small.group(1)} is below the {small.group(2)} pieces this text "
                    "needs (its characters, 256 byte-fallback pieces, special ids): raise "
                    "--vocab-size") from None
            m = re.search(r"Vocabulary size too high \((\d+)\).*<= (\d+)", str(e))
            if not m:
                raise
            log.warning("tokenizer: vocab_size %s is too high for this data; training %s",
                        vocab, m.group(2))
            vocab = int(m.group(2))
    raise RuntimeError("tokenizer training failed")


def load_processor(model: bytes) -> spm.SentencePieceProcessor:
    return spm.SentencePieceProcessor(model_proto=model)


def encode_docs(sp: spm.SentencePieceProcessor, texts: list[str]) -> list[np.ndarray]:
    """[BOS] ids [EOS] per text: uint16 when the vocabulary fits, else uint32."""
    dtype = np.uint16 if sp.vocab_size() <= 1 << 16 else np.uint32
    return [np.asarray([BOS, *ids, EOS], dtype=dtype) for ids in sp.encode(texts)]


def model_info(model: bytes) -> dict:
    sp = load_processor(model)
    return {"sha256": hashlib.sha256(model).hexdigest(), "vocab_size": sp.vocab_size(),
            "unk_id": sp.unk_id(), "bos_id": sp.bos_id(), "eos_id": sp.eos_id(),
            "pad_id": sp.pad_id()}


class TrainTokenizer(beam.PTransform):
    """Documents -> a singleton PCollection of serialized sentencepiece model bytes."""

    def __init__(self, config: TokenizerConfig = TokenizerConfig()):
        super().__init__()
        self.config = config

    def expand(self, docs):
        cfg = self.config
        if cfg.model_path:
            with open(cfg.model_path, "rb") as f:
                model = f.read()
            load_processor(model)  # fail now, not on the workers
            return docs.pipeline | "GivenTokenizer" >> beam.Create([model])

        def train(sample: list) -> bytes:
            if not sample:  # nothing survived: no model, no shards (the run reports why)
                return b""
            sample = sorted(sample)
            return train_bpe((ln for _, _, text in sample
                              for ln in training_lines(text, cfg.max_sentence_length)), cfg)

        return (docs
                | "SampleKey" >> beam.Map(lambda d: (id_fraction(d.id, "tokenizer"), d.id, d.text))
                | "Sample" >> beam.combiners.Top.Of(cfg.sample_docs, key=lambda x: x[:2],
                                                    reverse=True)
                | "Train" >> beam.Map(train))


def split_of(doc_id: bytes, val_fraction: float) -> str:
    return "val" if id_fraction(doc_id, "split") < val_fraction else "train"


def shard_of(doc_id: bytes, num_shards: int) -> int:
    return int(id_fraction(doc_id, "shard") * num_shards)


class TokenizeBatch(Counted):
    """Batches of Documents -> ((split, shard), Document with tokens, text dropped)."""

    def __init__(self, num_shards: dict, val_fraction: float):
        super().__init__(STAGE)
        self.num_shards, self.val_fraction = num_shards, val_fraction
        self._sp, self._model = None, None

    def process(self, docs: list[Document], model: bytes):
        if model is not self._model:  # the side input is one object per worker: load once
            self._sp, self._model = load_processor(model), model
        for doc, ids in zip(docs, encode_docs(self._sp, [d.text for d in docs])):
            if ids.size <= 2:
                self.count("no_tokens")
                yield beam.pvalue.TaggedOutput(REJECTED, Rejection.of(doc, STAGE, "no_tokens"))
                continue
            split = split_of(doc.id, self.val_fraction)
            self.count(KEPT)
            doc.text, doc.tokens = "", ids
            yield (split, shard_of(doc.id, self.num_shards[split])), doc


class Tokenize(beam.PTransform):
    """(documents, model) -> StageOutputs; kept: ((split, shard), Document with tokens)."""

    def __init__(self, model, num_shards: dict, val_fraction: float):
        super().__init__()
        self.model, self.num_shards, self.val_fraction = model, num_shards, val_fraction

    def expand(self, docs) -> StageOutputs:
        out = (docs
               | "Batch" >> beam.BatchElements(min_batch_size=8, max_batch_size=256)
               .with_output_types(list[Document])
               | "Encode" >> beam.ParDo(TokenizeBatch(self.num_shards, self.val_fraction),
                                        beam.pvalue.AsSingleton(self.model))
               .with_output_types(tuple[tuple[str, int], Document])
               .with_outputs(REJECTED, COUNTS, main=KEPT))
        out[REJECTED].element_type = Rejection
        return StageOutputs(out[KEPT], out[REJECTED], out[COUNTS])
