"""Trainer tests: loader, GPT, train/resume, checkpoints, sampling. Real JAX and
sentencepiece on tiny inputs; the text is generated here, no shared data needed."""
from __future__ import annotations

import json
import math
import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sentencepiece as spm

from gristmill.model import checkpoint as ckpt
from gristmill.model import gpt, sample
from gristmill.model import train as train_mod
from gristmill.model.data import ShardRefused, TokenLoader, TokenStream, load_manifest
from gristmill.model.synthetic import synthetic_docs, train_tokenizer, write_run_dir

VOCAB = 320


def _make_run(root, docs: list[str], shard_layout, name: str) -> tuple[str, list[list[int]]]:
    """Run dir whose train shards hold docs per shard_layout (list of doc-index lists)."""
    run = os.path.join(root, name)
    os.makedirs(run)
    tok = os.path.join(root, f"{name}.model")
    train_tokenizer(docs, tok, VOCAB)
    sp = spm.SentencePieceProcessor(model_file=tok)
    encoded = [[sp.bos_id(), *ids, sp.eos_id()] for ids in sp.encode(docs)]
    train = [[encoded[i] for i in shard] for shard in shard_layout]
    used = {i for shard in shard_layout for i in shard}
    val = [encoded[i] for i in range(len(docs)) if i not in used]
    write_run_dir(run, tok, {"train": train, "val": [val]})
    return run, encoded


@pytest.fixture(scope="module")
def markov_run(tmp_path_factory):
    """Generated 'language', train shards [0..9], [], [10..19], [20..29]; val 30..33."""
    docs = synthetic_docs(34, seed=1, num_words=300, words_per_doc=(20, 60))
    layout = [list(range(0, 10)), [], list(range(10, 20)), list(range(20, 30))]
    run, encoded = _make_run(tmp_path_factory.mktemp("markov"), docs, layout, "run")
    stream = np.concatenate([encoded[i] for shard in layout for i in shard])
    return run, stream


@pytest.fixture(scope="module")
def repeat_run(tmp_path_factory):
    """A tiny repeated text: a model learns it in a few dozen steps."""
    text = "the quick brown fox jumps over the lazy dog and then it sleeps in the sun. " * 6
    docs = [text] * 24
    run, _ = _make_run(tmp_path_factory.mktemp("repeat"), docs,
                       [list(range(0, 10)), list(range(10, 20))], "run")
    return run


TINY = ["--block-size", "32", "--batch-size", "8", "--n-layer", "2", "--n-head", "2",
        "--n-embd", "64", "--warmup", "5", "--lr", "1e-2", "--eval-batches", "2",
        "--log-every", "5"]


def _train(argv):
    return train_mod.train(*train_mod.parse_args(argv))


# ---- loader -----------------------------------------------------------------------

def test_examples_are_windows_of_the_concatenated_stream(markov_run):
    run, stream = markov_run
    t = 16
    ld = TokenLoader(run, "train", block_size=t, batch_size=4, seed=0,
                     process_index=0, process_count=1)
    assert ld.stream.num_tokens == len(stream) and ld.stream.num_shards == 4
    np.testing.assert_array_equal(ld.stream.read(0, len(stream)), stream)
    one_open = TokenStream(run, ld.manifest, "train", max_open=1)  # reopens shards as it goes
    np.testing.assert_array_equal(one_open.read(5, len(stream) - 5), stream[5:-5])
    assert len(ld) == (len(stream) - 1) // t
    for i in range(len(ld)):  # every example, including those straddling shards
        w = ld.source[i]  # grain RandomAccessDataSource: the window of T+1 tokens
        np.testing.assert_array_equal(w, stream[i * t:i * t + t + 1])
        assert w.dtype == np.int32 and w.shape == (t + 1,)
    with pytest.raises(IndexError):
        ld.source[len(ld)]
    x, y = ld.global_batch_at(3)
    idx = ld.global_indices(3)
    for r, i in enumerate(idx):
        np.testing.assert_array_equal(x[r], stream[i * t:i * t + t])
        np.testing.assert_array_equal(y[r], stream[i * t + 1:i * t + t + 1])


def test_too_few_tokens_is_a_clear_error(markov_run):
    run, stream = markov_run
    with pytest.raises(ValueError, match="fewer than block_size"):
        TokenLoader(run, "train", block_size=len(stream), batch_size=1,
                    process_index=0, process_count=1)
    with pytest.raises(ValueError, match="'nope' has 0 tokens"):
        TokenLoader(run, "nope", block_size=8, batch_size=1, process_index=0, process_count=1)


