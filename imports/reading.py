"""Reading an import's CSV as a stream: UTF-8 with or without BOM, `,` or `;` detected from the
header, header names in any case and order (API.md "Imports (CSV)"). Never the whole file in
memory: rows are yielded one by one from a text stream over the stored file."""

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

COLUMNS = (
    "sku", "name", "description", "price", "currency", "category", "product", "active", "stock",
    "attributes",
)  # fmt: skip
REQUIRED = "sku"
# csv's default field limit (128 KB) is plenty for one cell; a larger one is a broken file.
csv.field_size_limit(1024 * 1024)


class HeaderInvalid(ValueError):
    pass


@dataclass(frozen=True)
class Header:
    delimiter: str
    # For each known column present in the file, its position.
    positions: dict[str, int]
    width: int


def header_parse(line: str) -> Header:
    """The header row: which delimiter, which known columns where. Raises HeaderInvalid when
    there is no `sku` column."""
    line = line.lstrip("\ufeff").rstrip("\r\n")
    delimiter = ";" if _count_outside_quotes(line, ";") > _count_outside_quotes(line, ",") else ","
    names = next(csv.reader([line], delimiter=delimiter), [])
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        key = name.strip().lower()
        if key in COLUMNS:
            positions[key] = index
    if REQUIRED not in positions:
        raise HeaderInvalid(
            f"The header row has no `{REQUIRED}` column (found: {', '.join(names)[:200]})."
        )
    return Header(delimiter=delimiter, positions=positions, width=len(names))


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


def header_read(binary) -> Header:
    """Reads just the header of a binary file object (the upload, before it is stored)."""
    first = binary.readline(64 * 1024)
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HeaderInvalid("The file is not UTF-8.") from exc
    return header_parse(text)


def text_stream(binary) -> io.TextIOWrapper:
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


def rows_read(text: io.TextIOBase) -> Iterator[tuple]:
    """Yields one tuple per data row: (row number, the COLUMNS values or None for each,
    a message when the row itself is broken or None). The row number counts the header as
    row 1, as spreadsheets do; blank lines are skipped."""
    header = header_parse(text.readline())
    reader = csv.reader(text, delimiter=header.delimiter)
    positions = [header.positions.get(name) for name in COLUMNS]
    attributes_at = COLUMNS.index("attributes")
    width = header.width
    for number, fields in enumerate(reader, start=2):
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        values = [
            (fields[p].strip() or None) if p is not None and p < len(fields) else None
            for p in positions
        ]
        problem = None
        if len(fields) > width:
            problem = ("", f"The row has {len(fields)} fields; the header has {width}.")
        elif any("\x00" in v for v in values if v):
            values = [v.replace("\x00", "") if v else v for v in values]
            problem = ("", "The row contains a NUL character.")
        elif values[attributes_at] is not None:
            try:
                parsed = json.loads(values[attributes_at])
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                problem = ("attributes", "Must be a JSON object.")
            else:
                values[attributes_at] = json.dumps(parsed, ensure_ascii=False, sort_keys=True)
        yield number, values, problem
