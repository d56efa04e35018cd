"""Argument checks of the trainer commands: a mistake is one line on stderr, exit 2.

No training run: every case here is refused before any work starts. The run
directory and the checkpoint are tiny hand-made ones (a dummy tokenizer.model: the
checks only need it to exist).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import jax.numpy as jnp
import pytest

from gristmill.model import checkpoint as ckpt
from gristmill.model import gpt, sample
from gristmill.model import train as train_mod
from gristmill.model.usage import UsageError, check_writable_dir
from gristmill.tokfile import write_shard

VOCAB = 64
GRISTMILL = os.path.join(os.path.dirname(sys.executable), "gristmill")


def _write_run(run, train_docs, val_docs=()):
    """A run directory: manifest.json, a dummy tokenizer.model, one shard per split."""
    os.makedirs(run)
    with open(os.path.join(run, "tokenizer.model"), "wb") as f:
        f.write(b"dummy")
    splits = {}
    for split, docs in (("train", train_docs), ("val", val_docs)):
        entries = []
        if docs:
            name = f"{split}-00000-of-00001.tok"
            with open(os.path.join(run, name), "wb") as f:
                w = write_shard(f, docs, vocab_size=VOCAB, bos_id=1, eos_id=2, pad_id=3,
                                tokenizer_sha256="0" * 64, shard_id=0, num_shards=1, meta={})
            entries.append({"path": name, "num_tokens": w["num_tokens"],
                            "num_docs": w["num_docs"]})
        splits[split] = entries
    manifest = {"format_version": 1, "splits": splits,
                "tokenizer": {"file": "tokenizer.model", "vocab_size": VOCAB, "bos_id": 1,
                              "eos_id": 2, "pad_id": 3, "unk_id": 0}}
    with open(os.path.join(run, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    return run


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_args")
    docs = [[1, *range(4, 40), 2] for _ in range(2)]  # 76 train tokens
    run = _write_run(str(root / "run"), docs, docs[:1])
    empty_run = _write_run(str(root / "empty_run"), [])
    (root / "not_a_run").mkdir()
    (root / "a_file").write_text("x")
    return {"root": str(root), "run": run, "empty_run": empty_run,
            "not_a_run": str(root / "not_a_run"), "file": str(root / "a_file")}


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    """A real orbax checkpoint at step 7 of a tiny model, with a dummy tokenizer.model."""
    out = str(tmp_path_factory.mktemp("ckpt") / "c")
    cfg = gpt.GPTConfig(vocab_size=VOCAB, block_size=8, n_layer=1, n_head=2, n_embd=8)
    os.makedirs(out)
    with open(os.path.join(out, ckpt.TOKENIZER), "wb") as f:
        f.write(b"not a sentencepiece model")
    mgr = ckpt.manager(out)
    ckpt.save(mgr, out, 7, gpt.init_params(cfg, 0), {"count": jnp.int32(7)},
              {"config": cfg.to_dict(), "args": {}, "manifest_sha256": "x", "seed": 0})
    mgr.close()
    return out


def _one_error_line(err: str, prog: str, *needles: str) -> str:
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: "), err
    for n in needles:
        assert n in lines[0], (n, err)
    return lines[0]


def _refused(capfd, fn, argv, prog, *needles):
    capfd.readouterr()
    assert fn(argv) == 2
    captured = capfd.readouterr()
    return _one_error_line(captured.err, prog, *needles)


# ---- train --------------------------------------------------------------------------

TRAIN_VALUE_CASES = [
    (["--steps", "0"], "--steps must be positive"),
    (["--batch-size", "0"], "--batch-size must be positive"),
    (["--block-size", "-8"], "--block-size must be positive"),
    (["--n-layer", "0"], "--n-layer must be positive"),
    (["--n-head", "0"], "--n-head must be positive"),
    (["--n-embd", "0"], "--n-embd must be positive"),
    (["--n-embd", "100", "--n-head", "3"], "not divisible by --n-head 3"),
    (["--n-embd", "12", "--n-head", "4"], "must be even"),
    (["--lr", "-0.001"], "--lr must be > 0"),
    (["--lr", "nan"], "--lr must be > 0"),
    (["--min-lr", "-1"], "--min-lr must be >= 0"),
    (["--warmup", "-1"], "--warmup must be >= 0"),
    (["--weight-decay", "-0.1"], "--weight-decay must be >= 0"),
    (["--dropout", "1"], "--dropout must be in [0, 1)"),
    (["--dropout", "-0.1"], "--dropout must be in [0, 1)"),
    (["--grad-clip", "-1"], "--grad-clip must be >= 0"),
    (["--log-every", "0"], "--log-every must be positive"),
    (["--eval-every", "-1"], "--eval-every must be >= 0"),
]


@pytest.mark.parametrize("flags,needle", TRAIN_VALUE_CASES, ids=[" ".join(c[0]) for c in
                                                                 TRAIN_VALUE_CASES])
def test_train_refuses_bad_values(dirs, tmp_path, capfd, flags, needle):
    argv = ["--data", dirs["run"], "--out", str(tmp_path / "out"), *flags]
    _refused(capfd, train_mod.main, argv, "gristmill train", needle)
    assert not (tmp_path / "out").exists()


def test_train_refuses_bad_data_and_out(dirs, tmp_path, capfd):
    out = str(tmp_path / "out")
    cases = [
        (["--out", out], "--data RUN_DIR is required"),
        (["--data", "/missing/run", "--out", out], "/missing/run does not exist"),
        (["--data", dirs["file"], "--out", out], "is not a directory"),
        (["--data", dirs["not_a_run"], "--out", out], "no manifest.json", "not a finished run"),
        (["--data", dirs["empty_run"], "--out", out], "has no train shards"),
        (["--data", dirs["run"], "--out", dirs["file"]], "exists and is not a directory"),
        (["--data", dirs["run"], "--out", os.path.join(dirs["file"], "sub")],
         "cannot be created", "is not a directory"),
        (["--data", dirs["run"], "--out", dirs["run"]], "is the --data run directory"),
    ]
    for argv, *needles in cases:
        _refused(capfd, train_mod.main, argv, "gristmill train", *needles)
    assert not os.path.exists(out)


def test_train_refuses_a_context_that_cannot_fit_in_memory(dirs, tmp_path, capfd):
    line = _refused(capfd, train_mod.main,
                    ["--data", dirs["run"], "--out", str(tmp_path / "o"), "--block-size", "100000"],
                    "gristmill train", "--block-size 100000", "would need at least about", "TB")
    assert "more than the" in line


def test_train_refuses_too_few_tokens_for_the_block(dirs, tmp_path, capfd):
    # passes every check up to the loader (devices, memory), then: 76 tokens < 128 + 1
    _refused(capfd, train_mod.main, ["--data", dirs["run"], "--out", str(tmp_path / "o")],
             "gristmill train", "fewer than block_size + 1")
    assert not (tmp_path / "o").exists()


def test_memory_estimate_is_sane():
    demo = gpt.GPTConfig(vocab_size=32000, block_size=128, n_layer=4, n_head=4, n_embd=128)
    small = train_mod.estimate_train_bytes(demo, 16, 4)
    assert 100e6 < small < 4e9  # the logits (B*T*V float32) dominate: about 1 GB
    huge = gpt.GPTConfig(vocab_size=32000, block_size=100_000, n_layer=4, n_head=4, n_embd=128)
    assert train_mod.estimate_train_bytes(huge, 16, 4) > 1e12
    # the default model fits on this machine (the check does not refuse it)
    import jax
    train_mod.check_memory(demo, 16, jax.devices(), 4)


def test_writable_dir_check(tmp_path):
    check_writable_dir("out", str(tmp_path / "new" / "deeper"))  # creatable: fine
    check_writable_dir("out", str(tmp_path))
    (tmp_path / "f").write_text("")
    with pytest.raises(UsageError, match="not a directory"):
        check_writable_dir("out", str(tmp_path / "f"))


# ---- sample / next-token --------------------------------------------------------------

SAMPLE_VALUE_CASES = [
    (["--temperature", "-0.5"], ["--temperature must be >= 0"]),
    (["--top-p", "0"], ["--top-p must be in (0, 1]"]),
    (["--top-p", "1.5"], ["--top-p must be in (0, 1]"]),
    (["--top-k", "-1"], ["--top-k must be >= 0"]),
    (["--max-tokens", "0"], ["--max-tokens must be positive"]),
    (["--num-samples", "0"], ["--num-samples must be positive"]),
    (["--step", "99"], ["--step 99 does not exist", "(steps: 7)"]),
    (["--step", "-1"], ["--step must be >= 0"]),
    ([], ["tokenizer.model is not a sentencepiece model"]),  # every check passes up to here
]


@pytest.mark.parametrize("flags,needles", SAMPLE_VALUE_CASES,
                         ids=[" ".join(c[0]) or "dummy-tokenizer" for c in SAMPLE_VALUE_CASES])
def test_sample_refuses_bad_values(tiny_ckpt, capfd, flags, needles):
    _refused(capfd, sample.main, ["--ckpt", tiny_ckpt, *flags], "gristmill sample", *needles)


def test_sample_and_next_token_refuse_bad_checkpoints(dirs, tiny_ckpt, capfd):
    for fn, prog in ((sample.main, "gristmill sample"),
                     (sample.next_token_main, "gristmill next-token")):
        _refused(capfd, fn, ["--ckpt", "/missing/ckpt"], prog, "/missing/ckpt does not exist")
        _refused(capfd, fn, ["--ckpt", dirs["file"]], prog, "is not a directory")
        _refused(capfd, fn, ["--ckpt", dirs["not_a_run"]], prog,
                 "is not a gristmill checkpoint", "checkpoint.json")
        _refused(capfd, fn, ["--ckpt", dirs["run"]], prog, "is not a gristmill checkpoint")
        _refused(capfd, fn, ["--ckpt", tiny_ckpt, "--step", "3"], prog, "--step 3 does not exist")
    _refused(capfd, sample.next_token_main, ["--ckpt", tiny_ckpt, "--top", "0"],
             "gristmill next-token", "--top must be positive")


def test_checkpoint_check_resolves_the_step(tiny_ckpt):
    assert sample.check_checkpoint(tiny_ckpt, None) == 7
    assert sample.check_checkpoint(tiny_ckpt, 7) == 7


# ---- the real console script ------------------------------------------------------------

def test_console_script_answers_one_line_and_exit_2(dirs, tiny_ckpt, tmp_path):
    """The cases of the bug report, through `gristmill` itself (stderr of the process)."""
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    cases = [
        (["sample", "--ckpt", "/missing"], "gristmill sample", "/missing does not exist"),
        (["next-token", "--ckpt", tiny_ckpt, "--step", "99"], "gristmill next-token",
         "--step 99 does not exist"),
        (["train", "--data", "/missing", "--out", str(tmp_path / "o")], "gristmill train",
         "/missing does not exist"),
        (["train", "--data", dirs["run"], "--out", str(tmp_path / "o"), "--block-size",
          "100000"], "gristmill train", "would need at least about"),
    ]
    for argv, prog, needle in cases:
        r = subprocess.run([GRISTMILL, *argv], capture_output=True, text=True, env=env,
                           timeout=300)
        assert r.returncode == 2, (argv, r.stdout, r.stderr)
        _one_error_line(r.stderr, prog, needle)
    assert not (tmp_path / "o").exists()
