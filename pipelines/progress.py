"""What the console shows while a run goes on, and the runner's own figures after it.

`RangeProgress` is a tqdm bar over the input byte ranges read so far: each ReadRanges
bundle leaves one empty file per finished range in a local folder (local runners
only), which the bar counts. `runner_metrics` collects what the runner measured
(per-PCollection element counts and byte sizes, bytes entering each shuffle).
"""
from __future__ import annotations

import os
import sys
import threading
import time

from tqdm import tqdm

ELEMENT_COUNT = "beam:metric:element_count:v1"
SAMPLED_BYTES = "beam:metric:sampled_byte_size:v1"
GBK_URN = "beam:transform:group_by_key:v1"
COMBINE_URN = "beam:transform:combine_per_key:v1"


class RangeProgress:
    """A progress bar of input ranges read, fed by the files ReadRanges leaves in `folder`."""

    def __init__(self, folder: str, total: int | None, interval_s: float = 2.0):
        self.folder, self.total, self.interval_s = folder, total, interval_s
        self._stop = threading.Event()
        self._bar = None

    def _watch(self) -> None:
        # a live bar on a terminal; in a log, one plain line every 10 seconds
        self._bar = tqdm(total=self.total, unit="range", desc="[run] input ranges read",
                         file=sys.stdout, disable=not sys.stdout.isatty())
        start = last = time.time()
        while not self._stop.wait(self.interval_s):
            done = len(os.listdir(self.folder))
            self._bar.update(done - self._bar.n)
            if self._bar.disable and time.time() - last >= 10:
                last = time.time()
                print(f"[run] {last - start:.0f}s: {done}/{self.total or '?'} input ranges read",
                      flush=True)
        self._bar.update(len(os.listdir(self.folder)) - self._bar.n)
        self._bar.close()

    def __enter__(self):
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


def _pcollection_sizes(monitoring_infos) -> dict[str, dict]:
    from apache_beam.metrics import monitoring_infos as mi
    sizes: dict[str, dict] = {}
    for info in monitoring_infos:
        pcoll = info.labels.get("PCOLLECTION")
        if not pcoll:
            continue
        entry = sizes.setdefault(pcoll, {"elements": 0, "sampled": 0, "sampled_bytes": 0})
        if info.urn == ELEMENT_COUNT:
            entry["elements"] += mi.extract_counter_value(info)
        elif info.urn == SAMPLED_BYTES:
            count, total, _, _ = mi.extract_distribution(info)
            entry["sampled"] += count
            entry["sampled_bytes"] += total
    return sizes


def runner_metrics(result, pipeline) -> dict:
    """Bytes that entered each shuffle (GroupByKey), estimated from the runner's sampled
    element sizes x element counts; {} when the runner does not report them.

    A combine's GroupByKey is left out: runners lift combiners, so only per-bundle
    accumulators cross that shuffle, which this graph does not show."""
    infos = getattr(result, "monitoring_infos", None)
    if infos is None:
        return {}
    sizes = _pcollection_sizes(infos())
    proto = pipeline.to_runner_api()
    names = {pid: pc.unique_name for pid, pc in proto.components.pcollections.items()}
    transforms = proto.components.transforms
    lifted = {sub for t in transforms.values() if t.spec.urn == COMBINE_URN for sub in t.subtransforms}
    shuffles = {}
    for tid, t in transforms.items():
        if t.spec.urn != GBK_URN or tid in lifted:
            continue
        for pid in t.inputs.values():
            s = sizes.get(pid)
            if s and s["sampled"]:
                mean = s["sampled_bytes"] / s["sampled"]
                shuffles[t.unique_name] = {"input": names.get(pid, pid), "elements": s["elements"],
                                           "bytes": int(mean * s["elements"]),
                                           "mean_element_bytes": round(mean, 1)}
    return {"shuffles": dict(sorted(shuffles.items())),
            "shuffle_bytes": sum(s["bytes"] for s in shuffles.values())}
