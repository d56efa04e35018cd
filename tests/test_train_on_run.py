"""Train on a run directory that the real pipeline wrote over a shared WARC: `gristmill
run` (subprocess, one worker), then the `tiny` preset through the grain loader with
document masking; a tampered shard of the same run is refused by name."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import gristmill_cli, shared_data
from gristmill.model import train as train_mod
from gristmill.model.data import ShardRefused, TokenLoader
from gristmill.tokfile import HEADER_SIZE


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    warc = shared_data("warc", "crawl-en-0000.warc.gz")  # the smallest with enough text
    out = tmp_path_factory.mktemp("train-on-run") / "run"
    r = gristmill_cli("run", "--input", warc.resolve(), "--output", out, "--vocab-size", 512,
                      "--val-fraction", 0.2, "--shard-tokens", 10_000, "--direct_num_workers=1")
    assert r.returncode == 0, r.stdout + r.stderr
    return str(out)


def test_tiny_preset_trains_on_a_pipeline_run(run_dir, tmp_path):
    m = json.load(open(os.path.join(run_dir, "manifest.json")))
    assert len(m["splits"]["train"]) > 1 and m["tokenizer"]["vocab_size"] <= 512
    hist = train_mod.train(*train_mod.parse_args(
        ["--data", run_dir, "--out", str(tmp_path / "ckpt"), "--preset", "tiny", "--doc-mask",
         "--steps", "30", "--batch-size", "8", "--warmup", "5", "--lr", "1e-2",
         "--eval-every", "0", "--eval-batches", "2", "--log-every", "10"]))
    assert hist["last_loss"] < hist["first_loss"] - 1.0, hist


def test_a_tampered_shard_of_the_run_is_refused(run_dir, tmp_path):
    bad = tmp_path / "run"
    shutil.copytree(run_dir, bad)
    name = json.load(open(bad / "manifest.json"))["splits"]["train"][0]["path"]
    with open(bad / name, "r+b") as f:
        f.seek(HEADER_SIZE)
        b = f.read(1)
        f.seek(HEADER_SIZE)
        f.write(bytes([b[0] ^ 1]))
    with pytest.raises(ShardRefused, match=name):
        TokenLoader(str(bad), "train", block_size=64, batch_size=8, process_index=0, process_count=1)
    with pytest.raises(train_mod.UsageError, match=name):
        train_mod.train(*train_mod.parse_args(["--data", str(bad), "--out", str(tmp_path / "c"),
                                               "--preset", "tiny", "--steps", "1"]))


def test_the_train_command_runs_with_the_cpu_xla_flags_and_learns(run_dir, tmp_path):
    import re
    r = gristmill_cli("train", "--data", run_dir, "--out", tmp_path / "ckpt", "--preset", "tiny",
                      "--steps", "30", "--batch-size", "8", "--warmup", "5", "--lr", "1e-2",
                      "--eval-every", "0", "--log-every", "10")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    flags = next(line for line in out.splitlines() if "XLA_FLAGS:" in line)
    assert all(f in flags for f in train_mod.CPU_XLA_FLAGS), flags
    assert "host malloc: glibc" in out and "mmap off" in out, out
    first, last = (float(x) for x in re.search(r"first loss ([\d.]+).*last loss ([\d.]+)", out).groups())
    assert last < first - 1.0, out


def test_cpu_xla_flags_are_added_once_and_a_users_own_setting_wins():
    from conftest import ROOT
    pins = (ROOT / "constraints.txt").read_text()
    assert f"jaxlib=={train_mod.MEASURED_JAXLIB}\n" in pins  # a new pin: measure the flags again
    env = {}
    assert train_mod.add_cpu_xla_flags(env) == list(train_mod.CPU_XLA_FLAGS)
    assert env["XLA_FLAGS"] == " ".join(train_mod.CPU_XLA_FLAGS)
    assert train_mod.add_cpu_xla_flags(env) == [] and env["XLA_FLAGS"] == " ".join(train_mod.CPU_XLA_FLAGS)
    other = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    train_mod.add_cpu_xla_flags(other)
    assert other["XLA_FLAGS"] == " ".join(["--xla_force_host_platform_device_count=2", *train_mod.CPU_XLA_FLAGS])
    mine = {"XLA_FLAGS": "--xla_cpu_experimental_ynn_fusion_type=individual_dot"}
    assert train_mod.add_cpu_xla_flags(mine) == list(train_mod.CPU_XLA_FLAGS[1:])
    assert mine["XLA_FLAGS"] == " ".join(["--xla_cpu_experimental_ynn_fusion_type=individual_dot",
                                          *train_mod.CPU_XLA_FLAGS[1:]])
    all_mine = {"XLA_FLAGS": "--xla_cpu_experimental_ynn_fusion_type= --xla_disable_hlo_passes=foo"}
    assert train_mod.add_cpu_xla_flags(all_mine) == []


def test_glibc_keeps_freed_memory_unless_the_user_tunes_malloc():
    """keep_freed_memory in a fresh process (it changes malloc for the whole process): on
    this glibc Linux it turns malloc's mmap off; a user's own MALLOC_* tunable wins."""
    code = ("from gristmill.model import train; import ctypes, resource; print(train.keep_freed_memory()); "
            "r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt; libc = ctypes.CDLL('libc.so.6'); "
            "libc.malloc.restype = ctypes.c_void_p; libc.free.argtypes = [ctypes.c_void_p]\n"
            "for _ in range(20):\n"
            "    p = libc.malloc(64 << 20); ctypes.memset(p, 1, 64 << 20); libc.free(p)\n"
            "print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0) // 20)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    said, faults = out.split("\n")[:2]
    assert said.startswith("glibc ") and "mmap off" in said, out
    assert int(faults) < 1000, out  # a 64 MiB block faulted in anew each time would be 16,384
    env["MALLOC_ARENA_MAX"] = "2"  # not one of the tunables it leaves alone
    env["MALLOC_TRIM_THRESHOLD_"] = "0"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    said, faults = out.split("\n")[:2]
    assert said == "glibc defaults left to the user's MALLOC_TRIM_THRESHOLD_", out
    assert int(faults) > 10000, out
