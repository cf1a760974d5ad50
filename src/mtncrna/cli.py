"""The ``mtncrna`` command line: parse options, call the public API, set the exit code.

Known input problems (:class:`~mtncrna.MtncrnaError`) become one line on stderr and exit code 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import functools
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from . import steps
from ._constants import FORMATS
from ._errors import MtncrnaError
from ._version import __version__

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INPUT_ERROR = 2
#: A probability or FDR level: strictly between 0 and 1.
_PROB = click.FloatRange(0, 1, min_open=True, max_open=True)


class _CliHandler(logging.StreamHandler):
    """Log records as single lines on the current stderr: ``mtncrna: warning: ...``."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def format(self, record: logging.LogRecord) -> str:
        return f"mtncrna: {record.levelname.lower()}: {record.getMessage()}"


def _setup_logging(verbose: int, quiet: bool) -> None:
    from ._settings import settings

    settings.verbosity = 0 if quiet else 1 + verbose
    logger = logging.getLogger("mtncrna")
    for h in list(logger.handlers):
        if isinstance(h, _CliHandler):
            logger.removeHandler(h)
    logger.addHandler(_CliHandler())


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _os_error_message(exc: OSError) -> str:
    where = exc.filename or ""
    what = exc.strerror or str(exc)
    return f"{where}: {what}" if where else what


#: OS errors that come from the user's environment (disk, permissions, names), not from a bug.
_USER_OS_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENAMETOOLONG,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EEXIST,
    errno.ENOENT,
    errno.EMFILE,
    errno.EFBIG,
    errno.EXDEV,
}


class _Cli(click.Group):
    """The error boundary, written once for every subcommand (as cutadapt's and MultiQC's main).

    A user's mistake (a project error, a usage error, an unreadable file, a full disk) becomes
    one line ``mtncrna: error: ...`` on stderr and exit code 2; a bug keeps its traceback.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
            sys.exit(EXIT_INPUT_ERROR)
        except click.ClickException as exc:
            cmd = exc.ctx.command_path if getattr(exc, "ctx", None) else "mtncrna"
            hint = f" (see '{cmd} --help')" if isinstance(exc, click.UsageError) else ""
            _fail(f"{cmd}: {_one_line(exc.format_message())}{hint}")
        except MtncrnaError as exc:
            _fail(_one_line(str(exc)))
        except OSError as exc:
            if exc.errno not in _USER_OS_ERRNOS:
                raise
            _fail(_one_line(_os_error_message(exc)))
        except click.exceptions.Abort:
            click.echo("mtncrna: interrupted", err=True)
            sys.exit(130)
        except KeyboardInterrupt:
            click.echo("mtncrna: interrupted", err=True)
            sys.exit(130)
        if isinstance(rv, int) and rv:
            sys.exit(rv)
        sys.exit(0)


def _fail(message: str) -> None:
    click.echo(f"mtncrna: error: {message}", err=True)
    sys.exit(EXIT_INPUT_ERROR)


def handle_errors(func: F) -> F:
    """Kept for commands defined elsewhere; the group's error boundary does the work."""
    return func


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="mtncrna")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def cli(verbose: int, quiet: bool) -> None:
    """Profile mitochondria-associated ncRNAs (mitomiRs, mito-lncRNAs, mtDNA-encoded ncRNAs)
    in drug-resistant cancer cells."""
    _setup_logging(verbose, quiet)


# ------------------------------------------------------------------------------------ import

_FORMAT_CHOICE = click.Choice(list(FORMATS))


_FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=_FORMAT_CHOICE,
    default="auto",
    show_default=True,
    help="Input format; detected from the content by default.",
)
_ROUND_OPTION = click.option(
    "--round",
    "round_",
    is_flag=True,
    help="Round non-integer (estimated: salmon, RSEM) counts instead of failing.",
)
_DROP_OPTION = click.option(
    "--drop-unmatched",
    is_flag=True,
    help="Keep the samples in both the table and the sheet instead of failing.",
)


def _read_options(func: F) -> F:
    """``--format``, ``--round`` and ``--drop-unmatched`` for a command that reads count tables,
    given to it as ``read=steps.ReadOptions(...)``."""

    @functools.wraps(func)
    def wrapper(*args: Any, fmt: str, round_: bool, drop_unmatched: bool, **kwargs: Any) -> Any:
        read = steps.ReadOptions(format=fmt, round=round_, drop_unmatched=drop_unmatched)
        return func(*args, read=read, **kwargs)

    return _FORMAT_OPTION(_ROUND_OPTION(_DROP_OPTION(wrapper)))  # type: ignore[return-value]


