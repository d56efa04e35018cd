"""One convention for every command: a mistake in the arguments (or in the files they
name) raises `UsageError` before any work starts, and the command prints it as one
line, `gristmill COMMAND: message`, with exit status 2 (argparse's own), never a
traceback."""
from __future__ import annotations

import sys


class UsageError(ValueError):
    """A mistake in the command line (or in what it points at); exit 2, no traceback."""


def report(prog: str, err: BaseException) -> int:
    """Print `prog: message` as one line on stderr; return the exit status 2."""
    msg = " ".join(str(err).split())  # one line, whatever the message holds
    print(f"{prog}: {msg}", file=sys.stderr, flush=True)
    return 2


def load_json_file(path, flag: str):
    """The JSON in the file a command-line flag names, or a UsageError saying why not."""
    import json

    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise UsageError(f"{flag} {path}: {e.strerror}") from None
    except ValueError as e:
        raise UsageError(f"{flag} {path}: not JSON ({e})") from None
