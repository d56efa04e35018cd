"""What the console shows while a run goes on, and the runner's own figures after it.

`RunProgress` watches a local folder that the workers write to (local runners only):
ReadRanges leaves one empty file per finished input range, and every counting DoFn
(transforms/stage.py `Counted`) replaces its own small JSON file of running totals
(stage, items counted, wall seconds in the stage's function) at most every 2 s. From
these it shows a tqdm bar of ranges read on a terminal, and otherwise one line every
10 seconds: files and ranges read, records read and their rate over the last 10 s,
and the current stage (the one whose functions took the most time since the last look,
with the items it has handled). FnApiRunner's `run` blocks and its metrics are only
reported per finished bundle, so live figures come from these files rather than from
the runner. `runner_metrics` collects what the runner measured after the run
(per-PCollection element counts and byte sizes, bytes entering each shuffle).
"""
from __future__ import annotations

import collections
import json
import os
import sys
import threading
import time

from tqdm import tqdm

ELEMENT_COUNT = "beam:metric:element_count:v1"
SAMPLED_BYTES = "beam:metric:sampled_byte_size:v1"
GBK_URN = "beam:transform:group_by_key:v1"
COMBINE_URN = "beam:transform:combine_per_key:v1"


READ_STAGE = "read"


def snapshot(folder: str) -> dict:
    """What the workers have left in the folder: {"ranges": {input index: ranges read},
    "stages": {stage: {"n": items, "wall_s": seconds, "t": latest write}}}."""
    ranges: collections.Counter = collections.Counter()
    stages: dict[str, dict] = {}
    try:
        names = os.listdir(folder)
    except OSError:
        names = []
    for name in names:
        if name.endswith(".json"):  # one DoFn instance's running totals
            try:
                with open(os.path.join(folder, name)) as f:
                    beat = json.load(f)
                into = stages.setdefault(beat["stage"], {"n": 0, "wall_s": 0.0, "t": 0.0})
                into["n"] += beat["n"]
                into["wall_s"] += beat["wall_s"]
                into["t"] = max(into["t"], beat["t"])
            except (OSError, ValueError, KeyError, TypeError):
                continue  # replaced or half-written just now: next time
        elif not name.endswith(".tmp"):  # "<input index>-<start>": a range read
            index = name.split("-", 1)[0]
            if index.isdigit():
                ranges[int(index)] += 1
    return {"ranges": dict(ranges), "stages": stages}


def current_stage(before: dict, now: dict, previous: str = "") -> str:
    """The stage at work between two snapshots: of those that reported since, the one
    whose functions took the most time (then the latest); else the previous one."""
    moved = [(s["wall_s"] - before.get(name, {}).get("wall_s", 0.0), s["t"], name)
             for name, s in now.items() if s["t"] > before.get(name, {}).get("t", 0.0)]
    return max(moved)[2] if moved else previous


class RunProgress:
    """A local run's progress, from the files its workers leave in `folder` (see the
    module docstring): a bar on a terminal, else a line every `line_every_s` seconds.
    `ranges_per_file`: {input index: number of ranges}, when the inputs are local."""

    def __init__(self, folder: str, ranges_per_file: dict[int, int] | None, interval_s: float = 2.0,
                 line_every_s: float = 10.0, out=None):
        self.folder, self.interval_s, self.line_every_s = folder, interval_s, line_every_s
        self.ranges_per_file = ranges_per_file
        self.total = sum(ranges_per_file.values()) if ranges_per_file is not None else None
        self.out = out or sys.stdout
        self._stop = threading.Event()
        self._bar = None
        self._stage, self._last = "", {"ranges": {}, "stages": {}}
        self._history: collections.deque = collections.deque()  # (time, records read)

    def status(self, now: float) -> tuple[int, list[str]]:
        """(ranges read, the parts of a progress line) from a fresh snapshot of the folder."""
        snap = snapshot(self.folder)
        self._stage = current_stage(self._last["stages"], snap["stages"], self._stage)
        self._last = snap
        ranges = sum(snap["ranges"].values())
        records = snap["stages"].get(READ_STAGE, {}).get("n", 0)
        self._history.append((now, records))
        while len(self._history) > 1 and now - self._history[0][0] > self.line_every_s:
            self._history.popleft()
        parts = []
        if self.ranges_per_file is not None:
            files = sum(1 for i, n in self.ranges_per_file.items() if snap["ranges"].get(i, 0) >= n)
            parts.append(f"{files}/{len(self.ranges_per_file)} files")
        parts.append(f"{ranges}/{self.total if self.total is not None else '?'} ranges")
        reading = self.total is None or ranges < self.total
        t0, r0 = self._history[0]
        rate = f" ({(records - r0) / (now - t0):,.0f}/s)" if reading and now > t0 else ""
        parts.append(f"{records:,} records read{rate}")
        if self._stage:
            n = snap["stages"].get(self._stage, {}).get("n", 0)
            parts.append(f"stage {self._stage}" + (f" ({n:,} handled)" if n else ""))
        return ranges, parts

    def _watch(self) -> None:
        # a live bar on a terminal; in a log, one plain line every line_every_s seconds
        self._bar = tqdm(total=self.total, unit="range", desc="[run] input ranges read",
                         file=self.out, disable=not self.out.isatty())
        start = last = time.time()
        while not self._stop.wait(self.interval_s):
            now = time.time()
            done, parts = self.status(now)
            self._bar.update(done - self._bar.n)
            if not self._bar.disable:  # the bar counts the ranges itself
                self._bar.set_postfix_str(", ".join(p for p in parts if not p.endswith(" ranges")))
            elif now - last >= self.line_every_s:
                last = now
                print(f"[run] {now - start:.0f}s: {', '.join(parts)}", file=self.out, flush=True)
        done, _ = self.status(time.time())
        self._bar.update(done - self._bar.n)
        self._bar.close()

    def __enter__(self):
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


RangeProgress = RunProgress  # its former name


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
