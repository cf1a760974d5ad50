"""The ``mtncrna`` command line: parse options, call the public API, set the exit code.

Known input problems (:class:`~mtncrna.MtncrnaError`) become one line on stderr and exit code 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from ._errors import MtncrnaError
from ._version import __version__

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INPUT_ERROR = 2


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


def _fail(message: str) -> None:
    click.echo(f"mtncrna: error: {message}", err=True)
    sys.exit(EXIT_INPUT_ERROR)


def handle_errors(func: F) -> F:
    """Turn project errors into one line on stderr and exit code 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MtncrnaError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            click.echo("mtncrna: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="mtncrna")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def cli(verbose: int, quiet: bool) -> None:
    """Profile mitochondria-associated ncRNAs (mitomiRs, mito-lncRNAs, mtDNA-encoded ncRNAs)
    in drug-resistant cancer cells."""
    _setup_logging(verbose, quiet)


# ------------------------------------------------------------------------------------ import

_FORMAT_CHOICE = click.Choice(
    ["auto", "table", "featurecounts", "htseq", "mirge3", "smrnaseq", "h5ad"]
)


@cli.command("import")
@click.argument("counts", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-s", "--samples", type=click.Path(path_type=Path), help="Sample sheet (CSV/TSV).")
@click.option(
    "--library",
    type=click.Choice(["small", "long"]),
    default=None,
    help="Library type; guessed from the feature names if omitted.",
)
@click.option(
    "--format",
    "fmt",
    type=_FORMAT_CHOICE,
    default="auto",
    show_default=True,
    help="Input format; detected from the content by default.",
)
@click.option(
    "--round",
    "round_",
    is_flag=True,
    help="Round non-integer (estimated) counts instead of failing.",
)
@click.option(
    "--drop-unmatched",
    is_flag=True,
    help="Keep the samples in both the table and the sheet instead of failing.",
)
@click.option(
    "--reference",
    "reference",
    type=click.Path(path_type=Path),
    default=None,
    help="Your own evidence table, merged into the bundled reference.",
)
@click.option("--no-annotate", is_flag=True, help="Do not annotate features with the reference.")
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
    output: Path,
) -> None:
    """Read count table(s) and a sample sheet into an annotated .h5ad.

    COUNTS is a count table (plain TSV/CSV, featureCounts, miRge3 miR.Counts.csv,
    nf-core/smrnaseq mature counts, .h5ad), or several htseq-count files, or a folder of them.
    """
    from .io import check_output, read_counts, write_h5ad

    inputs = [*counts, *([samples] if samples else []), *([reference] if reference else [])]
    check_output(output, inputs)
    adata = read_counts(
        list(counts),
        samples,
        library=library,
        format=fmt,
        non_integer="round" if round_ else "error",
        drop_unmatched=drop_unmatched,
        annotate=not no_annotate,
        reference=reference,
    )
    write_h5ad(adata, output, inputs=inputs)
    click.echo(_import_summary(adata, output))


def _import_summary(adata: Any, output: Path) -> str:
    meta = adata.uns.get("mtncrna", {})
    lines = [
        f"{output}: {adata.n_obs} samples x {adata.n_vars} features "
        f"({meta.get('library', '?')} library, format {meta.get('format', '?')})"
    ]
    ann = meta.get("annotate")
    if ann:
        classes = ", ".join(
            f"{k} {v}" for k, v in ann["mt_class_counts"].items() if v and k != "other"
        )
        lines.append(
            f"  reference {ann['reference_version']}: {ann['n_resolved']} features resolved, "
            f"{ann['n_known_mtncrna']} known mtncRNAs; classes: {classes or 'none'}; "
            f"{ann['n_ambiguous']} ambiguous, {ann['n_unknown']} unknown"
        )
    for col in ("condition", "fraction"):
        if col in adata.obs:
            counts = adata.obs[col].value_counts().sort_index()
            lines.append(f"  {col}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return "\n".join(lines)


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
    from .reference import load_reference

    ref = load_reference(extension)
    if evidence:
        table = ref.evidence
    else:
        f = ref.features
        keep = f if show_all else f[f["known_mtncrna"] | (f["n_evidence"] > 0)]
        cols = [
            "symbol",
            "rna_class",
            "mt_class",
            "known_mtncrna",
            "n_evidence",
            "n_fractionation",
            "chrom",
            "start",
            "end",
            "strand",
            "confidence",
            "source",
        ]
        table = keep[cols].reset_index()
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "reference_version": ref.version,
                    "rows": json.loads(table.to_json(orient="records")),
                },
                indent=1,
            )
        )
    else:
        click.echo(f"# mtncrna reference {ref.version}")
        click.echo(table.to_csv(sep="\t", index=False), nl=False)


