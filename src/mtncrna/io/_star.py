"""STAR ``--quantMode GeneCounts`` output: ``ReadsPerGene.out.tab``, one file per sample.

Layout (STAR 2.7, checked on real runs, see tests/data/formats/README.md): no header; four
lines ``N_unmapped``, ``N_multimapping``, ``N_noFeature``, ``N_ambiguous``; then one line per
gene of the GTF, in GTF order: ``gene_id``, then three counts, for an unstranded library
(column 2), reads on the gene's strand (column 3: htseq-count ``-s yes``) and reads on the
opposite strand (column 4: htseq-count ``-s reverse``, dUTP/TruSeq stranded libraries).

Which column is right depends on the library, so it is an option (``strandedness``). By default
it is detected as nf-core/rnaseq and RSeQC's infer_experiment do: over all files, the share of
gene-assigned reads in column 3 versus column 4; forward when column 3 holds at least 80%,
reverse when column 4 does, unstranded when the two differ by at most 10 percentage points
(an unstranded library splits its reads evenly), otherwise undecided (an error that asks for the
option). The choice, and the share it was based on, goes to the log and to
``uns["mtncrna"]["strandedness"]``; the per-sample share is kept in ``obs`` as
``star_forward_share``. The ``N_*`` lines of the chosen column are QC columns in ``obs``
(``star_N_unmapped``, ...), not genes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import FormatError, InputError
from .._text import Lines, parse_delimited, read_lines, to_counts
from ._formats import CountTable, _check_unique
from ._names import sample_name_from_path

logger = logging.getLogger("mtncrna")

STRANDEDNESS = ("auto", "unstranded", "forward", "reverse")
STAR_QC_ROWS = ("N_unmapped", "N_multimapping", "N_noFeature", "N_ambiguous")
_COLUMN = {"unstranded": 1, "forward": 2, "reverse": 3}
#: nf-core/rnaseq's defaults (--stranded_threshold, --unstranded_threshold).
STRANDED_THRESHOLD = 0.8
UNSTRANDED_THRESHOLD = 0.1


def is_star(lines: Lines) -> bool:
    """The first four lines are STAR's N_* counters."""
    firsts = [line.split("\t", 1)[0].strip() for line in lines.lines[:4]]
    return tuple(firsts) == STAR_QC_ROWS


def _read_one(path: Path) -> tuple[Lines, pd.DataFrame]:
    lines = read_lines(path)
    if not is_star(lines):
        raise FormatError(
            path,
            "is not STAR ReadsPerGene.out.tab: expected the first lines to be "
            f"{', '.join(STAR_QC_ROWS)}, found {lines.lines[0][:40]!r}",
            line=lines.numbers[0],
        )
    body = parse_delimited(lines, "\t", skip=0)
    if body.shape[1] not in (2, 4):
        raise FormatError(
            path,
            f"expected 4 fields per line (gene id and 3 counts) or 2 (one count column), found "
            f"{body.shape[1]}",
            line=lines.numbers[0],
        )
    return lines, body


def infer_strandedness(sense: float, antisense: float) -> tuple[str | None, float]:
    """nf-core/rnaseq's rule on the reads of column 3 (``sense``) and 4 (``antisense``).

    Returns the strandedness (None when undecided) and the forward share.
    """
    total = sense + antisense
    if total <= 0:
        return None, float("nan")
    fwd = sense / total
    if fwd >= STRANDED_THRESHOLD:
        return "forward", fwd
    if 1 - fwd >= STRANDED_THRESHOLD:
        return "reverse", fwd
    if abs(fwd - (1 - fwd)) <= UNSTRANDED_THRESHOLD:
        return "unstranded", fwd
    return None, fwd


