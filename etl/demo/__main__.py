"""``python -m etl.demo OUT_DIR [--scale small|state|national] [--days N] [--end YYYY-MM-DD] [--seed N]
[--spokes N]``"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from etl.demo import generate, truth_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write demo export files into a folder.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--scale", default="small")
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--end", type=date.fromisoformat, default=None)
    parser.add_argument("--seed", type=int, default=20250801)
    parser.add_argument("--spokes", type=int, default=None, help="national scale only: total spokes (175,000)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        sys.stderr.write(f"\r{stage:<14} {done:>4}/{total:<4}")
        if done == total:
            sys.stderr.write("\n")

    files = generate(args.out_dir, scale=args.scale, days=args.days, end_date=args.end, seed=args.seed,
                     progress=progress, spokes=args.spokes)
    seconds = time.perf_counter() - t0
    print(f"{len(files)} files in {args.out_dir} in {seconds:.1f} s; truth: {truth_path(args.out_dir)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
