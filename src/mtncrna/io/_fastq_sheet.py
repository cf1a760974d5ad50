"""The workflow's sample sheet, nf-core style: ``sample,fastq_1[,fastq_2][,bam]`` + the design.

One row per sequencing run (lane) of a library; rows with the same ``sample`` are lanes of one
library and are merged. Sample names come from the sheet, never from file names. The design
columns are validated by :func:`read_sample_sheet` itself, with the user's line numbers.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .._errors import SampleSheetError
from .._text import parse_delimited, read_lines, sniff_delimiter, split_header
from ._samplesheet import SAMPLE_COLUMNS, read_sample_sheet

FILE_COLUMNS = ("fastq_1", "fastq_2", "bam")
FASTQ_SUFFIXES = (".fastq.gz", ".fq.gz", ".fastq", ".fq", ".fastq.bz2", ".fq.bz2")


@dataclass
class FastqSheet:
    """A validated workflow sample sheet.

    ``design``: one row per sample (as :func:`read_sample_sheet` returns it, without the file
    columns); ``fastq_1``/``fastq_2``: sample -> its lanes, in sheet order (absolute paths);
    ``bam``: sample -> its long-RNA BAM, when the sheet has a ``bam`` column.
    """

    design: pd.DataFrame
    fastq_1: dict[str, list[Path]] = field(default_factory=dict)
    fastq_2: dict[str, list[Path]] = field(default_factory=dict)
    bam: dict[str, Path] = field(default_factory=dict)


def read_fastq_sheet(path: str | Path) -> FastqSheet:
    """Read and validate a workflow sample sheet (relative paths: from the sheet's folder).

    Raises :class:`~mtncrna.SampleSheetError` naming the line and column of the first problem:
    a missing or non-FASTQ ``fastq_1``, lanes of one sample whose design values differ or that
    mix compressed and plain files, a ``bam`` given for some samples only, a missing file.
    """
    p = Path(path)
    lines = read_lines(p, comment="#")
    sep = sniff_delimiter(p, lines.lines[0])
    header = split_header(p, lines.lines[0], sep, lines.numbers[0])
    columns = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in header]
    if "fastq_1" not in columns:
        raise SampleSheetError(
            p,
            "no 'fastq_1' column: a workflow sample sheet has columns sample,fastq_1[,fastq_2] "
            f"plus the design; found {', '.join(header)}",
            line=lines.numbers[0],
        )
    sample_col = next((c for c in SAMPLE_COLUMNS if c in columns), None)
    if sample_col is None or len(lines) < 2:
        return FastqSheet(read_sample_sheet(p))  # the reader's own message
    body = parse_delimited(lines, sep)
    if body.shape[1] != len(columns):
        return FastqSheet(read_sample_sheet(p))
    body.columns = columns
    body = body.apply(lambda c: c.str.strip())
    numbers = lines.numbers[1:]
    design_cols = [c for c in columns if c not in FILE_COLUMNS]
    first: dict[str, int] = {}
    out = FastqSheet(pd.DataFrame())
    base = p.parent
    for i, (_, row) in enumerate(body.iterrows()):
        ln, sample = numbers[i], row[sample_col]
        if sample == "":
            break  # read_sample_sheet names it below
        if sample in first:
            j = first[sample]
            for c in design_cols:
                if row[c] != body.iloc[j][c]:
                    raise SampleSheetError(
                        p,
                        f"lane of sample '{sample}' has {c} '{row[c]}' but line {numbers[j]} has "
                        f"'{body.iloc[j][c]}'; lanes of one sample must share its design",
                        line=ln,
                        column=c,
                    )
        else:
            first[sample] = i
        for c in ("fastq_1", "fastq_2"):
            v = row.get(c, "")
            if v == "":
                if c == "fastq_1":
                    raise SampleSheetError(p, "empty fastq_1", line=ln, column=c)
                continue
            if not v.lower().endswith(FASTQ_SUFFIXES):
                raise SampleSheetError(
                    p,
                    f"{c} '{v}' is not a FASTQ file (expected {', '.join(FASTQ_SUFFIXES)})",
                    line=ln,
                    column=c,
                )
            f = Path(v) if Path(v).is_absolute() else base / v
            if not f.is_file():
                raise SampleSheetError(p, f"{c} file not found: {f}", line=ln, column=c)
            lanes = getattr(out, c).setdefault(sample, [])
            if lanes and lanes[0].suffix.lower() != f.suffix.lower():
                raise SampleSheetError(
                    p,
                    f"lanes of sample '{sample}' mix {lanes[0].name} and {f.name}: give them "
                    "all compressed the same way",
                    line=ln,
                    column=c,
                )
            lanes.append(f.resolve())
        if "bam" in columns and row["bam"] != "":
            f = Path(row["bam"]) if Path(row["bam"]).is_absolute() else base / row["bam"]
            if not f.is_file():
                raise SampleSheetError(p, f"bam file not found: {f}", line=ln, column="bam")
            if sample in out.bam and out.bam[sample] != f.resolve():
                raise SampleSheetError(
                    p, f"sample '{sample}' has two BAM files", line=ln, column="bam"
                )
            out.bam[sample] = f.resolve()
    if "bam" in columns and out.bam and len(out.bam) != len(first):
        missing = [s for s in first if s not in out.bam]
        raise SampleSheetError(
            p,
            f"{len(missing)} sample(s) have no bam ({', '.join(missing[:5])}): give a BAM for "
            "every sample or for none",
            column="bam",
        )
    # the design, validated by the sample-sheet reader on the first row of each sample (other
    # lanes blanked as comments, so that its messages carry this file's line numbers)
    keep = {numbers[i] for i in first.values()} | {lines.numbers[0]}
    if "" in set(body[sample_col]):
        keep |= set(numbers)
    text = [""] * max(lines.numbers)
    for n, line in zip(lines.numbers, lines.lines, strict=True):
        text[n - 1] = line if n in keep else "#"
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp) / p.name.removesuffix(".gz")
        t.write_text("\n".join(text) + "\n", encoding="utf-8")
        try:
            design = read_sample_sheet(t)
        except SampleSheetError as exc:
            raise SampleSheetError(p, exc.detail, line=exc.line, column=exc.column) from None
    out.design = design.drop(columns=[c for c in FILE_COLUMNS if c in design.columns])
    out.design.attrs["path"] = str(p)
    return out