@reference.command("lookup")
@click.argument("names", nargs=-1, required=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_REF_OPTION
@handle_errors
def reference_lookup(names: Sequence[str], fmt: str, extension: Path | None) -> None:
    """Resolve NAMES (miRNA names, accessions, aliases, Ensembl ids) and show their evidence.

    Exits with 1 if any name is unknown or ambiguous.
    """
    from .reference import load_reference

    ref = load_reference(extension)
    results = [ref.lookup(n) for n in names]
    if fmt == "json":
        click.echo(
            json.dumps(
                {"reference_version": ref.version, "results": results}, indent=1, default=str
            )
        )
    else:
        for r in results:
            click.echo(_format_lookup(r))
    if any(r["reference_id"] is None for r in results):
        sys.exit(1)


def _format_lookup(r: dict[str, Any]) -> str:
    if r["status"] == "unknown":
        return f"{r['query']}: unknown - not a name, alias or accession in the mtncrna reference"
    if r["status"] == "ambiguous":
        return (
            f"{r['query']}: ambiguous - matches {', '.join(r['candidates'])}; "
            "give the full name (e.g. with -5p/-3p) or the accession"
        )
    f = r["feature"]
    out = [
        f"{r['query']} -> {r['reference_id']} {f['symbol']} "
        f"[{f['rna_class']}, {f['mt_class']}] "
        f"evidence {f['n_evidence']}, fractionation {f['n_fractionation']}"
    ]
    for e in r["evidence"]:
        bits = [e.get("direction_in_resistant", ""), e.get("drug", ""), e.get("cancer", "")]
        desc = ", ".join(b for b in bits if b and b != "na")
        out.append(
            f"  {e.get('evidence_id', '')}: {desc} - {e.get('citation', '')} "
            f"({e.get('confidence', '')})"
        )
    for fr in r["fractionation"]:
        out.append(
            f"  in mitochondria: {fr.get('study', '')} {fr.get('cell_type', '')} "
            f"({fr.get('finding', '')}, {fr.get('confidence', '')})"
        )
    return "\n".join(out)


@reference.command("validate")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@handle_errors
def reference_validate(file: Path | None) -> None:
    """Validate your own evidence table FILE, or (without FILE) the bundled reference."""
    from .reference import load_reference, read_extension
    from .reference._manifest import verify_manifest

    if file is None:
        ref = load_reference()
        n = verify_manifest(ref.directory)
        click.echo(
            f"bundled reference {ref.version}: {n} files match MANIFEST checksums; "
            f"{len(ref.features)} features, {len(ref.evidence)} evidence rows, "
            f"{len(ref.fractionation)} fractionation rows, all names resolve"
        )
        return
    ref = load_reference()
    table = read_extension(file, ref)
    new = sum(1 for r in table["reference_id"] if r and r not in ref.features.index)
    click.echo(f"{file}: OK, {len(table)} evidence rows ({new} new entities)")


# ---------------------------------------------------------------------------------------- de


def _load_input(
    inputs: Sequence[Path], samples: Path | None, fmt: str = "auto", library: str | None = None
) -> Any:
    """An .h5ad from ``mtncrna import``, or count table(s) plus a sample sheet."""
    from .io import read_counts

    return read_counts(list(inputs), samples, format=fmt, library=library)


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
    type=float,
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
    "--shrink",
    is_flag=True,
    help="Add shrunken LFCs (adaptive Cauchy prior, apeglm's model) for each contrast.",
)
@click.option("--no-independent-filtering", is_flag=True)
@click.option("--no-cooks", is_flag=True, help="Do not set p-values of Cook's outliers to NA.")
@click.option(
    "--engine",
    type=click.Choice(["mtncrna", "pydeseq2"]),
    default="mtncrna",
    show_default=True,
    help="Fit with the project's engine or with pydeseq2 itself (Wald test only).",
)
@click.option(
    "-o",
    "--outdir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder (created).",
)
@handle_errors
def de_cmd(
    inputs: Sequence[Path],
    samples: Path | None,
    design: str,
    contrasts: Sequence[tuple[str, str, str]],
    coefs: Sequence[str],
    test: str,
    reduced: str | None,
    subset: Sequence[str],
    alpha: float,
    size_factors: str,
    shrink: bool,
    no_independent_filtering: bool,
    no_cooks: bool,
    engine: str,
    outdir: Path,
) -> None:
    """Differential expression (DESeq2 model), one table per contrast.

    Writes OUTDIR/de_<factor>_<numerator>_vs_<denominator>.tsv (feature_id, baseMean,
    log2FoldChange, lfcSE, stat, pvalue, padj, reason, mt_class, known_mtncrna, reference_id),
    de.h5ad and provenance.json.
    """
    from . import get, tl
    from ._provenance import record
    from .io import write_h5ad, write_provenance, write_table

    if not contrasts and not coefs:
        raise click.UsageError("give at least one --contrast FACTOR NUMERATOR DENOMINATOR")
    adata = _load_input(inputs, samples)
    outdir.mkdir(parents=True, exist_ok=True)
    tl.de(
        adata,
        design=design,
        contrasts=list(contrasts),
        coefficients=list(coefs),
        test=test,
        reduced=reduced,
        subset=_parse_subset(subset) or None,
        alpha=alpha,
        size_factors=size_factors,
        shrink=shrink,
        independent_filter=not no_independent_filtering,
        cooks_cutoff=not no_cooks,
        engine=engine,
    )
    written = []
    lines = []
    for name in adata.uns["de"]["results"]:
        df = get.de_df(adata, name).drop(columns="contrast")
        path = write_table(df, outdir / f"de_{name}.tsv", inputs=list(inputs))
        written.append(path)
        n_up = int(((df["padj"] < alpha) & (df["log2FoldChange"] > 0)).sum())
        n_down = int(((df["padj"] < alpha) & (df["log2FoldChange"] < 0)).sum())
        lines.append(f"{path}: {n_up} up, {n_down} down at padj < {alpha}")
    written.append(write_h5ad(adata, outdir / "de.h5ad", inputs=list(inputs)))
    prov = record(
        step="de",
        inputs=[("input", p) for p in inputs] + ([("samples", samples)] if samples else []),
        parameters=dict(adata.uns["de"]["params"]),
        reference_version=adata.uns.get("mtncrna", {}).get("annotate", {}).get("reference_version"),
    )
    write_provenance(outdir / "provenance.json", prov, written)
    click.echo("\n".join(lines))


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
@click.option("--min-mapq", type=int, default=0, show_default=True)
@click.option("--allow-multi-overlap", is_flag=True, help="featureCounts -O.")
@click.option("--primary", is_flag=True, help="Count primary alignments only.")
@click.option(
    "--weights-from-name",
    is_flag=True,
    help="Collapsed reads: take the copy number from the read name.",
)
@click.option("--feature-type", default="exon", show_default=True)
@click.option("--attribute", default="gene_id", show_default=True)
@click.option("--threads", type=int, default=1, show_default=True)
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
    from .io import check_output
    from .quant import count_bam, read_annotation, write_counts

    check_output(output, [*bams, annotation])
    ann = read_annotation(annotation, feature_type=feature_type, attribute=attribute)
    result = count_bam(
        list(bams),
        ann,
        strand=strand,
        multimap=multimap,
        min_mapq=min_mapq,
        allow_multi_overlap=allow_multi_overlap,
        primary_only=primary,
        weights_from_name=weights_from_name,
        threads=threads,
        reference_fasta=reference_fasta,
    )
    table, summary = write_counts(result, output, inputs=[annotation])
    assigned = result.summary.loc["Assigned"] if "Assigned" in result.summary.index else None
    msg = f"{table}: {result.counts.shape[0]} features x {result.counts.shape[1]} samples"
    if assigned is not None:
        msg += f"; assigned reads per sample: {int(assigned.min())}-{int(assigned.max())}"
    click.echo(msg + f" (summary: {summary.name})")


