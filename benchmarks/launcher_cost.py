"""For the benchmark: what the sandbox adds to each CLI invocation, measured inside it.

Run inside a sandbox (``bench.sandbox_costs`` starts it): for one world, the
median milliseconds ``/bin/true`` takes through the world's launcher, less
the same without it, for each way a launcher can give the CLI its world's
resolver (``fakes/sandbox/resolv_mounts.py``). Prints one JSON object.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fakes.sandbox.addresses import SandboxedBackend


def median_ms(argv: list[str], repeat: int, cwd: Path) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, cwd=cwd)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main(repeat: int) -> dict[str, float | bool]:
    costs: dict[str, float | bool] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        bare = median_ms(["/bin/true"], repeat, cwd)
        for keep, name in ((True, "kept"), (False, "unkept")):
            with SandboxedBackend(keep_namespaces=keep) as backend, \
                    backend.new_world("standard") as world:
                prefix = world.launcher(cwd)
                costs[name] = round(median_ms([*prefix, "/bin/true"], repeat, cwd) - bare, 2)
                if keep:
                    costs["kept_in_use"] = prefix[0].endswith("nsenter")
    return costs


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)))
