"""`make fuzz`: each response parser's target for a fixed number of inputs (atheris).

    python -m fuzz                       # every target, RUNS inputs each
    python -m fuzz kore_page --runs 5000 # one target

Each target runs in its own process, from its seeds (fuzz/seeds.py). A crash stops with
the input that made it (libFuzzer writes it as crash-<hash> beside the corpus): add it to
tests/test_fuzz_regressions.py, fix the parser, run again.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

RUNS = 20_000


def fuzz_one(target: str, runs: int, corpus: Path) -> int:
    """This process fuzzes `target` (atheris takes over and exits)."""
    import atheris

    with atheris.instrument_imports(include=["tap_convai"]):
        from fuzz.targets import run_one

    def test_one_input(data: bytes) -> None:
        run_one(target, data)

    atheris.Setup([sys.argv[0], f"-runs={runs}", "-max_len=65536",
                   f"-artifact_prefix={corpus}/", str(corpus)], test_one_input)
    atheris.Fuzz()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    parser.add_argument("targets", nargs="*")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process's target
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        return fuzz_one(args.one, args.runs, Path(args.corpus))

    from fuzz.seeds import seeds
    from fuzz.targets import TARGETS

    failed = []
    for target in args.targets or list(TARGETS):
        corpus = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
        for number, seed in enumerate(seeds()[target]):
            (corpus / f"seed-{number}").write_bytes(seed)
        print(f"fuzz {target}: {args.runs} inputs", flush=True)
        code = subprocess.call(
            [sys.executable, "-m", "fuzz", "--one", target, "--runs", str(args.runs),
             "--corpus", str(corpus)],
            cwd=Path(__file__).resolve().parents[1],
        )
        if code:
            failed.append(target)
    if failed:
        print(f"crashes in: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("no crash", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
