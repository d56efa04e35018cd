"""Checkpoint directory layout (orbax), shared by train and sample.

  CKPT_DIR/checkpoint.json        GPTConfig, train args, manifest sha256, seed, latest step
  CKPT_DIR/tokenizer.model        copied from the run, so sampling needs only CKPT_DIR
  CKPT_DIR/checkpoints/<step>/    orbax CheckpointManager step: items
        params     (StandardSave: nested dict of float32 arrays)
        opt_state  (StandardSave: the optax state)
        meta       (JsonSave: the same fields as checkpoint.json, for that step)
"""
from __future__ import annotations

import dataclasses
import json
import os

import jax
import orbax.checkpoint as ocp

from gristmill.model import gpt

STATE_JSON = "checkpoint.json"
TOKENIZER = "tokenizer.model"
STEPS_DIR = "checkpoints"


def manager(ckpt_dir: str, max_to_keep: int | None = 3) -> ocp.CheckpointManager:
    return ocp.CheckpointManager(
        os.path.join(os.path.abspath(ckpt_dir), STEPS_DIR),
        options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                             enable_async_checkpointing=False))


def latest_step(ckpt_dir: str) -> int | None:
    """The newest complete checkpoint step in ckpt_dir, or None (creates nothing)."""
    if not os.path.isdir(os.path.join(ckpt_dir, STEPS_DIR)):
        return None
    return manager(ckpt_dir).latest_step()


def save(mgr: ocp.CheckpointManager, ckpt_dir: str, step: int, params, opt_state,
         meta: dict) -> None:
    meta = dict(meta, step=int(step))
    mgr.save(step, args=ocp.args.Composite(params=ocp.args.StandardSave(params),
                                           opt_state=ocp.args.StandardSave(opt_state),
                                           meta=ocp.args.JsonSave(meta)), force=True)
    mgr.wait_until_finished()
    if jax.process_index() == 0:
        tmp = os.path.join(ckpt_dir, STATE_JSON + ".tmp")
        with open(tmp, "w") as f:
            json.dump(meta, f, indent=2, sort_keys=True)
        os.replace(tmp, os.path.join(ckpt_dir, STATE_JSON))


def read_meta(ckpt_dir: str, step: int) -> dict:
    return manager(ckpt_dir).restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta


def _abstract(tree, sharding):
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), tree)


def restore(ckpt_dir: str, step: int, abstract_params, abstract_opt_state=None):
    """(params, opt_state or None, meta) of `step`, placed as the abstract trees say."""
    items = dict(params=ocp.args.StandardRestore(abstract_params), meta=ocp.args.JsonRestore())
    if abstract_opt_state is not None:
        items["opt_state"] = ocp.args.StandardRestore(abstract_opt_state)
    r = manager(ckpt_dir).restore(step, args=ocp.args.Composite(**items))
    return r.params, (r.opt_state if abstract_opt_state is not None else None), r.meta


@dataclasses.dataclass
class Loaded:
    config: gpt.GPTConfig
    graphdef: object
    params: dict
    meta: dict
    step: int
    tokenizer_path: str

    @property
    def model(self) -> gpt.GPT:
        return gpt.nnx.merge(self.graphdef, self.params)


def load_checkpoint(ckpt_dir: str, step: int | None = None, dtype=None) -> Loaded:
    """Params of the latest (or given) step on the first local device, for inference."""
    step = latest_step(ckpt_dir) if step is None else step
    if step is None:
        raise FileNotFoundError(f"no checkpoint in {ckpt_dir} (expected {STEPS_DIR}/<step>/ "
                                f"written by `gristmill train --out {ckpt_dir}`)")
    meta = read_meta(ckpt_dir, step)
    cfg = gpt.GPTConfig.from_dict(meta["config"])
    dtype = dtype or gpt.default_compute_dtype()
    shape = jax.eval_shape(lambda: gpt.init_params(cfg, 0))
    params, _, meta = restore(ckpt_dir, step, _abstract(
        shape, jax.sharding.SingleDeviceSharding(jax.local_devices()[0])))
    return Loaded(config=cfg, graphdef=gpt.graphdef(cfg, dtype), params=params, meta=meta,
                  step=step, tokenizer_path=os.path.join(ckpt_dir, TOKENIZER))
