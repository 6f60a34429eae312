"""The bench table: rows from bench/run.py and from bench/scenarios/*.py (their JSON contract,
bench/scenarios/README.md), printed as text and as Markdown for RESULTS.md."""

import json
from dataclasses import dataclass
from pathlib import Path

SCENARIO_KEYS = {
    "operation": str,
    "req_s": (int, float, type(None)),
    "p50_ms": (int, float, type(None)),
    "p95_ms": (int, float, type(None)),
    "p99_ms": (int, float, type(None)),
    "ceiling": (str, type(None)),
    "ceiling_req_s": (int, float, type(None)),
    "ratio": (int, float, type(None)),
    "bar": str,
    "pass": bool,
    "notes": str,
}
HEADER = ["operation", "req/s", "p50 ms", "p95 ms", "p99 ms", "ceiling", "ceiling req/s",
          "ratio", "bar", "pass/miss", "notes"]  # fmt: skip


@dataclass
class Row:
    operation: str
    req_s: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    ceiling: str | None
    ceiling_req_s: float | None
    ratio: float | None
    bar: str
    passed: bool | None  # None: nothing to pass (a ceiling, a reference)
    notes: str = ""

    def cells(self) -> list[str]:
        def number(value, digits=1):
            return "-" if value is None else f"{value:,.{digits}f}"

        return [
            self.operation,
            number(self.req_s, 0),
            number(self.p50_ms),
            number(self.p95_ms),
            number(self.p99_ms),
            self.ceiling or "-",
            number(self.ceiling_req_s, 0),
            "-" if self.ratio is None else f"{self.ratio:.0%}",
            self.bar,
            "-" if self.passed is None else "pass" if self.passed else "MISS",
            self.notes,
        ]


def load_scenario_rows(name: str, path: Path, *, failure: str | None = None) -> list[Row]:
    """The rows a scenario wrote, checked against the contract; a scenario that failed, wrote
    nothing or broke the contract becomes one MISS row saying so (the table never hides it)."""
    problem = failure
    data = None
    if problem is None:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            problem = f"no readable JSON: {exc}"
    if problem is None and (not isinstance(data, list) or not data):
        problem = "JSON is not a non-empty list of rows"
    if problem is None:
        for row in data:
            wrong = [
                key
                for key, kind in SCENARIO_KEYS.items()
                if not isinstance(row, dict) or key not in row or not isinstance(row[key], kind)
                or (kind is not bool and isinstance(row.get(key), bool))
            ]  # fmt: skip
            if wrong:
                problem = f"row {row!r:.80} breaks the contract at {', '.join(wrong)}"
                break
    if problem is not None:
        return [Row(f"scenario {name}", None, None, None, None, None, None, None, "-", False,
                    " ".join(str(problem).split())[:300])]  # fmt: skip
    return [
        Row(r["operation"], r["req_s"], r["p50_ms"], r["p95_ms"], r["p99_ms"], r["ceiling"],
            r["ceiling_req_s"], r["ratio"], r["bar"], r["pass"], r["notes"])
        for r in data
    ]  # fmt: skip


def format_text(rows: list[Row]) -> str:
    table = [HEADER] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    out = []
    for index, line in enumerate(table):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def format_markdown(rows: list[Row]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    out = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    out += ["| " + " | ".join(cell(c) for c in row.cells()) + " |" for row in rows]
    return "\n".join(out)
