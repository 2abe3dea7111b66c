"""Compare the pages of one person at two sizes, from two reports of ``benchmarks.run --output``.

    python -m benchmarks.compare SMALL.md LARGE.md [--limit 1.5]

Issue 19's target: a page of one person (trainer, participant, employer) takes at most ``--limit``
times as long at the large size (scale 5) as at the small one (scale 0.1), judged on the p95 of each
run. The table has the page, both p95s, their ratio and "met" or "missed". Pages of the programme
(coordinator) and the API are left out: their size follows the programme by design.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.run import page_plan

PERSON_ROLES = {"trainer", "participant", "employer"}
RATIO_LIMIT = 1.5


def person_pages() -> list[str]:
    """The page names of the runner's plan that one person's own data fills."""
    ids = {
        "cohort": 1,
        "enrolment": 1,
        "submission": 1,
        "assignment": "A01",
        "code": "",
        "certificate": None,
        "signoffs_100th": "",
    }
    return [name for role, name, _path in page_plan(ids) if role in PERSON_ROLES]


def page_p95(report: str) -> dict[str, float]:
    """p95 ms per page from the pages table of a report (the first table whose header starts with
    ``| page | p50 ms | p95 ms``)."""
    result: dict[str, float] = {}
    in_table = False
    for line in report.splitlines():
        if line.startswith("| page | p50 ms | p95 ms"):
            in_table = True
            continue
        if in_table:
            if not line.startswith("|"):
                if result:
                    break
                continue
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if cells[0].startswith("---"):
                continue
            result[cells[0]] = float(cells[2])
    return result


def compare(small: str, large: str, limit: float = RATIO_LIMIT) -> list[str]:
    """Markdown rows: page, p95 small, p95 large, ratio, target."""
    small_p95, large_p95 = page_p95(small), page_p95(large)
    rows = [
        f"| page | p95 ms, small | p95 ms, large | ratio | target ({limit:g}×) |",
        "|---|---:|---:|---:|---|",
    ]
    for name in person_pages():
        if name not in small_p95 or name not in large_p95:
            rows.append(f"| {name} | | | | not measured in both |")
            continue
        ratio = large_p95[name] / small_p95[name]
        target = "met" if ratio <= limit else f"missed: > {limit:g}×"
        rows.append(
            f"| {name} | {small_p95[name]:.1f} | {large_p95[name]:.1f} | {ratio:.2f} | {target} |"
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("small", type=Path, help="report at the small size (scale 0.1)")
    parser.add_argument("large", type=Path, help="report at the large size (scale 5)")
    parser.add_argument("--limit", type=float, default=RATIO_LIMIT)
    args = parser.parse_args(argv)
    rows = compare(
        args.small.read_text(encoding="utf-8"), args.large.read_text(encoding="utf-8"), args.limit
    )
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