@quant.command("smallrna")
@click.argument("fastqs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--kit",
    type=click.Choice(["illumina", "nextflex", "qiaseq"]),
    default="illumina",
    show_default=True,
    help="Library kit preset (adapter, random ends, UMIs).",
)
@click.option("--adapter", default=None, help="3' adapter sequence (overrides the kit's).")
@click.option("--umi/--no-umi", default=None, help="Count unique UMIs (default: by kit).")
@click.option("--min-length", type=int, default=16, show_default=True)
@click.option("--max-length", type=int, default=45, show_default=True)
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
    type=int,
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
    mt_fragments.tsv, qc.tsv and provenance.json.
    """
    from .quant import quantify_smallrna, write_smallrna

    result = quantify_smallrna(
        list(fastqs),
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
    )
    files = write_smallrna(result, outdir, inputs=list(fastqs))
    click.echo(f"{outdir}: " + ", ".join(sorted(Path(p).name for p in files.values())))


# --------------------------------------------------------------------------- shared outputs


def _write_outputs(
    outdir: Path,
    tables: dict[str, Any],
    *,
    step: str,
    inputs: Sequence[Path],
    parameters: dict[str, Any],
    adata: Any = None,
    reference_version: str | None = None,
) -> list[Path]:
    """Write TSV tables (and an .h5ad) atomically into ``outdir`` plus provenance.json."""
    from ._provenance import record
    from .io import write_h5ad, write_provenance, write_table

    outdir.mkdir(parents=True, exist_ok=True)
    written = [write_table(df, outdir / name, inputs=list(inputs)) for name, df in tables.items()]
    if adata is not None:
        written.append(write_h5ad(adata, outdir / f"{step}.h5ad", inputs=list(inputs)))
        reference_version = reference_version or adata.uns.get("mtncrna", {}).get(
            "annotate", {}
        ).get("reference_version")
    prov = record(
        step=step,
        inputs=[("input", p) for p in inputs],
        parameters=parameters,
        reference_version=reference_version,
    )
    write_provenance(outdir / "provenance.json", prov, written)
    return written


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
@click.option("-o", "--outdir", required=True, type=click.Path(path_type=Path))
@handle_errors
def qc_cmd(
    inputs: Sequence[Path],
    samples: Path | None,
    fraction_column: str,
    mito: str,
    versus: str,
    outdir: Path,
) -> None:
    """Per-sample QC: library size, composition, mitochondrial purity, PCA, outliers.

    Writes qc_samples.tsv, qc_pca.tsv, qc_correlation.tsv, qc.h5ad and provenance.json.
    """
    import pandas as pd

    from . import get, pp
    from .io import normalise_fraction

    adata = _load_input(inputs, samples)
    mito_c = normalise_fraction(mito) or mito
    versus_c = normalise_fraction(versus) or versus
    pp.qc(adata, fraction_key=fraction_column, mito=mito_c, reference=versus_c)
    u = adata.uns["qc"]
    pca = pd.DataFrame(u["pca"]).rename_axis("sample").reset_index()
    corr = pd.DataFrame(u["correlation"]).rename_axis("sample").reset_index()
    table = get.qc_df(adata)
    _write_outputs(
        outdir,
        {"qc_samples.tsv": table, "qc_pca.tsv": pca, "qc_correlation.tsv": corr},
        step="qc",
        inputs=inputs,
        parameters=dict(u["params"]),
        adata=adata,
    )
    mito_rows = table[table["purity"].notna()]
    lines = [
        f"{outdir}/qc_samples.tsv: {len(table)} samples, "
        f"{int(table['outlier'].sum())} flagged as outliers"
    ]
    if len(mito_rows):
        line = (
            f"  {mito_c} fraction purity: median {mito_rows['purity'].median():.2f} "
            f"(range {mito_rows['purity'].min():.2f}-{mito_rows['purity'].max():.2f})"
        )
        enr = mito_rows["mt_enrichment"].dropna()
        if len(enr):
            line += f"; mtDNA-encoded RNAs {enr.median():.1f} log2 above the matched reference"
        lines.append(line)
    click.echo("\n".join(lines))


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
@click.option("--alpha", type=float, default=0.05, show_default=True)
@click.option(
    "--lfc-threshold",
    type=float,
    default=0.5,
    show_default=True,
    help="Call mito_enriched when log2 enrichment is significantly above this.",
)
@click.option("-o", "--outdir", required=True, type=click.Path(path_type=Path))
@handle_errors
def enrich_cmd(
    inputs: Sequence[Path],
    samples: Path | None,
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
    from . import get, tl
    from .io import normalise_fraction

    adata = _load_input(inputs, samples)
    mito_c = normalise_fraction(mito) or mito
    versus_c = normalise_fraction(versus) or versus
    tl.enrichment(
        adata,
        fraction_key=fraction_column,
        mito=mito_c,
        versus=versus_c,
        design=design,
        interaction=interaction,
        alpha=alpha,
        lfc_threshold=lfc_threshold,
    )
    main = get.enrichment_df(adata)
    tables = {f"enrichment_{mito}_vs_{versus}.tsv": main}
    for name in adata.uns["enrichment"].get("interaction", {}):
        tables[f"interaction_{name}.tsv"] = get.enrichment_df(adata, interaction=name)
    _write_outputs(
        outdir,
        tables,
        step="enrichment",
        inputs=inputs,
        parameters=dict(adata.uns["enrichment"]["params"]),
        adata=adata,
    )
    lines = [
        f"{outdir}/enrichment_{mito}_vs_{versus}.tsv: {int(main['mito_enriched'].sum())} "
        f"features enriched in the {mito_c} fraction"
    ]
    for name in tables:
        if name.startswith("interaction_"):
            t = tables[name]
            lines.append(
                f"{outdir}/{name}: {int((t['padj'] < alpha).sum())} features change "
                f"their mitochondrial pool (padj < {alpha})"
            )
    click.echo("\n".join(lines))


@cli.command("concordance")
@click.argument("de_table", type=click.Path(path_type=Path))
@click.option("--drug", default=None, help="Prefer evidence on this drug, e.g. cisplatin.")
@click.option("--cancer", default=None, help="Prefer evidence on this cancer.")
@click.option("--alpha", type=float, default=0.1, show_default=True)
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
    extension: Path | None,
    output: Path,
) -> None:
    """Compare a DE table (from mtncrna de) with the literature on known mtncRNAs.

    One row per evidence row with a direction in resistant cells: expected direction, observed
    log2FoldChange and padj, verdict (concordant, discordant, not_significant, not_detected),
    citation.
    """
    from ._provenance import record
    from .io import check_output, read_result_table, write_provenance, write_table
    from .reference import load_reference
    from .tl import concordance_table

    check_output(output, [de_table])
    body = read_result_table(
        de_table,
        required=("feature_id", "log2FoldChange", "padj"),
        numeric=("log2FoldChange", "padj"),
        what="a table from mtncrna de",
    )
    ref = load_reference(extension)
    table = concordance_table(body, reference=ref, drug=drug, cancer=cancer, alpha=alpha)
    out = write_table(table, output, inputs=[de_table])
    prov = record(
        step="concordance",
        inputs=[("de", de_table)],
        parameters={"drug": drug, "cancer": cancer, "alpha": alpha},
        reference_version=ref.version,
    )
    write_provenance(output.with_suffix(".provenance.json"), prov, [out])
    summary = table.attrs.get("summary", {})
    click.echo(f"{output}: " + ", ".join(f"{k} {v}" for k, v in summary.items()))


@cli.command("signature")
@click.argument("de_tables", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--alpha", type=float, default=0.05, show_default=True)
@click.option("--lfc-threshold", type=float, default=1.0, show_default=True)
@click.option(
    "--min-significant",
    type=int,
    default=1,
    show_default=True,
    help="Contrasts in which a feature must be significant.",
)
@click.option(
    "--min-agreement",
    type=float,
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
    import json

    from ._provenance import record
    from .io import atomic_path, check_output, read_result_table, write_provenance, write_table
    from .tl import signature, to_gmt

    tables = {
        p.stem: read_result_table(
            p,
            required=("feature_id", "log2FoldChange", "padj"),
            numeric=("log2FoldChange", "lfcSE", "stat", "pvalue", "padj"),
            what="a DE table",
        )
        for p in de_tables
    }
    if len(tables) != len(de_tables):
        raise click.UsageError("DE tables must have distinct file names")
    sig = signature(
        tables,
        alpha=alpha,
        lfc_threshold=lfc_threshold,
        min_significant=min_significant,
        min_agreement=min_agreement,
    )
    outdir.mkdir(parents=True, exist_ok=True)
    written = [write_table(sig, outdir / "signature.tsv", inputs=list(de_tables))]
    gmt = check_output(outdir / "signature.gmt", de_tables)
    with atomic_path(gmt) as tmp:
        tmp.write_text(to_gmt(sig, name))
    written.append(gmt)
    prov = record(
        step="signature", inputs=[("de", p) for p in de_tables], parameters=sig.attrs["params"]
    )
    js = outdir / "signature.json"
    with atomic_path(js) as tmp:
        tmp.write_text(
            json.dumps(
                {
                    "name": name,
                    "provenance": json.loads(
                        json.dumps(
                            prov, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)
                        )
                    ),
                    "features": json.loads(sig.to_json(orient="records")),
                },
                indent=1,
            )
            + "\n"
        )
    written.append(js)
    write_provenance(outdir / "provenance.json", prov, written)
    n_up = int((sig["direction"] == "up").sum())
    click.echo(
        f"{outdir}/signature.tsv: {len(sig)} features ({n_up} up, {len(sig) - n_up} down) "
        f"from {len(tables)} contrast(s)"
    )


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
@handle_errors
def score_cmd(
    inputs: Sequence[Path],
    samples: Path | None,
    signature_file: Path,
    group_column: str,
    positive: str,
    output: Path,
) -> None:
    """Score samples with a signature (weighted mean of z-scored VST values)."""
    from ._provenance import record
    from .io import check_output, read_result_table, write_provenance, write_table
    from .tl import score

    check_output(output, [*inputs, signature_file])
    sig = read_result_table(
        signature_file,
        required=("feature_id", "weight"),
        numeric=("weight",),
        what="a signature table",
    )
    adata = _load_input(inputs, samples)
    score(adata, sig, group_key=group_column, positive=positive)
    cols = [c for c in ("condition", "fraction", "cell_line", group_column) if c in adata.obs]
    table = adata.obs[[*dict.fromkeys(cols), "signature_score"]].rename_axis("sample").reset_index()
    out = write_table(table, output, inputs=[*inputs, signature_file])
    info = dict(adata.uns["signature_score"])
    write_provenance(
        output.with_suffix(".provenance.json"),
        record(
            step="score",
            inputs=[("input", p) for p in inputs] + [("signature", signature_file)],
            parameters=info,
        ),
        [out],
    )
    auc = info.get("auc_in_sample")
    click.echo(
        f"{output}: {adata.n_obs} samples scored with {info['n_features_used']} features"
        + (f"; in-sample AUC {positive} vs rest {auc:.2f}" if auc is not None else "")
    )


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
@click.option("--alpha", type=float, default=0.1, show_default=True)
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
    from ._provenance import record
    from .io import check_output, read_counts, read_result_table, write_provenance, write_table
    from .tl import integrate

    inputs = [
        small_path,
        long_path,
        *([samples] if samples else []),
        *([targets] if targets else []),
    ]
    check_output(output, inputs)
    small = read_counts(small_path, samples, library="small", drop_unmatched=True)
    long_ = read_counts(long_path, samples, library="long", drop_unmatched=True)
    pairs = (
        read_result_table(targets, required=("mirna", "target"), what="a miRNA-target table")
        if targets
        else None
    )
    table = integrate(small, long_, pairs=pairs, design=design, alpha=alpha)
    out = write_table(table, output, inputs=inputs)
    write_provenance(
        output.with_suffix(".provenance.json"),
        record(
            step="integrate",
            inputs=[("input", p) for p in inputs],
            parameters=table.attrs["params"],
        ),
        [out],
    )
    click.echo(
        f"{output}: {len(table)} pairs tested, {int(table['coupled'].sum())} coupled "
        f"(negative partial correlation, padj < {alpha})"
    )


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
    from . import report
    from .io import check_output, read_h5ad

    check_output(output, h5ads)
    libs: dict[str, Any] = {}
    de_keys: list[str] = []
    for path in h5ads:
        a = read_h5ad(path)
        lib = str(a.uns.get("mtncrna", {}).get("library", "small"))
        if lib not in libs:
            libs[lib] = a
            base = a
        else:
            base = libs[lib]
            for key, val in a.uns.items():
                if key not in base.uns:
                    base.uns[key] = val
            for col in a.obs.columns:
                if col not in base.obs.columns:
                    base.obs[col] = a.obs[col].reindex(base.obs_names)
            for col in a.var.columns:
                if col not in base.var.columns:
                    base.var[col] = a.var[col].reindex(base.var_names)
        for key, val in a.uns.items():
            if (
                isinstance(val, dict)
                and "results" in val
                and key != "enrichment"
                and key not in de_keys
            ):
                de_keys.append(key)
    out = report.render(libs, output, title=title, de_keys=tuple(de_keys))
    click.echo(
        f"{out}: report of {', '.join(f'{k}-RNA' for k in libs)} ({len(de_keys)} DE result set(s))"
    )


# -------------------------------------------------------------------------------------- demo


def _log_to_file(outdir: Path) -> logging.Handler:
    outdir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(outdir / "run.log", mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.setLevel(logging.INFO)
    logger = logging.getLogger("mtncrna")
    logger.addHandler(handler)
    if logger.level > logging.INFO or logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
        for h in logger.handlers:
            if isinstance(h, _CliHandler):
                h.setLevel(logging.WARNING)
    return handler


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

    Keys (see examples/data/config.yaml): samples, small, long, format, reference,
    fraction_column, mito, versus, design, contrasts, de_by_fraction, interaction, drug, cancer,
    alpha, enrichment_alpha, enrichment_lfc_threshold, signature_alpha,
    signature_lfc_threshold, targets, title. The config is checked before any work starts.
    """
    from ._run import load_config, run

    cfg = load_config(config)
    handler = _log_to_file(outdir)
    try:
        click.echo(run(cfg, outdir, progress=sys.stderr.isatty()))
    finally:
        logging.getLogger("mtncrna").removeHandler(handler)
        handler.close()


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

    handler = _log_to_file(outdir)
    try:
        click.echo(run_demo(outdir, progress=sys.stderr.isatty()))
    finally:
        logging.getLogger("mtncrna").removeHandler(handler)
        handler.close()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``mtncrna`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="mtncrna")


if __name__ == "__main__":  # pragma: no cover
    main()
