"""The child process of an upload's load (`dashboard.upload.load_in_child`).

Reads (config, ticket files, absence files, memory limit in MB) pickled from stdin, limits
its own address space, runs `etl.load.load_files` and writes JSON lines to stdout:
`["progress", [label, share]]`, then `["done", [result fields...]]` or `["failed", message]`.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import resource
import sys

from dashboard.core.keys import KeyFileError
from dashboard.core.storage import StorageError
from etl.load import load_files


def _send(kind: str, payload) -> None:
    sys.stdout.write(json.dumps([kind, payload], default=str) + "\n")
    sys.stdout.flush()


def main() -> int:
    """Load what the parent asked for, within the memory limit; report through stdout."""
    config, tickets, absences, memory_mb = pickle.loads(sys.stdin.buffer.read())
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        results = load_files(
            config,
            tickets,
            absences,
            progress=lambda label, share: _send("progress", [label, share]),
        )
    except (StorageError, KeyFileError) as exc:
        _send("failed", str(exc))
        return 1
    except MemoryError:
        _send(
            "failed",
            f"Der Ladevorgang brauchte mehr als {memory_mb} MB Arbeitsspeicher und wurde "
            "abgebrochen; die Daten sind unverändert.",
        )
        return 1
    _send("done", [dataclasses.asdict(r) for r in results])
    return 0


if __name__ == "__main__":
    sys.exit(main())
