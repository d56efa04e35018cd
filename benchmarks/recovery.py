"""How many byte-intact records the reader recovers from damaged copies of the shared WARCs.

  python -m benchmarks.recovery [--copies 12] [--seed 0] [--baseline-rev REV]

Makes seeded damaged copies (bit flips, spliced garbage, cut files: gristmill.sampledata
.damage) of the per-record `.warc.gz` files in ../shared/data/warc, reads each copy whole
with `read_range`, and counts the records of the still-intact gzip members that come out
exactly as they do from the original (same id, same document or reason). With
--baseline-rev the same copies are read by the code of that git revision, in the same run.
Last line: `intact=... recovered=... damage_rejections=... [baseline_recovered=...]`.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import random
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "warc"


def outcome(item) -> tuple:
    from gristmill.transforms.document import Document
    return (item.id, "kept") if isinstance(item, Document) else (item.id, item.reason)


def read_all(path: str) -> list:
    import os

    from gristmill.transforms.read_warc import read_range
    size = os.path.getsize(path)
    return [i for i in read_range(path, 0, 0, size, size) if not isinstance(i, dict)]


def make_copies(work: pathlib.Path, copies: int, seed: int) -> list[dict]:
    """Write the damaged copies; for each: path, kind, and the outcomes expected from its
    intact members (read from the original, member by member)."""
    from gristmill.sampledata.damage import KINDS, damaged_copy, gzip_members
    sources = sorted(p for p in SHARED.glob("*.warc.gz") if not p.name.endswith(".wet.gz"))
    rng = random.Random(seed)
    plan = []
    for i in range(copies):
        src, kind = sources[i % len(sources)], KINDS[i % len(KINDS)]
        data = src.read_bytes()
        bad, intact = damaged_copy(data, kind, rng)
        path = work / f"{i:02d}-{kind}-{src.name}"
        path.write_bytes(bad)
        members = gzip_members(data)
        by_offset = {}
        for item in read_all(str(src)):
            by_offset.setdefault(item.offset, []).append(outcome(item))
        expected = [o for m in intact for o in by_offset.get(members[m][0], [])]
        plan.append({"path": str(path), "kind": kind, "source": src.name,
                     "expected": [(k.hex(), v) for k, v in expected]})
    return plan


def score(plan: list[dict]) -> dict:
    from gristmill.transforms import read_warc
    damage = getattr(read_warc, "DAMAGE_REASONS", ("read_error",))
    rows, intact, recovered, rejections = [], 0, 0, 0
    for copy in plan:
        got = read_all(copy["path"])
        seen = {(i.hex(), v) for i, v in map(outcome, got)}
        ok = sum(tuple(e) in seen for e in copy["expected"])
        n_damage = sum(1 for g in got if getattr(g, "reason", "") in damage)
        rows.append({"copy": pathlib.Path(copy["path"]).name, "intact": len(copy["expected"]),
                     "recovered": ok, "damage_rejections": n_damage, "outputs": len(got)})
        intact += len(copy["expected"])
        recovered += ok
        rejections += n_damage
    return {"rows": rows, "intact": intact, "recovered": recovered, "damage_rejections": rejections}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--baseline-rev", default="", help="also read the copies with this git revision")
    ap.add_argument("--score-plan", default="", help=argparse.SUPPRESS)  # internal: the baseline run
    args = ap.parse_args(argv)
    if args.score_plan:
        print(json.dumps(score(json.loads(pathlib.Path(args.score_plan).read_text()))))
        return 0
    if not SHARED.exists():
        print(f"skipped: {SHARED} not found (see ../shared/data/README.md)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        plan = make_copies(work, args.copies, args.seed)
        ours = score(plan)
        base = None
        if args.baseline_rev:
            from benchmarks.scale import baseline_env
            env, cwd = baseline_env(args.baseline_rev, work)
            (work / "plan.json").write_text(json.dumps(plan))
            out = subprocess.run([sys.executable, "-m", "benchmarks.recovery", "--score-plan",
                                  str(work / "plan.json")], env={**env, "PYTHONPATH": f"{env['PYTHONPATH']}:{ROOT}"},
                                 cwd=cwd, capture_output=True, text=True, check=True)
            base = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{'copy':48} {'intact':>6} {'ours':>5} {'damage':>6}" + (f" {'base':>5}" if base else ""))
    for i, r in enumerate(ours["rows"]):
        extra = f" {base['rows'][i]['recovered']:>5}" if base else ""
        print(f"{r['copy']:48} {r['intact']:>6} {r['recovered']:>5} {r['damage_rejections']:>6}{extra}")
    last = f"intact={ours['intact']} recovered={ours['recovered']} damage_rejections={ours['damage_rejections']}"
    if base:
        last += f" baseline_recovered={base['recovered']}"
    print(last)
    return 0


if __name__ == "__main__":
    sys.exit(main())