def test_order_is_seeded_permutation_and_batch_at_is_stateless(markov_run):
    run, _ = markov_run
    kw = dict(block_size=16, batch_size=5, process_index=0, process_count=1)
    a, b = TokenLoader(run, "train", seed=7, **kw), TokenLoader(run, "train", seed=7, **kw)
    n = len(a)
    steps = 3 * n // 5 + 2  # crosses epoch boundaries, mid-batch too
    seq = np.concatenate([a.global_indices(s) for s in range(steps)])
    for e in range(2):  # each epoch visits every example exactly once
        assert sorted(seq[e * n:(e + 1) * n]) == list(range(n))
    import grain.python as grain  # the order is grain's index shuffle, seed + epoch
    np.testing.assert_array_equal(seq[:n], [grain.MapDataset.range(n).shuffle(seed=7)[i]
                                            for i in range(n)])
    assert not np.array_equal(seq[:n], np.arange(n))
    assert not np.array_equal(seq[:n], seq[n:2 * n])  # epochs differ
    # a fresh loader asked for step s directly (resume) sees what the long run saw
    for s in [steps - 1, 0, n // 5, 1]:
        np.testing.assert_array_equal(b.global_indices(s), seq[s * 5:(s + 1) * 5])
        np.testing.assert_array_equal(b.batch_at(s)[0], a.batch_at(s)[0])
    c = TokenLoader(run, "train", seed=8, **kw)
    assert not np.array_equal(c.global_indices(0), a.global_indices(0))


def test_hosts_partition_the_global_batch(markov_run):
    run, _ = markov_run
    one = TokenLoader(run, "train", block_size=16, batch_size=8, seed=3,
                      process_index=0, process_count=1)
    for hosts in (1, 2, 4):
        lds = [TokenLoader(run, "train", block_size=16, batch_size=8, seed=3,
                           process_index=h, process_count=hosts) for h in range(hosts)]
        for step in (0, 5, 11):
            gx, gy = one.global_batch_at(step)  # the same global batch whatever the host count
            for h, ld in enumerate(lds):  # host h: rows h, h+H, ... (grain's ShardOptions)
                x, y = ld.batch_at(step)
                assert x.shape == (8 // hosts, 16)
                np.testing.assert_array_equal(x, gx[h::hosts])
                np.testing.assert_array_equal(y, gy[h::hosts])
    with pytest.raises(ValueError, match="not divisible"):
        TokenLoader(run, "train", block_size=16, batch_size=6, process_index=0, process_count=4)


def test_grain_dataloader_gives_batch_at_from_any_step(markov_run):
    run, _ = markov_run
    for hosts in (1, 2):
        for h in range(hosts):
            ld = TokenLoader(run, "train", block_size=16, batch_size=4, seed=5, doc_mask=True,
                             process_index=h, process_count=hosts)
            start = len(ld) // 4 - 1  # a few steps before the first epoch ends
            it = ld.iterator(start)
            for s in range(start, start + 4):
                got, want = next(it), ld.batch_at(s)
                assert len(got) == 3
                for a, b in zip(got, want):
                    np.testing.assert_array_equal(a, b)


def test_doc_mask_segments_follow_the_document_index(markov_run):
    run, stream = markov_run
    ld = TokenLoader(run, "train", block_size=16, batch_size=4, doc_mask=True,
                     process_index=0, process_count=1)
    bos = ld.manifest["tokenizer"]["bos_id"]
    starts = np.cumsum(stream == bos)  # every document starts with BOS, no BOS elsewhere
    crossing = 0
    for i in range(len(ld)):
        w = ld.source[i]
        assert w.shape == (2, 17) and w.dtype == np.int32
        np.testing.assert_array_equal(w[0], stream[i * 16:i * 16 + 17])
        np.testing.assert_array_equal(w[1], starts[i * 16:i * 16 + 17] - starts[i * 16])
        crossing += int(w[1, -1] > 0)
    assert crossing > 10  # windows with a boundary inside were checked
    x, y, seg = ld.batch_at(0)
    assert x.shape == y.shape == seg.shape == (4, 16)


def _tamper(run, dst, fn):
    shutil.copytree(run, dst)
    fn(str(dst))
    return str(dst)


def test_a_shard_that_disagrees_with_the_manifest_is_refused(markov_run, tmp_path):
    from gristmill.tokfile import HEADER_SIZE, Header, sha256_file
    run, _ = markov_run
    name = "train-00002-of-00004.tok"
    kw = dict(block_size=16, batch_size=4, process_index=0, process_count=1)

    def flip_token(d):  # one payload byte: only the file's sha256 can tell
        with open(os.path.join(d, name), "r+b") as f:
            f.seek(HEADER_SIZE + 10)
            b = f.read(1)
            f.seek(HEADER_SIZE + 10)
            f.write(bytes([b[0] ^ 1]))

    bad = _tamper(run, tmp_path / "flipped", flip_token)
    with pytest.raises(ShardRefused, match=f"{name}.*sha256"):
        TokenLoader(bad, "train", **kw)
    TokenLoader(bad, "train", verify=False, **kw)  # header checks alone cannot see it
    with pytest.raises(train_mod.UsageError, match=name):
        _train(["--data", bad, "--out", str(tmp_path / "o1"), "--steps", "1", *TINY])

    def other_tokenizer(d):  # a shard of another tokenizer, its manifest sha256 updated
        path = os.path.join(d, name)
        with open(path, "r+b") as f:
            h = Header.unpack(f.read(HEADER_SIZE))
            f.seek(0)
            f.write(Header(**{**h.__dict__, "tokenizer_sha256": "ab" * 32}).pack())
        m = json.load(open(os.path.join(d, "manifest.json")))
        for e in m["splits"]["train"]:
            if e["path"] == name:
                e["sha256"] = sha256_file(path)
        json.dump(m, open(os.path.join(d, "manifest.json"), "w"))

    bad = _tamper(run, tmp_path / "other_tok", other_tokenizer)
    for verify in (True, False):
        with pytest.raises(ShardRefused, match=f"{name}.*tokenizer sha256"):
            TokenLoader(bad, "train", verify=verify, **kw)


# ---- model ------------------------------------------------------------------------

def test_loss_at_init_is_about_ln_vocab():
    cfg = gpt.GPTConfig(vocab_size=512, block_size=32, n_layer=2, n_head=2, n_embd=64)
    params = gpt.init_params(cfg, 0)
    x = jax.random.randint(jax.random.key(0), (4, 33), 0, cfg.vocab_size)
    logits = gpt.apply(gpt.graphdef(cfg), params, x[:, :-1])
    assert logits.shape == (4, 32, 512) and logits.dtype == jnp.float32
    loss = float(gpt.cross_entropy(logits, x[:, 1:]))
    assert abs(loss - math.log(512)) < 0.3, loss
    # causal: changing a later token leaves earlier logits alone
    x2 = x.at[:, 20].set((x[:, 20] + 1) % 512)
    logits2 = gpt.apply(gpt.graphdef(cfg), params, x2[:, :-1])
    np.testing.assert_allclose(logits2[:, :20], logits[:, :20], atol=1e-5)
    assert not np.allclose(logits2[:, 20:], logits[:, 20:])


def test_doc_mask_keeps_attention_inside_a_document():
    cfg = gpt.GPTConfig(vocab_size=512, block_size=32, n_layer=2, n_head=2, n_embd=64)
    params, gdef = gpt.init_params(cfg, 0), gpt.graphdef(cfg)
    x = jax.random.randint(jax.random.key(1), (2, 32), 0, cfg.vocab_size)
    seg = jnp.asarray([[0] * 10 + [1] * 22, [0] * 5 + [1] * 20 + [2] * 7])
    x2 = x.at[:, :5].set((x[:, :5] + 7) % 512)  # change the first document only
    masked = lambda t: gpt.apply(gdef, params, t, segments=seg)  # noqa: E731
    a, b = masked(x), masked(x2)
    np.testing.assert_allclose(a[0, 10:], b[0, 10:], atol=1e-5)  # later documents: unchanged
    np.testing.assert_allclose(a[1, 5:], b[1, 5:], atol=1e-5)
    assert not np.allclose(a[:, :5], b[:, :5])
    plain = gpt.apply(gdef, params, x)
    assert not np.allclose(gpt.apply(gdef, params, x2)[0, 10:], plain[0, 10:])  # unmasked: leaks
    # one segment everywhere is plain causal attention
    np.testing.assert_allclose(gpt.apply(gdef, params, x, segments=jnp.zeros_like(x)), plain,
                               atol=1e-5)


def test_preset_flag_sets_the_model_size(tmp_path):
    args, explicit = train_mod.parse_args(["--out", str(tmp_path), "--preset", "tiny",
                                           "--block-size", "16"])
    assert (args.n_layer, args.n_head, args.n_embd, args.block_size) == (2, 2, 64, 16)
    assert {"n_layer", "n_embd", "block_size"} <= explicit
    with pytest.raises(train_mod.UsageError, match="unknown preset"):
        train_mod.parse_args(["--out", str(tmp_path), "--preset", "huge"])


def test_checkpoint_roundtrip_gives_same_logits(tmp_path, repeat_run):
    cfg = gpt.GPTConfig(vocab_size=VOCAB, block_size=16, n_layer=1, n_head=2, n_embd=32)
    params = gpt.init_params(cfg, 5)
    mgr = ckpt.manager(str(tmp_path))
    shutil.copyfile(os.path.join(repeat_run, "tokenizer.model"), tmp_path / ckpt.TOKENIZER)
    ckpt.save(mgr, str(tmp_path), 7, params, {"count": jnp.int32(7)},
              {"config": cfg.to_dict(), "args": {}, "manifest_sha256": "x", "seed": 5})
    loaded = ckpt.load_checkpoint(str(tmp_path), dtype=jnp.float32)
    assert loaded.step == 7 and loaded.config == cfg
    x = jnp.arange(16)[None] % VOCAB
    np.testing.assert_array_equal(gpt.apply(gpt.graphdef(cfg), params, x),
                                  gpt.apply(loaded.graphdef, loaded.params, x))
    meta = json.loads((tmp_path / ckpt.STATE_JSON).read_text())
    assert meta["step"] == 7 and meta["seed"] == 5


# ---- training, resume, sampling ---------------------------------------------------

@pytest.fixture(scope="module")
def trained(repeat_run, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("ckpt") / "a")
    hist = _train(["--data", repeat_run, "--out", out, "--steps", "40", "--eval-every", "20",
                   *TINY])
    return out, hist


def test_training_reduces_loss_and_checkpoint_is_complete(trained, repeat_run, capsys):
    out, hist = trained
    assert len(hist["losses"]) == 40
    assert hist["last_loss"] < 0.5 * hist["first_loss"], hist
    assert set(hist["eval"]) == {20, 40}
    for f in (ckpt.STATE_JSON, ckpt.TOKENIZER):
        assert os.path.isfile(os.path.join(out, f))
    meta = json.loads(open(os.path.join(out, ckpt.STATE_JSON)).read())
    assert meta["step"] == 40 and meta["manifest_sha256"] == load_manifest(repeat_run)[1]
    assert meta["args"]["batch_size"] == 8 and meta["config"]["n_embd"] == 64
    # the loaded checkpoint reproduces the final eval loss
    loaded = ckpt.load_checkpoint(out, dtype=jnp.float32)
    val = TokenLoader(repeat_run, "val", block_size=32, batch_size=8, shuffle=False,
                      process_index=0, process_count=1)
    losses = [float(gpt.cross_entropy(gpt.apply(loaded.graphdef, loaded.params, x), y))
              for x, y in (val.batch_at(k) for k in range(2))]
    assert abs(np.mean(losses) - hist["eval"][40]) < 1e-4


def test_resume_is_exact_and_guarded(repeat_run, tmp_path):
    n = 6
    common = ["--data", repeat_run, "--steps", str(2 * n), "--ckpt-every", str(n),
              "--dropout", "0.1", "--seed", "3", *TINY]
    full = _train(["--out", str(tmp_path / "full"), *common])
    # simulate a crash right after the step-n checkpoint: drop the later one
    shutil.copytree(tmp_path / "full", tmp_path / "crashed")
    shutil.rmtree(tmp_path / "crashed" / ckpt.STEPS_DIR / str(2 * n))
    assert ckpt.latest_step(str(tmp_path / "crashed")) == n
    resumed = _train(["--out", str(tmp_path / "crashed"), "--resume"])  # flags from checkpoint
    assert sorted(resumed["losses"]) == list(range(n + 1, 2 * n + 1))
    for s in range(n + 1, 2 * n + 1):
        assert abs(resumed["losses"][s] - full["losses"][s]) < 1e-5, (s, resumed, full)
    # refusing to clobber, to change the data order, or to switch data
    with pytest.raises(train_mod.UsageError, match="--resume"):
        _train(["--out", str(tmp_path / "full"), *common])
    with pytest.raises(train_mod.UsageError, match="--seed 4 differs"):
        _train(["--out", str(tmp_path / "full"), "--resume", "--seed", "4"])
    other = tmp_path / "other_run"
    shutil.copytree(repeat_run, other)
    m = json.loads((other / "manifest.json").read_text())
    m["config"]["note"] = "changed"
    (other / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(train_mod.UsageError, match="sha256"):
        _train(["--out", str(tmp_path / "full"), "--resume", "--data", str(other)])


def test_top_p_keeps_smallest_set_reaching_p():
    probs = np.array([0.15, 0.5, 0.05, 0.3])  # sorted: 1 (0.5), 3 (0.3), 0 (0.15), 2 (0.05)
    logits = jnp.log(jnp.asarray(probs))
    kept = lambda p: set(np.flatnonzero(np.isfinite(sample.top_p_filter(logits, p))))  # noqa: E731
    assert kept(0.3) == {1}
    assert kept(0.6) == {1, 3}
    assert kept(0.9) == {1, 3, 0}
    assert kept(0.99) == {0, 1, 2, 3}
    assert kept(1.0) == {0, 1, 2, 3}
    batch = jnp.stack([logits, logits[::-1]])
    out = np.isfinite(sample.top_p_filter(batch, 0.6))
    assert set(np.flatnonzero(out[0])) == {1, 3} and set(np.flatnonzero(out[1])) == {2, 0}
    assert set(np.flatnonzero(np.isfinite(sample.top_k_filter(logits, 2)))) == {1, 3}
    # sampling with top_p 0.6 only ever draws the kept tokens
    draws = sample.sample_logits(jnp.tile(logits, (2000, 1)), jax.random.key(0), 1.0, None, 0.6)
    assert set(np.unique(np.asarray(draws))) == {1, 3}


def test_sample_logits_greedy_seeded_and_top_k_1():
    logits = jax.random.normal(jax.random.key(1), (64, 50))
    greedy = sample.sample_logits(logits, jax.random.key(0), temperature=0)
    np.testing.assert_array_equal(greedy, jnp.argmax(logits, -1))
    np.testing.assert_array_equal(
        sample.sample_logits(logits, jax.random.key(9), temperature=1.0, top_k=1), greedy)
    a = sample.sample_logits(logits, jax.random.key(2), temperature=1.0)
    b = sample.sample_logits(logits, jax.random.key(2), temperature=1.0)
    c = sample.sample_logits(logits, jax.random.key(3), temperature=1.0)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_generate_and_clis(trained, capsys):
    out, _ = trained
    loaded = sample.load_checkpoint(out, dtype=jnp.float32)
    sp = spm.SentencePieceProcessor(model_file=loaded.tokenizer_path)
    prompt = [sp.bos_id(), *sp.encode("the quick")]
    g1 = sample.generate(loaded, prompt, 40, key=jax.random.key(0), temperature=0)
    g2 = sample.generate(loaded, prompt, 40, key=jax.random.key(1), temperature=0)
    k1 = sample.generate(loaded, prompt, 40, key=jax.random.key(2), temperature=1.0, top_k=1)
    assert g1 == g2 == k1 and len(g1[0]) == 40  # block 32 < 42: the window slides
    assert sample.generate(loaded, prompt, 40, key=jax.random.key(0), temperature=0,
                           use_cache=False) == g1  # the KV cache changes nothing
    assert sp.decode(g1[0]).startswith("brown fox")  # it learned the text
    hot = dict(temperature=3.0, num_samples=3)
    s1 = sample.generate(loaded, prompt, 20, key=jax.random.key(5), **hot)
    s2 = sample.generate(loaded, prompt, 20, key=jax.random.key(5), **hot)
    s3 = sample.generate(loaded, prompt, 20, key=jax.random.key(6), **hot)
    assert s1 == s2 and s1 != s3 and len(s1) == 3
    # a sample stops at (and drops) eos_id: pretend the 4th greedy token is EOS
    stop = g1[0][3]
    e = sample.generate(loaded, prompt, 40, key=jax.random.key(0), temperature=0, eos_id=stop)
    assert e[0] == g1[0][:g1[0].index(stop)]

    rows = sample.next_token_table(loaded, prompt, 10, sp)
    probs = [r[3] for r in rows]
    assert len(rows) == 10 and probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
    assert rows[0][2] == sp.id_to_piece(g1[0][0])

    capsys.readouterr()
    assert sample.main(["--ckpt", out, "--prompt", "the quick", "--temperature", "0",
                        "--max-tokens", "8"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("the quick brown fox"), text
    assert sample.main(["--ckpt", out, "--prompt", "the quick", "--temperature", "0",
                        "--max-tokens", "8", "--no-cache"]) == 0
    assert capsys.readouterr().out == text
    assert text == sp.decode(prompt[1:] + g1[0][:8]) + "\n"  # streamed: the same text
    assert sample.next_token_main(["--ckpt", out, "--prompt", "the quick", "--top", "5"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 2 + 5 and "prob" in table[1]