def read_star(
    paths: Sequence[Path],
    *,
    strandedness: str = "auto",
    non_integer: str = "error",
) -> CountTable:
    """Read STAR ReadsPerGene.out.tab files (one per sample) into one table."""
    if strandedness not in STRANDEDNESS:
        raise InputError(
            None,
            f"unknown strandedness '{strandedness}'; expected one of {', '.join(STRANDEDNESS)}",
        )
    parsed = [_read_one(p) for p in paths]
    widths = {body.shape[1] for _, body in parsed}
    if len(widths) > 1:
        raise FormatError(
            paths[0],
            "some ReadsPerGene.out.tab files have 3 count columns and some 1; give files of one "
            "kind",
        )
    three = widths == {4}
    shares: list[float] = []
    if three:
        sums = []
        for _lines, body in parsed:
            genes = body.iloc[4:, 2:4].apply(pd.to_numeric, errors="coerce").fillna(0)
            sums.append(genes.sum(axis=0).to_numpy(dtype=float))
        pooled = np.sum(sums, axis=0)
        detected, share = infer_strandedness(pooled[0], pooled[1])
        shares = [infer_strandedness(s[0], s[1])[1] for s in sums]
        if strandedness == "auto":
            per_sample = [infer_strandedness(sm[0], sm[1])[0] for sm in sums]
            if len({c for c in per_sample if c is not None}) > 1:
                listing = ", ".join(
                    f"{sample_name_from_path(p)} {c or 'undecided'} ({sh:.0%})"
                    for p, c, sh in zip(paths, per_sample, shares, strict=True)
                )
                raise InputError(
                    paths[0],
                    "the samples differ in strandedness (share of gene-assigned reads on the "
                    f"gene's strand): {listing}; check the libraries, or give --strandedness to "
                    "use one column for all",
                )
            if detected is None:
                raise InputError(
                    paths[0],
                    f"cannot tell the library's strandedness: {share:.0%} of gene-assigned reads "
                    "are on the gene's strand (forward >= 80%, reverse <= 20%, unstranded "
                    "45-55%); give --strandedness unstranded, forward or reverse",
                )
            chosen = detected
            how = f"detected: {share:.1%} of gene-assigned reads on the gene's strand"
        else:
            chosen = strandedness
            how = f"as given; {share:.1%} of gene-assigned reads on the gene's strand"
            if detected is not None and detected != chosen:
                logger.warning(
                    "STAR ReadsPerGene: --strandedness %s was given but the counts look %s "
                    "(%.1f%% of gene-assigned reads on the gene's strand)",
                    chosen,
                    detected,
                    100 * share,
                )
        col = _COLUMN[chosen]
        logger.info(
            "STAR ReadsPerGene: strandedness %s (%s); counts from column %d",
            chosen,
            how,
            col + 1,
        )
    else:
        if strandedness != "auto":
            raise InputError(
                paths[0],
                "has one count column (cut from ReadsPerGene.out.tab), so --strandedness cannot "
                "choose one; leave it at auto, or give the uncut files",
            )
        chosen, col, how = "as cut", 1, "one count column"
        logger.info("STAR ReadsPerGene: one count column per file, used as it is")

    features: list[str] = []
    columns = []
    qc_rows = []
    for (lines, body), p in zip(parsed, paths, strict=True):
        names = body[0].str.strip().tolist()
        feats = names[4:]
        line_numbers = np.asarray(lines.numbers)
        if not feats:
            raise InputError(p, "has the N_* lines but no gene lines")
        if not features:
            _check_unique(p, feats, "feature id", positions=line_numbers[4:].tolist())
            features = feats
        elif feats != features:
            raise InputError(
                p,
                f"genes differ from {paths[0].name}; ReadsPerGene.out.tab files of one study "
                "must come from the same STAR index (same GTF)",
            )
        sample = sample_name_from_path(p)
        vals = to_counts(
            body.iloc[:, [col]],
            path=p,
            line_numbers=line_numbers,
            columns=[f"{sample} (column {col + 1})"],
            non_integer=non_integer,
        )[:, 0]
        columns.append(vals[4:])
        qc_rows.append(vals[:4])
    samples = [sample_name_from_path(p) for p in paths]
    qc = pd.DataFrame(
        np.vstack(qc_rows), index=pd.Index(samples), columns=[f"star_{r}" for r in STAR_QC_ROWS]
    )
    if three:
        qc["star_forward_share"] = np.round(shares, 4)
    return CountTable(
        "star",
        list(paths),
        features,
        samples,
        np.column_stack(columns),
        qc=qc,
        source_columns={s: str(p) for s, p in zip(samples, paths, strict=True)},
        meta={"strandedness": chosen, "strandedness_evidence": how},
    )
