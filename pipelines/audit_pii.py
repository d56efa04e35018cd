"""`gristmill audit-pii RUN_DIR`: scan the text that went into a run's shards for PII.

Every document of every shard in the manifest is decoded with the run's tokenizer
(`[BOS]`/`[EOS]` dropped) and scanned by the scrubber with the types the run scrubbed
(the manifest's `pii_entities`), with the run's placeholders (`<EMAIL_ADDRESS>`) ignored
as they are no PII. Prints, per type, what the run replaced (stats.json `pii_found`)
and what the audit still finds, and writes the audit to RUN_DIR/pii_audit.json. Last line:
`findings=N documents=N` and one `TYPE=N` per type; exit status 1 when anything is found.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys

from gristmill.usage import UsageError, report


def audit(run: str, show: int = 5, entities=()) -> dict:
    from gristmill import tokfile
    from gristmill.transforms.pii import DEFAULT_ENTITIES, PiiScrubber
    from gristmill.transforms.tokenizer import load_processor

    try:
        manifest = json.load(open(os.path.join(run, "manifest.json")))
        stats = json.load(open(os.path.join(run, "stats.json")))
        model = open(os.path.join(run, "tokenizer.model"), "rb").read()
    except OSError as e:
        raise UsageError(f"{run}: not a finished run directory ({e.strerror}: {e.filename})") from None
    entities = tuple(entities) or tuple(filter(None, manifest.get("config", {}).get("pii_entities", "").split(","))) \
        or DEFAULT_ENTITIES
    sp = load_processor(model)
    scrubber = PiiScrubber(entities)
    found, examples, docs = collections.Counter(), [], 0
    for split, shards in manifest["splits"].items():
        for shard in shards:
            tok = tokfile.TokFile(os.path.join(run, shard["path"]), verify=True)
            for i in range(len(tok)):
                ids = tok.doc(i)[1:-1].tolist()
                text = sp.decode(ids)
                docs += 1
                for f in scrubber.find(text):
                    found[f.entity_type] += 1
                    if len(examples) < show:
                        examples.append({"shard": shard["path"], "doc": i, "type": f.entity_type,
                                         "start": f.start, "end": f.end})
    return {"run": run, "entities": list(entities), "documents": docs, "findings": sum(found.values()),
            "found": {e: found.get(e, 0) for e in entities},
            "replaced_in_run": {e: stats.get("pii_found", {}).get(e, 0) for e in entities}, "examples": examples}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="gristmill audit-pii", description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a finished run directory")
    ap.add_argument("--entities", default="", help="comma-separated types to look for (default: those the run scrubbed)")
    args = ap.parse_args(argv)
    try:
        try:
            result = audit(args.run, entities=[e.strip() for e in args.entities.split(",") if e.strip()])
        except ValueError as e:
            raise UsageError(f"--entities: {e}") from None
    except UsageError as e:
        return report("gristmill audit-pii", e)
    with open(os.path.join(args.run, "pii_audit.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    print(f"{result['documents']} documents decoded from the shards of {args.run}")
    print(f"{'type':<15}{'replaced':>10}{'found':>8}")
    for e in result["entities"]:
        print(f"{e:<15}{result['replaced_in_run'][e]:>10}{result['found'][e]:>8}")
    for x in result["examples"]:
        print(f"  found {x['type']} in {x['shard']} document {x['doc']} at {x['start']}-{x['end']}")
    print(f"findings={result['findings']} documents={result['documents']} "
          + " ".join(f"{e}={n}" for e, n in result["found"].items()))
    return 1 if result["findings"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