@cli.command("import")
@click.argument("counts", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-s", "--samples", type=click.Path(path_type=Path), help="Sample sheet (CSV/TSV).")
@click.option(
    "--library",
    type=click.Choice(["small", "long"]),
    default=None,
    help="Library type; guessed from the feature names if omitted.",
)
@_FORMAT_OPTION
@_ROUND_OPTION
@_DROP_OPTION
@click.option(
    "--reference",
    "reference",
    type=click.Path(path_type=Path),
    default=None,
    help="Your own evidence table, merged into the bundled reference.",
)
@click.option("--no-annotate", is_flag=True, help="Do not annotate features with the reference.")
@click.option(
    "--strandedness",
    type=click.Choice(["auto", "unstranded", "forward", "reverse"]),
    default="auto",
    show_default=True,
    help="STAR ReadsPerGene.out.tab: the count column to use; auto detects it from the counts.",
)
@click.option(
    "--sample-names",
    default=None,
    help="Comma-separated sample names for the count columns, in order (for tables without "
    "a header, e.g. htseq-count run on several BAMs).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="Output .h5ad (written atomically).",
)
@handle_errors
def import_cmd(
    counts: Sequence[Path],
    samples: Path | None,
    library: str | None,
    fmt: str,
    round_: bool,
    drop_unmatched: bool,
    reference: Path | None,
    no_annotate: bool,
    strandedness: str,
    sample_names: str | None,
    output: Path,
) -> None:
    """Read count table(s) and a sample sheet into an annotated .h5ad.

    COUNTS is a count table (plain TSV/CSV/xlsx, featureCounts, miRge miR.Counts.csv,
    nf-core/smrnaseq or nf-core/rnaseq merged counts, miRDeep2, mirtop, .h5ad), or several
    per-sample files (htseq-count, STAR ReadsPerGene.out.tab), or a folder of them. See the
    README's list of accepted formats.
    """
    res = steps.import_counts(
        counts,
        samples,
        output=output,
        library=library,
        format=fmt,
        round=round_,
        drop_unmatched=drop_unmatched,
        reference=reference,
        annotate=not no_annotate,
        strandedness=strandedness,
        sample_names=sample_names.split(",") if sample_names is not None else None,
    )
    click.echo(res.summary)


# --------------------------------------------------------------------------------- reference


@cli.group()
def reference() -> None:
    """Inspect and extend the bundled mtncRNA reference."""


_REF_OPTION = click.option(
    "--reference",
    "extension",
    type=click.Path(path_type=Path),
    default=None,
    help="Your own evidence table, merged into the bundled reference.",
)


@reference.command("list")
@click.option(
    "--format", "fmt", type=click.Choice(["tsv", "json"]), default="tsv", show_default=True
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="All features (every miRBase miRNA too), not only known mtncRNAs.",
)
@click.option("--evidence", is_flag=True, help="List the literature evidence rows instead.")
@_REF_OPTION
@handle_errors
def reference_list(fmt: str, show_all: bool, evidence: bool, extension: Path | None) -> None:
    """List known mtncRNAs (or all features, or the evidence rows)."""
    click.echo(
        steps.reference_list(
            fmt=fmt, all_features=show_all, evidence=evidence, reference=extension
        ).summary,
        nl=False,
    )


@reference.command("lookup")
@click.argument("names", nargs=-1, required=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_REF_OPTION
@handle_errors
def reference_lookup(names: Sequence[str], fmt: str, extension: Path | None) -> None:
    """Resolve NAMES (miRNA names, accessions, aliases, Ensembl ids) and show their evidence.

    Pairs and ranges (miR-221/222) list every member; ambiguous names (miR-365) list every
    candidate with its curated rows. Exits with 1 if any name is unknown or ambiguous.
    """
    res = steps.reference_lookup(names, fmt=fmt, reference=extension)
    click.echo(res.summary)
    if res.details["unresolved"]:
        sys.exit(1)


@reference.command("validate")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@handle_errors
def reference_validate(file: Path | None) -> None:
    """Validate your own evidence table FILE, or (without FILE) the bundled reference."""
    click.echo(steps.reference_validate(file).summary)


# ---------------------------------------------------------------------------------------- de


def _parse_subset(items: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise click.BadParameter(f"'{item}' is not COLUMN=VALUE[,VALUE]", param_hint="--subset")
        col, vals = item.split("=", 1)
        out.setdefault(col.strip(), []).extend(v.strip() for v in vals.split(",") if v.strip())
    return out


@cli.command("de")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-s",
    "--samples",
    type=click.Path(path_type=Path),
    help="Sample sheet (when INPUT is a count table).",
)
@click.option(
    "--design", required=True, help='Formula over sample sheet columns, e.g. "~ pair + condition".'
)
@click.option(
    "--contrast",
    "contrasts",
    nargs=3,
    multiple=True,
    metavar="FACTOR NUMERATOR DENOMINATOR",
    help="A contrast, e.g. --contrast condition resistant parental (repeatable).",
)
@click.option(
    "--coef",
    "coefs",
    multiple=True,
    help="Test a coefficient by name, e.g. an interaction term (repeatable).",
)
@click.option("--test", type=click.Choice(["wald", "lrt"]), default="wald", show_default=True)
@click.option("--reduced", default=None, help='Reduced formula for --test lrt, e.g. "~ pair".')
@click.option(
    "--subset",
    "subset",
    multiple=True,
    metavar="COLUMN=VALUE",
    help="Use only these samples, e.g. --subset fraction=mito (repeatable).",
)
@click.option(
    "--alpha",
    type=_PROB,
    default=0.1,
    show_default=True,
    help="FDR level for independent filtering.",
)
@click.option(
    "--size-factors",
    type=click.Choice(["auto", "ratio", "poscounts"]),
    default="auto",
    show_default=True,
)
@click.option(
    "--fit-type",
    type=click.Choice(["parametric", "local", "mean"]),
    default="parametric",
    show_default=True,
    help="Dispersion trend, as R DESeq2's fitType (parametric falls back to local, as R).",
)
@click.option(
    "--lfc-threshold",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Test against this log2 fold change (R's results(lfcThreshold=)); Wald test only.",
)
@click.option(
    "--alt-hypothesis",
    type=click.Choice(["greaterAbs", "lessAbs", "greater", "less"]),
    default="greaterAbs",
    show_default=True,
    help="With --lfc-threshold T: |LFC| > T, |LFC| < T, LFC > T or LFC < -T (R's altHypothesis).",
)
@click.option(
    "--shrink",
    is_flag=True,
    help="Add shrunken LFCs for each contrast (--shrink-type, default apeglm's model).",
)
@click.option(
    "--shrink-type",
    type=click.Choice(["apeglm", "normal"]),
    default=None,
    help="apeglm: adaptive Cauchy prior (apeglm's model); normal: R's lfcShrink(type='normal'). "
    "Implies --shrink.",
)
@click.option("--no-independent-filtering", is_flag=True)
@click.option("--no-cooks", is_flag=True, help="Do not set p-values of Cook's outliers to NA.")
@click.option(
    "--cooks-cutoff",
    type=click.FloatRange(min=0),
    default=None,
    help="Cook's distance above which a p-value is set to NA (R's cooksCutoff; default: the "
    "0.99 quantile of F(p, m - p)).",
)
@click.option(
    "--engine",
    type=click.Choice(["mtncrna", "pydeseq2"]),
    default="mtncrna",
    show_default=True,
    help="Fit with the project's engine or with pydeseq2 itself (Wald test only).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Threads for the fit [default: every core]; the numbers do not depend on it.",
)
@click.option(
    "-o",
    "--outdir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder (created).",
)
@_read_options
@handle_errors
def de_cmd(
    inputs: Sequence[Path],
    samples: Path | None,
    read: steps.ReadOptions,
    design: str,
    contrasts: Sequence[tuple[str, str, str]],
    coefs: Sequence[str],
    test: str,
    reduced: str | None,
    subset: Sequence[str],
    alpha: float,
    size_factors: str,
    fit_type: str,
    lfc_threshold: float,
    alt_hypothesis: str,
    shrink: bool,
    shrink_type: str | None,
    no_independent_filtering: bool,
    no_cooks: bool,
    cooks_cutoff: float | None,
    engine: str,
    threads: int | None,
    outdir: Path,
) -> None:
    """Differential expression (DESeq2 model), one table per contrast.

    Writes OUTDIR/de_<factor>_<numerator>_vs_<denominator>.tsv (feature_id, baseMean,
    log2FoldChange, lfcSE, stat, pvalue, padj, reason, mt_class, known_mtncrna, reference_id),
    de.h5ad and provenance.json.
    """
    if not contrasts and not coefs:
        raise click.UsageError("give at least one --contrast FACTOR NUMERATOR DENOMINATOR")
    if no_cooks and cooks_cutoff is not None:
        raise click.UsageError("give --no-cooks or --cooks-cutoff, not both")
    res = steps.de(
        inputs,
        samples,
        design=design,
        contrasts=list(contrasts),
        coefficients=list(coefs),
        test=test,
        reduced=reduced,
        subset=_parse_subset(subset) or None,
        alpha=alpha,
        size_factors=size_factors,
        fit_type=fit_type,
        lfc_threshold=lfc_threshold,
        alt_hypothesis=alt_hypothesis,
        shrink=shrink_type or shrink,
        independent_filter=not no_independent_filtering,
        cooks_cutoff=cooks_cutoff if cooks_cutoff is not None else not no_cooks,
        engine=engine,
        threads=threads,
        read=read,
        outdir=outdir,
    )
    click.echo(res.summary)


# ------------------------------------------------------------------------------------- quant


@cli.group()
def quant() -> None:
    """Reads -> counts: small-RNA FASTQ or aligned BAM files."""


@quant.command("bam")
@click.argument("bams", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-a",
    "--annotation",
    required=True,
    type=click.Path(path_type=Path),
    help="GTF, GFF3 or SAF annotation.",
)
@click.option(
    "--strand",
    type=click.Choice(["unstranded", "forward", "reverse"]),
    default="unstranded",
    show_default=True,
    help="featureCounts -s 0/1/2.",
)
@click.option(
    "--multimap",
    type=click.Choice(["unique", "all", "fraction"]),
    default="unique",
    show_default=True,
    help="Multi-mapping reads (NH > 1): drop, count all, 1/NH.",
)
@click.option("--min-mapq", type=click.IntRange(0, 255), default=0, show_default=True)
@click.option("--allow-multi-overlap", is_flag=True, help="featureCounts -O.")
@click.option("--primary", is_flag=True, help="Count primary alignments only.")
@click.option(
    "--weights-from-name",
    is_flag=True,
    help="Collapsed reads: take the copy number from the read name.",
)
@click.option("--feature-type", default="exon", show_default=True)
@click.option("--attribute", default="gene_id", show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--reference",
    "reference_fasta",
    type=click.Path(path_type=Path),
    default=None,
    help="Reference FASTA for CRAM input.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="Count table (featureCounts layout; .summary written beside it).",
)
@handle_errors
def quant_bam_cmd(
    bams: Sequence[Path],
    annotation: Path,
    strand: str,
    multimap: str,
    min_mapq: int,
    allow_multi_overlap: bool,
    primary: bool,
    weights_from_name: bool,
    feature_type: str,
    attribute: str,
    threads: int,
    reference_fasta: Path | None,
    output: Path,
) -> None:
    """Count reads per gene in BAM/SAM/CRAM files with featureCounts' rules."""
    res = steps.quant_bam(
        bams,
        annotation=annotation,
        output=output,
        feature_type=feature_type,
        attribute=attribute,
        strand=strand,
        multimap=multimap,
        min_mapq=min_mapq,
        allow_multi_overlap=allow_multi_overlap,
        primary_only=primary,
        weights_from_name=weights_from_name,
        threads=threads,
        reference_fasta=reference_fasta,
    )
    click.echo(res.summary)


@quant.command("smallrna")
@click.argument("fastqs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--kit",
    type=click.Choice(["illumina", "nextflex", "qiaseq"]),
    default="illumina",
    show_default=True,
    help="Library kit preset (adapter, random ends, UMIs).",
)
@click.option(
    "--adapter",
    default=None,
    help="3' adapter sequence (overrides the kit's); 'none' = --no-trim.",
)
@click.option(
    "--no-trim",
    "no_trim",
    is_flag=True,
    default=False,
    help="The FASTQs are already adapter-trimmed: take each read as the insert.",
)
@click.option(
    "--sample-names",
    default=None,
    help="Comma-separated sample names, one per FASTQ in order (default: from the file names).",
)
@click.option("--umi/--no-umi", default=None, help="Count unique UMIs (default: by kit).")
@click.option("--min-length", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--max-length", type=click.IntRange(min=1), default=45, show_default=True)
@click.option(
    "--mature",
    type=click.Path(path_type=Path),
    default=None,
    help="Mature miRNA FASTA (default: the bundled miRBase 22 human set).",
)
@click.option(
    "--hairpin",
    type=click.Path(path_type=Path),
    default=None,
    help="Hairpin FASTA matching --mature.",
)
@click.option(
    "--mt-genome",
    type=click.Path(path_type=Path),
    default=None,
    help="Mitochondrial genome FASTA (default: the bundled rCRS).",
)
@click.option(
    "--mt-annotation",
    type=click.Path(path_type=Path),
    default=None,
    help="GTF/GFF3/BED of the mitochondrial genes for --mt-genome.",
)
@click.option(
    "--mismatches",
    type=click.IntRange(0, 1),
    default=1,
    show_default=True,
    help="Mismatches allowed when matching a read to a miRNA.",
)
@click.option(
    "-p",
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Samples quantified in parallel.",
)
@click.option("-o", "--outdir", required=True, type=click.Path(path_type=Path))
@handle_errors
def quant_smallrna_cmd(
    fastqs: Sequence[Path],
    kit: str,
    adapter: str | None,
    no_trim: bool,
    sample_names: str | None,
    umi: bool | None,
    min_length: int,
    max_length: int,
    mature: Path | None,
    hairpin: Path | None,
    mt_genome: Path | None,
    mt_annotation: Path | None,
    mismatches: int,
    processes: int,
    outdir: Path,
) -> None:
    """Small-RNA FASTQ -> miRNA, isomiR and mt-tRNA/rRNA fragment counts, with QC.

    Writes OUTDIR/counts_mature.tsv (loads with mtncrna import), isomirs.tsv,
    mt_fragments.tsv, qc.tsv and provenance.json. Sample names come from
    --sample-names, else from the file names (S1_S1_L001_R1_001.fastq.gz -> S1; X_1.fq.gz -> X_1).
    """
    res = steps.quant_smallrna(
        fastqs,
        outdir=outdir,
        kit=kit,
        adapter=adapter,
        umi=umi,
        min_length=min_length,
        max_length=max_length,
        mature=mature,
        hairpin=hairpin,
        mt_genome=mt_genome,
        mt_annotation=mt_annotation,
        mismatches=mismatches,
        processes=processes,
        trim=not no_trim,
        sample_names=None if sample_names is None else sample_names.split(","),
    )
    click.echo(res.summary)


_SAMPLES_OPTION = click.option(
    "-s",
    "--samples",
    type=click.Path(path_type=Path),
    help="Sample sheet (when INPUT is a count table).",
)


@cli.command("qc")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@_SAMPLES_OPTION
@click.option("--fraction-column", default="fraction", show_default=True)
@click.option("--mito", default="mito", show_default=True, help="Label of the mito fraction.")
@click.option(
    "--versus",
    default="cytosol",
    show_default=True,
    help="Reference fraction for purity (cytosol or whole).",
)
@click.option(
    "--group",
    "groups",
    multiple=True,
    help="Sample-sheet column that makes samples alike, e.g. --group treatment --group "
    "cell_line (repeatable; default: condition and cell_line).",
)
@click.option("-o", "--outdir", required=True, type=click.Path(path_type=Path))
@_read_options
@handle_errors
def qc_cmd(
    inputs: Sequence[Path],
    samples: Path | None,
    read: steps.ReadOptions,
    fraction_column: str,
    mito: str,
    versus: str,
    groups: Sequence[str],
    outdir: Path,
) -> None:
    """Per-sample QC: library size, composition, mitochondrial purity, PCA, outliers.

    Writes qc_samples.tsv, qc_pca.tsv, qc_correlation.tsv, qc.h5ad and provenance.json.
    """
    res = steps.qc(
        inputs,
        samples,
        fraction_key=fraction_column,
        mito=mito,
        versus=versus,
        groups=list(groups) or None,
        read=read,
        outdir=outdir,
    )
    click.echo(res.summary)


@cli.command("enrich")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@_SAMPLES_OPTION
@click.option("--fraction-column", default="fraction", show_default=True)
@click.option("--mito", default="mito", show_default=True)
@click.option(
    "--versus",
    default="cytosol",
    show_default=True,
    help="Reference fraction (cytosol/cyto or whole).",
)
@click.option(
    "--design",
    default=None,
    help="Formula; default '~ pair + fraction' when every pair has both fractions.",
)
@click.option(
    "--interaction",
    default=None,
    help="Also test the fraction x FACTOR interaction, e.g. condition.",
)
@click.option("--alpha", type=_PROB, default=0.05, show_default=True)
@click.option(
    "--lfc-threshold",
    type=_PROB,
    default=0.5,
    show_default=True,
    help="Call mito_enriched when log2 enrichment is significantly above this.",
)
@click.option("-o", "--outdir", required=True, type=click.Path(path_type=Path))
@_read_options
@handle_errors
def enrich_cmd(
    inputs: Sequence[Path],
    samples: Path | None,
    read: steps.ReadOptions,
    fraction_column: str,
    mito: str,
    versus: str,
    design: str | None,
    interaction: str | None,
    alpha: float,
    lfc_threshold: float,
    outdir: Path,
) -> None:
    """Mitochondrial enrichment: mito fraction versus cytosol (or whole cell).

    Writes enrichment_<mito>_vs_<versus>.tsv (feature_id, baseMean, log2FoldChange, lfcSE,
    stat, pvalue, padj, mito_enriched, ...), interaction_<factor>.tsv with --interaction,
    enrichment.h5ad and provenance.json.
    """
    res = steps.enrich(
        inputs,
        samples,
        fraction_key=fraction_column,
        mito=mito,
        versus=versus,
        design=design,
        interaction=interaction,
        alpha=alpha,
        lfc_threshold=lfc_threshold,
        read=read,
        outdir=outdir,
    )
    click.echo(res.summary)


@cli.command("concordance")
@click.argument("de_table", type=click.Path(path_type=Path))
@click.option("--drug", default=None, help="Your drug, e.g. cisplatin or DDP (synonyms are known).")
@click.option("--cancer", default=None, help="Your cancer, e.g. TSCC or NSCLC.")
@click.option("--alpha", type=_PROB, default=0.1, show_default=True)
@click.option(
    "--matching-only",
    is_flag=True,
    help="List only studies on your drug and cancer (default: all, matching ones first).",
)
@click.option(
    "--summary",
    "summary_scope",
    type=click.Choice(["matching", "all"]),
    default="matching",
    show_default=True,
    help="Which studies the printed verdict counts cover.",
)
@click.option(
    "--reference",
    "extension",
    type=click.Path(path_type=Path),
    default=None,
    help="Your own evidence table, merged into the bundled reference.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="Output TSV (written atomically).",
)
@handle_errors
def concordance_cmd(
    de_table: Path,
    drug: str | None,
    cancer: str | None,
    alpha: float,
    matching_only: bool,
    summary_scope: str,
    extension: Path | None,
    output: Path,
) -> None:
    """Compare a DE table (from mtncrna de) with the literature on known mtncRNAs.

    One row per evidence row with a direction in resistant cells: expected direction, observed
    log2FoldChange and padj, verdict (concordant, discordant, not_significant, not_detected),
    citation.
    """
    res = steps.concordance(
        de_table,
        drug=drug,
        cancer=cancer,
        alpha=alpha,
        matching_only=matching_only,
        summary_scope=summary_scope,
        reference=extension,
        output=output,
    )
    click.echo(res.summary)


@cli.command("signature")
@click.argument("de_tables", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--alpha", type=_PROB, default=0.05, show_default=True)
@click.option("--lfc-threshold", type=click.FloatRange(min=0), default=1.0, show_default=True)
@click.option(
    "--min-significant",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Contrasts in which a feature must be significant.",
)
@click.option(
    "--min-agreement",
    type=click.FloatRange(0, 1, min_open=True),
    default=1.0,
    show_default=True,
    help="Share of contrasts that must agree on the sign.",
)
@click.option(
    "--name",
    default="mtncrna_resistance",
    show_default=True,
    help="Gene-set name prefix in the GMT.",
)
@click.option("-o", "--outdir", required=True, type=click.Path(path_type=Path))
@handle_errors
def signature_cmd(
    de_tables: Sequence[Path],
    alpha: float,
    lfc_threshold: float,
    min_significant: int,
    min_agreement: float,
    name: str,
    outdir: Path,
) -> None:
    """Consensus resistance signature from one or more DE tables (from mtncrna de).

    Writes signature.tsv (feature_id, direction, weight, n_contrasts, ...), signature.gmt
    (<name>_UP, <name>_DOWN) and signature.json with provenance.
    """
    res = steps.signature(
        de_tables,
        alpha=alpha,
        lfc_threshold=lfc_threshold,
        min_significant=min_significant,
        min_agreement=min_agreement,
        name=name,
        outdir=outdir,
    )
    click.echo(res.summary)


@cli.command("score")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@_SAMPLES_OPTION
@click.option(
    "--signature",
    "signature_file",
    required=True,
    type=click.Path(path_type=Path),
    help="signature.tsv from mtncrna signature.",
)
@click.option("--group-column", default="condition", show_default=True)
@click.option("--positive", default="resistant", show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path))
@_read_options
@handle_errors
def score_cmd(
    inputs: Sequence[Path],
    samples: Path | None,
    read: steps.ReadOptions,
    signature_file: Path,
    group_column: str,
    positive: str,
    output: Path,
) -> None:
    """Score samples with a signature (weighted mean of z-scored VST values)."""
    res = steps.score(
        inputs,
        samples,
        signature=signature_file,
        group_key=group_column,
        positive=positive,
        read=read,
        output=output,
    )
    click.echo(res.summary)


@cli.command("integrate")
@click.option(
    "--small",
    "small_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Small-RNA count table or .h5ad.",
)
@click.option(
    "--long",
    "long_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Long-RNA count table or .h5ad.",
)
@_SAMPLES_OPTION
@click.option(
    "--targets",
    type=click.Path(path_type=Path),
    default=None,
    help="Your miRNA-target table (columns mirna, target); default: the reference's.",
)
@click.option(
    "--design",
    default=None,
    help="Design effects to regress out (default: fraction, condition, cell_line, "
    "batch where they vary).",
)
@click.option("--alpha", type=_PROB, default=0.1, show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path))
@handle_errors
def integrate_cmd(
    small_path: Path,
    long_path: Path,
    samples: Path | None,
    targets: Path | None,
    design: str | None,
    alpha: float,
    output: Path,
) -> None:
    """Couple miRNAs (small RNA) with their targets (long RNA) beyond the design effects."""
    res = steps.integrate(
        small_path,
        long_path,
        samples,
        targets=targets,
        design=design,
        alpha=alpha,
        output=output,
    )
    click.echo(res.summary)


@cli.command("report")
@click.argument("h5ads", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--title", default="mtncrna report", show_default=True)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="Output HTML file (self-contained, written atomically).",
)
@handle_errors
def report_cmd(h5ads: Sequence[Path], title: str, output: Path) -> None:
    """Render the HTML report from the .h5ad outputs of earlier steps (qc, enrich, de, ...).

    Files of the same library (small/long) are merged: their analyses (uns) and QC columns
    (obs) are combined.
    """
    click.echo(steps.report(h5ads, title=title, output=output).summary)


# -------------------------------------------------------------------------------------- demo


@cli.command("run")
@click.argument("config", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--outdir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder (tables, .h5ad, signature, report.html, run.log).",
)
@handle_errors
def run_cmd(config: Path, outdir: Path) -> None:
    """Run every analysis the data allow, from a YAML config, into OUTDIR.

    Keys (see examples/data/config.yaml): samples, small, long, format, strandedness, reference,
    drop_unmatched, fraction_column, mito, versus, design, factors, contrasts, de_by_fraction,
    de_engine, threads,
    interaction, drug, cancer, alpha, enrichment_alpha, enrichment_lfc_threshold,
    signature_alpha, signature_lfc_threshold, signature_name, targets, title. Everything is
    checked before any work starts; the folder is published whole or not at all.
    """
    from ._run import run

    click.echo(run(config, outdir, progress=sys.stderr.isatty()).summary)


@cli.command()
@click.option(
    "-o",
    "--outdir",
    type=click.Path(path_type=Path),
    default=Path("mtncrna-demo"),
    show_default=True,
    help="Folder for the demo outputs.",
)
@handle_errors
def demo(outdir: Path) -> None:
    """Run every analysis on the bundled example study, ending in OUTDIR/report.html."""
    from .demo import run_demo

    click.echo(run_demo(outdir, progress=sys.stderr.isatty()).summary)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``mtncrna`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="mtncrna")


if __name__ == "__main__":  # pragma: no cover
    main()
