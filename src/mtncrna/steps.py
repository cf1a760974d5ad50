"""One library step per command: what the CLI, ``mtncrna run``, the workflow and a notebook call.

Each step reads its inputs, runs the analysis through the public ``pp``/``tl`` functions, writes
its outputs through one publisher (a folder appears whole or not at all; a file and its
provenance side-car are checked against every input) and returns a :class:`StepResult` with the
files it wrote and a summary for people. The command line only parses options and prints
``result.summary``::

    import mtncrna as mt
    res = mt.steps.de("small.h5ad", design="~ pair + fraction",
                      contrasts=[("fraction", "mito", "cytosol")], outdir="de_fraction")
    res.outputs, print(res.summary)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._constants import UNS_META
from ._errors import MtncrnaError
from .io._atomic import atomic_path, check_output
from .io._publish import Staged, publish

if TYPE_CHECKING:  # the analyses are imported where they are used: `quant bam` needs none
    import anndata as ad
    import pandas as pd

PathLike = str | Path


@dataclass
class StepResult:
    """What a step wrote and what it found."""

    step: str
    outputs: list[Path]
    summary: str
    adata: ad.AnnData | None = None
    table: pd.DataFrame | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.summary


# ------------------------------------------------------------------------------ shared pieces


def reference_version(adata: ad.AnnData | None) -> str:
    """The reference version the features of ``adata`` were annotated with ('' if none)."""
    if adata is None:
        return ""
    return str(adata.uns.get(UNS_META, {}).get("annotate", {}).get("reference_version", ""))


def _paths(items: PathLike | Sequence[PathLike] | None) -> list[Path]:
    if items is None:
        return []
    if isinstance(items, (str, Path)):
        return [Path(items)]
    return [Path(p) for p in items]


@dataclass(frozen=True)
class ReadOptions:
    """How an analysis step reads count tables (``mtncrna import``'s options): the format,
    rounding of estimated counts, keeping only the samples in both table and sheet."""

    format: str = "auto"
    round: bool = False
    drop_unmatched: bool = False


def load(
    inputs: PathLike | Sequence[PathLike],
    samples: PathLike | None = None,
    *,
    format: str = "auto",
    library: str | None = None,
    drop_unmatched: bool = False,
    reference: PathLike | None = None,
    round: bool = False,
) -> ad.AnnData:
    """An .h5ad from ``mtncrna import``, or count table(s) plus a sample sheet."""
    from .io import read_counts

    return read_counts(
        [str(p) for p in _paths(inputs)],
        samples,
        format=format,
        library=library,
        drop_unmatched=drop_unmatched,
        reference=reference,
        non_integer="round" if round else "error",
    )


def _load(
    inputs: PathLike | Sequence[PathLike], samples: PathLike | None, read: ReadOptions | None
) -> ad.AnnData:
    r = read or ReadOptions()
    return load(inputs, samples, format=r.format, round=r.round, drop_unmatched=r.drop_unmatched)


def write_set(
    stage: Staged | Path,
    tables: Mapping[str, pd.DataFrame],
    *,
    step: str,
    inputs: Sequence[PathLike],
    parameters: Mapping[str, Any],
    adata: ad.AnnData | None = None,
    h5ad_name: str | None = None,
    extra: Sequence[Path] = (),
    ref_version: str | None = None,
) -> list[Path]:
    """Write TSV tables (and an .h5ad) into a staged folder, then ``provenance.json``.

    Returns the paths the files will have once the folder is published.
    """
    from ._provenance import record
    from .io import write_h5ad, write_provenance, write_table

    folder = stage.path if isinstance(stage, Staged) else Path(stage)
    written = [write_table(df, folder / name, inputs=inputs) for name, df in tables.items()]
    if adata is not None:
        written.append(write_h5ad(adata, folder / (h5ad_name or f"{step}.h5ad"), inputs=inputs))
    written.extend(extra)
    prov = record(
        step=step,
        inputs=[("input", p) for p in inputs],
        parameters=parameters,
        reference_version=ref_version if ref_version is not None else reference_version(adata),
    )
    write_provenance(folder / "provenance.json", prov, written)
    final = [*written, folder / "provenance.json"]
    return [stage.final(p) if isinstance(stage, Staged) else p for p in final]


def write_with_sidecar(
    table: pd.DataFrame,
    output: PathLike,
    *,
    step: str,
    inputs: Sequence[PathLike],
    parameters: Mapping[str, Any],
    ref_version: str = "",
) -> list[Path]:
    """A single-table output and its ``.provenance.json`` side-car, neither over an input,
    written under temporary names and renamed into place together (the table last)."""
    from ._provenance import record
    from .io import atomic_group, to_tsv, write_provenance

    out = Path(output)
    side = out.with_suffix(".provenance.json")
    check_output(out, inputs)
    check_output(side, [*inputs, out])
    prov = record(
        step=step,
        inputs=[("input", p) for p in inputs],
        parameters=parameters,
        reference_version=ref_version,
    )
    with atomic_group([side, out]) as (tmp_side, tmp_out):
        to_tsv(table, tmp_out)
        write_provenance(tmp_side, prov, [tmp_out], names=[out.name], atomic=False)
    return [out, side]


def _input_list(*groups: PathLike | Sequence[PathLike] | None) -> list[Path]:
    out: list[Path] = []
    for g in groups:
        out.extend(_paths(g))
    return out


# ------------------------------------------------------------------------------------ import


def import_counts(
    counts: PathLike | Sequence[PathLike],
    samples: PathLike | None = None,
    *,
    output: PathLike,
    library: str | None = None,
    format: str = "auto",
    round: bool = False,
    drop_unmatched: bool = False,
    reference: PathLike | None = None,
    annotate: bool = True,
    strandedness: str = "auto",
    sample_names: Sequence[str] | None = None,
) -> StepResult:
    """Count table(s) + sample sheet -> one annotated ``.h5ad``."""
    from .io import read_counts, write_h5ad

    inputs = _input_list(counts, samples, reference)
    out = check_output(output, inputs)
    adata = read_counts(
        [str(p) for p in _paths(counts)],
        samples,
        library=library,
        format=format,
        non_integer="round" if round else "error",
        drop_unmatched=drop_unmatched,
        annotate=annotate,
        reference=reference,
        strandedness=strandedness,
        sample_names=sample_names,
    )
    write_h5ad(adata, out, inputs=inputs)
    return StepResult("import", [out], import_summary(adata, out), adata=adata)


def import_summary(adata: ad.AnnData, output: PathLike) -> str:
    meta = adata.uns.get(UNS_META, {})
    lines = [
        f"{output}: {adata.n_obs} samples x {adata.n_vars} features "
        f"({meta.get('library', '?')} library, format {meta.get('format', '?')})"
    ]
    if "strandedness" in meta:
        lines.append(
            f"  strandedness {meta['strandedness']} ({meta.get('strandedness_evidence', '')})"
        )
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


# ---------------------------------------------------------------------------------------- de


def de_tables(adata: ad.AnnData, *, key: str = "de", prefix: str = "de_") -> dict[str, Any]:
    """The per-contrast DE tables of ``uns[key]``, named ``<prefix><contrast>.tsv``."""
    from . import get

    tables = {}
    for name in adata.uns[key]["results"]:
        tables[f"{prefix}{name}.tsv"] = get.de_df(adata, name, key=key).drop(columns="contrast")
    return tables


def de_summary_lines(
    tables: Mapping[str, pd.DataFrame],
    alpha: float,
    where: str = "",
    *,
    lfc_threshold: float = 0.0,
    alt_hypothesis: str = "greaterAbs",
) -> list[str]:
    lines = []
    for name, df in tables.items():
        sig = df["padj"] < alpha
        if alt_hypothesis == "lessAbs":
            n = int(sig.sum())
            lines.append(f"{where}{name}: {n} with |LFC| < {lfc_threshold} at padj < {alpha}")
            continue
        n_up = int((sig & (df["log2FoldChange"] > 0)).sum())
        n_down = int((sig & (df["log2FoldChange"] < 0)).sum())
        test = {
            "greaterAbs": f" (tested |LFC| > {lfc_threshold})",
            "greater": f" (tested LFC > {lfc_threshold})",
            "less": f" (tested LFC < -{lfc_threshold})",
        }[alt_hypothesis]
        test = test if lfc_threshold or alt_hypothesis != "greaterAbs" else ""
        lines.append(f"{where}{name}: {n_up} up, {n_down} down at padj < {alpha}{test}")
    return lines


def de(
    inputs: PathLike | Sequence[PathLike],
    samples: PathLike | None = None,
    *,
    design: str,
    contrasts: Sequence[Sequence[str]] = (),
    coefficients: Sequence[str] = (),
    test: str = "wald",
    reduced: str | None = None,
    subset: Mapping[str, str | Sequence[str]] | None = None,
    alpha: float = 0.1,
    size_factors: str = "auto",
    fit_type: str = "parametric",
    lfc_threshold: float = 0.0,
    alt_hypothesis: str = "greaterAbs",
    shrink: bool | str = False,
    independent_filter: bool = True,
    cooks_cutoff: bool | float = True,
    read: ReadOptions | None = None,
    outdir: PathLike,
    **engine_options: Any,
) -> StepResult:
    """Differential expression (DESeq2 model): one table per contrast, ``de.h5ad``, provenance.

    The options are :func:`mtncrna.tl.de`'s (R DESeq2's ``fitType``, ``lfcThreshold``,
    ``altHypothesis``, ``cooksCutoff``; ``shrink`` True/"apeglm" or "normal")."""
    from . import tl

    all_inputs = _input_list(inputs, samples)
    if not contrasts and not coefficients:
        raise MtncrnaError("give at least one contrast (--contrast FACTOR NUMERATOR DENOMINATOR)")
    with publish(outdir, inputs=all_inputs) as stage:
        adata = _load(inputs, samples, read)
        tl.de(
            adata,
            design=design,
            contrasts=[tuple(c) for c in contrasts],
            coefficients=list(coefficients),
            test=test,
            reduced=reduced,
            subset=_canonical_subset(subset),
            alpha=alpha,
            size_factors=size_factors,
            fit_type=fit_type,
            lfc_threshold=lfc_threshold,
            alt_hypothesis=alt_hypothesis,
            shrink=shrink,
            independent_filter=independent_filter,
            cooks_cutoff=cooks_cutoff,
            **engine_options,
        )
        tables = de_tables(adata)
        outputs = write_set(
            stage,
            tables,
            step="de",
            inputs=all_inputs,
            parameters=dict(adata.uns["de"]["params"]),
            adata=adata,
        )
    summary = de_summary_lines(
        tables,
        alpha,
        where=f"{Path(outdir)}/",
        lfc_threshold=lfc_threshold,
        alt_hypothesis=alt_hypothesis,
    )
    return StepResult("de", outputs, "\n".join(summary), adata=adata)


# ---------------------------------------------------------------------------------------- qc


def _canonical_subset(
    subset: Mapping[str, str | Sequence[str]] | None,
) -> dict[str, str | Sequence[str]] | None:
    """``fraction=mitochondria`` selects what the sheet reader stored as ``mito``."""
    if not subset:
        return None
    out: dict[str, str | Sequence[str]] = {}
    for col, values in subset.items():
        if col == "fraction":
            values = (
                canonical_fraction(values)
                if isinstance(values, str)
                else [canonical_fraction(v) for v in values]
            )
        out[col] = values
    return out


def canonical_fraction(label: str) -> str:
    """A fraction label as the sample sheet reader stores it (``mitochondria`` -> ``mito``)."""
    from .io import normalise_fraction

    return normalise_fraction(str(label)) or str(label)


def qc_tables(adata: ad.AnnData, prefix: str = "qc_") -> dict[str, pd.DataFrame]:
    import pandas as pd

    from . import get

    u = adata.uns["qc"]
    return {
        f"{prefix}samples.tsv": get.qc_df(adata),
        f"{prefix}pca.tsv": pd.DataFrame(u["pca"]).rename_axis("sample").reset_index(),
        f"{prefix}correlation.tsv": pd.DataFrame(u["correlation"])
        .rename_axis("sample")
        .reset_index(),
    }


def qc_summary_lines(table: pd.DataFrame, mito: str, where: str) -> list[str]:
    mito_rows = table[table["purity"].notna()] if "purity" in table else table.iloc[:0]
    lines = [f"{where}: {len(table)} samples, {int(table['outlier'].sum())} flagged as outliers"]
    if len(mito_rows):
        line = (
            f"  {mito} fraction purity: median {mito_rows['purity'].median():.2f} "
            f"(range {mito_rows['purity'].min():.2f}-{mito_rows['purity'].max():.2f})"
        )
        enr = mito_rows["mt_enrichment"].dropna()
        if len(enr):
            line += f"; mtDNA-encoded RNAs {enr.median():.1f} log2 above the matched reference"
        lines.append(line)
    return lines


def qc(
    inputs: PathLike | Sequence[PathLike],
    samples: PathLike | None = None,
    *,
    fraction_key: str = "fraction",
    mito: str = "mito",
    versus: str = "cytosol",
    groups: Sequence[str] | None = None,
    read: ReadOptions | None = None,
    outdir: PathLike,
) -> StepResult:
    """Per-sample QC, purity of the mito preps, PCA: ``qc_*.tsv``, ``qc.h5ad``, provenance."""
    from . import pp

    all_inputs = _input_list(inputs, samples)
    mito_c, versus_c = canonical_fraction(mito), canonical_fraction(versus)
    with publish(outdir, inputs=all_inputs) as stage:
        adata = _load(inputs, samples, read)
        pp.qc(adata, fraction_key=fraction_key, mito=mito_c, versus=versus_c, groups=groups)
        tables = qc_tables(adata)
        outputs = write_set(
            stage,
            tables,
            step="qc",
            inputs=all_inputs,
            parameters=dict(adata.uns["qc"]["params"]),
            adata=adata,
        )
    lines = qc_summary_lines(tables["qc_samples.tsv"], mito_c, f"{Path(outdir)}/qc_samples.tsv")
    return StepResult("qc", outputs, "\n".join(lines), adata=adata)


# -------------------------------------------------------------------------------- enrichment


def enrichment_tables(adata: ad.AnnData, mito: str, versus: str, prefix: str = "") -> dict:
    from . import get
    from ._text import file_safe

    tables = {f"{prefix}enrichment_{mito}_vs_{versus}.tsv": get.enrichment_df(adata)}
    for name in adata.uns["enrichment"].get("interaction", {}):
        # file-safe as the DE tables' names ('cisplatin resistant' -> cisplatin_resistant)
        tables[f"{prefix}interaction_{file_safe(name)}.tsv"] = get.enrichment_df(
            adata, interaction=name
        )
    return tables


def enrich(
    inputs: PathLike | Sequence[PathLike],
    samples: PathLike | None = None,
    *,
    fraction_key: str = "fraction",
    mito: str = "mito",
    versus: str = "cytosol",
    design: str | None = None,
    interaction: str | None = None,
    alpha: float = 0.05,
    lfc_threshold: float = 0.5,
    read: ReadOptions | None = None,
    outdir: PathLike,
) -> StepResult:
    """Mitochondrial enrichment (mito vs cytosol or whole cell), with an optional interaction."""
    from . import tl

    all_inputs = _input_list(inputs, samples)
    mito_c, versus_c = canonical_fraction(mito), canonical_fraction(versus)
    with publish(outdir, inputs=all_inputs) as stage:
        adata = _load(inputs, samples, read)
        tl.enrichment(
            adata,
            fraction_key=fraction_key,
            mito=mito_c,
            versus=versus_c,
            design=design,
            interaction=interaction,
            alpha=alpha,
            lfc_threshold=lfc_threshold,
        )
        tables = enrichment_tables(adata, mito, versus)  # file names as the user wrote them
        outputs = write_set(
            stage,
            tables,
            step="enrichment",
            inputs=all_inputs,
            parameters=dict(adata.uns["enrichment"]["params"]),
            adata=adata,
        )
    out = Path(outdir)
    names = list(tables)
    lines = [
        f"{out}/{names[0]}: {int(tables[names[0]]['mito_enriched'].sum())} features enriched in "
        f"the {mito_c} fraction"
    ]
    for name in names[1:]:
        t = tables[name]
        lines.append(
            f"{out}/{name}: {int((t['padj'] < alpha).sum())} features change their "
            f"mitochondrial pool (padj < {alpha})"
        )
    return StepResult("enrichment", outputs, "\n".join(lines), adata=adata)


# ------------------------------------------------------------------------------- concordance

_DE_REQUIRED = ("feature_id", "log2FoldChange", "padj")


def read_de_table(path: PathLike) -> pd.DataFrame:
    """A DE table from ``mtncrna de`` (or any table with DESeq2's column names)."""
    from .io import read_result_table

    return read_result_table(
        path,
        required=_DE_REQUIRED,
        numeric=("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"),
        what="a table from mtncrna de",
        unique=("feature_id", "contrast"),  # a table of several contrasts repeats features
        ranges={"padj": (0.0, 1.0), "pvalue": (0.0, 1.0)},
    )


def concordance(
    de_table: PathLike,
    *,
    drug: str | None = None,
    cancer: str | None = None,
    alpha: float = 0.1,
    matching_only: bool = False,
    summary_scope: str = "matching",
    reference: PathLike | None = None,
    output: PathLike,
) -> StepResult:
    """Compare a DE table with the literature on known mtncRNAs."""
    from . import tl
    from .reference import load_reference

    inputs = _input_list(de_table, reference)
    check_output(output, inputs)
    check_output(Path(output).with_suffix(".provenance.json"), [*inputs, output])
    body = read_de_table(de_table)
    ref = load_reference(reference)
    table = tl.concordance_table(
        body,
        reference=ref,
        drug=drug,
        cancer=cancer,
        alpha=alpha,
        matching_only=matching_only,
        summary_scope=summary_scope,
    )
    outputs = write_with_sidecar(
        table,
        output,
        step="concordance",
        inputs=inputs,
        parameters={**table.attrs["params"], "coverage": table.attrs["coverage"]},
        ref_version=ref.version,
    )
    from .tl._concordance import summary_line

    text = f"{output}: {summary_line(table)}"
    return StepResult("concordance", outputs, text, table=table)


# --------------------------------------------------------------------------------- signature


def signature(
    de_tables: Sequence[PathLike],
    *,
    alpha: float = 0.05,
    lfc_threshold: float = 1.0,
    min_significant: int = 1,
    min_agreement: float = 1.0,
    name: str = "mtncrna_resistance",
    outdir: PathLike,
) -> StepResult:
    """Consensus resistance signature from DE tables: signature.tsv, .gmt, .json, provenance."""
    from . import tl

    paths = _paths(de_tables)
    stems = [p.stem for p in paths]
    dup = sorted({s for s in stems if stems.count(s) > 1})
    if dup:
        raise MtncrnaError(
            f"DE tables must have distinct file names (contrast names): {', '.join(dup)} given "
            "twice"
        )
    check_gene_set_name(name)
    with publish(outdir, inputs=paths) as stage:
        tables = {p.stem: read_de_table(p) for p in paths}
        sig = tl.signature(
            tables,
            alpha=alpha,
            lfc_threshold=lfc_threshold,
            min_significant=min_significant,
            min_agreement=min_agreement,
        )
        gmt = stage / "signature.gmt"
        with atomic_path(check_output(gmt, paths)) as tmp:
            tmp.write_text(tl.to_gmt(sig, name=name), encoding="utf-8")
        js = stage / "signature.json"
        with atomic_path(check_output(js, paths)) as tmp:
            tmp.write_text(
                json.dumps(
                    {
                        "name": name,
                        "params": sig.attrs.get("params", {}),
                        "features": json.loads(sig.to_json(orient="records")),
                    },
                    indent=1,
                )
                + "\n",
                encoding="utf-8",
            )
        outputs = write_set(
            stage,
            {"signature.tsv": sig},
            step="signature",
            inputs=paths,
            parameters=dict(sig.attrs.get("params", {}), name=name),
            extra=[gmt, js],
        )
    n_up = int((sig["direction"] == "up").sum())
    text = (
        f"{Path(outdir)}/signature.tsv: {len(sig)} features ({n_up} up, {len(sig) - n_up} down) "
        f"from {len(tables)} contrast(s)"
    )
    return StepResult("signature", outputs, text, table=sig)


def check_gene_set_name(name: str) -> str:
    """A gene-set name for GMT files: non-empty, no tab, newline or other control character."""
    if not name or any(ch.isspace() or ord(ch) < 32 or ch == "\x7f" for ch in name):
        raise MtncrnaError(
            f"gene-set name {name!r} must be non-empty and hold no space, tab, newline or "
            "control character (it becomes a field of signature.gmt that gseapy and decoupler "
            "read alike)"
        )
    return name


def score(
    inputs: PathLike | Sequence[PathLike],
    samples: PathLike | None = None,
    *,
    signature: PathLike,
    group_key: str = "condition",
    positive: str = "resistant",
    read: ReadOptions | None = None,
    output: PathLike,
) -> StepResult:
    """Score samples with a signature (weighted mean of z-scored VST values)."""
    from . import get, tl
    from .io import read_result_table

    all_inputs = _input_list(inputs, samples, signature)
    check_output(output, all_inputs)
    check_output(Path(output).with_suffix(".provenance.json"), [*all_inputs, output])
    sig = read_result_table(
        signature,
        required=("feature_id", "weight"),
        numeric=("weight",),
        what="a signature table",
        unique="feature_id",
    )
    adata = _load(inputs, samples, read)
    tl.score(adata, sig, group_key=group_key, positive=positive)
    table = get.score_df(adata)
    info = dict(adata.uns["signature_score"])
    outputs = write_with_sidecar(
        table,
        output,
        step="score",
        inputs=all_inputs,
        parameters={k: v for k, v in info.items() if k != "signature"},
        ref_version=reference_version(adata),
    )
    auc = info.get("auc_in_sample")
    text = (
        f"{output}: {adata.n_obs} samples scored; {info['n_features_found']} of "
        f"{info['n_features_signature']} signature features found in the data, "
        f"{info['n_features_used']} used"
        + (f"; in-sample AUC {positive} vs rest {auc:.2f}" if auc is not None else "")
    )
    return StepResult("score", outputs, text, adata=adata, table=table)


def integrate(
    small: PathLike,
    long: PathLike,
    samples: PathLike | None = None,
    *,
    targets: PathLike | None = None,
    design: str | None = None,
    alpha: float = 0.1,
    output: PathLike,
) -> StepResult:
    """Couple miRNAs (small RNA) with their targets (long RNA) beyond the design effects."""
    from . import tl
    from .io import TARGET_ALIASES, read_result_table

    inputs = _input_list(small, long, samples, targets)
    check_output(output, inputs)
    check_output(Path(output).with_suffix(".provenance.json"), [*inputs, output])
    a_small = load(small, samples, library="small", drop_unmatched=True)
    a_long = load(long, samples, library="long", drop_unmatched=True)
    pairs = (
        read_result_table(
            targets,
            required=("mirna", "target"),
            what="a miRNA-target table",
            aliases=TARGET_ALIASES,
        )
        if targets
        else None
    )
    table = tl.integrate(a_small, a_long, pairs=pairs, design=design, alpha=alpha)
    outputs = write_with_sidecar(
        table,
        output,
        step="integrate",
        inputs=inputs,
        parameters=table.attrs.get("params", {}),
        ref_version=reference_version(a_small),
    )
    params = table.attrs["params"]
    text = (
        f"{output}: {params['n_pairs']} pairs, {params['n_pairs_matched']} with both partners "
        f"in the data, {params['n_pairs_tested']} tested, {int(table['coupled'].sum())} "
        f"coupled (negative partial correlation, padj < {alpha})"
    )
    return StepResult("integrate", outputs, text, table=table)


# ------------------------------------------------------------------------------------ report


def report(
    h5ads: Sequence[PathLike], *, title: str = "mtncrna report", output: PathLike
) -> StepResult:
    """The HTML report from the ``.h5ad`` outputs of earlier steps (merged per library)."""
    from . import report as _report
    from .io import read_h5ad

    paths = _paths(h5ads)
    check_output(output, paths)
    libs = _report.merge_libraries([read_h5ad(p) for p in paths])
    de_keys = _report.de_keys(libs)
    out = _report.render(libs, output, title=title, de_keys=tuple(de_keys))
    text = (
        f"{out}: report of {', '.join(f'{k}-RNA' for k in libs)} ({len(de_keys)} DE result set(s))"
    )
    return StepResult("report", [out], text)


# --------------------------------------------------------------------------------- reference

_LIST_COLUMNS = [
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


def reference_list(
    *,
    fmt: str = "tsv",
    all_features: bool = False,
    evidence: bool = False,
    reference: PathLike | None = None,
) -> StepResult:
    """The known mtncRNAs (or every feature, or the evidence rows) as TSV or JSON text."""
    from .reference import load_reference

    ref = load_reference(reference)
    if evidence:
        table = ref.evidence
    else:
        f = ref.features
        keep = f if all_features else f[f["known_mtncrna"] | (f["n_evidence"] > 0)]
        table = keep[_LIST_COLUMNS].reset_index()
    if fmt == "json":
        rows = json.loads(table.to_json(orient="records"))
        text = json.dumps({"reference_version": ref.version, "rows": rows}, indent=1) + "\n"
    else:
        text = f"# mtncrna reference {ref.version}\n" + table.to_csv(sep="\t", index=False)
    return StepResult("reference list", [], text, table=table)


def reference_lookup(
    names: Sequence[str], *, fmt: str = "text", reference: PathLike | None = None
) -> StepResult:
    """Resolve names (miRNA names, accessions, aliases, Ensembl ids) and show their evidence.

    ``details["unresolved"]`` is True when a name is unknown or ambiguous.
    """
    from .reference import load_reference

    ref = load_reference(reference)
    results = [ref.lookup(n) for n in names]
    if fmt == "json":
        text = json.dumps(
            {"reference_version": ref.version, "results": results},
            indent=1,
            default=str,
            allow_nan=False,
        )
    else:
        text = "\n".join(format_lookup(r) for r in results)
    unresolved = any(r["reference_id"] is None for r in results)
    return StepResult("reference lookup", [], text, details={"unresolved": unresolved})


def format_lookup(r: dict[str, Any]) -> str:
    """One resolution of ``Reference.lookup`` as the text ``mtncrna reference lookup`` prints."""
    note = f" ({r['note']})" if r.get("note") else ""
    if r["status"] == "unknown":
        return (
            f"{r['query']}: unknown{note} - not a name, alias or accession in the mtncrna reference"
        )
    if r["status"] == "ambiguous":
        head = (
            f"{r['query']}: ambiguous{note}: "
            + ", ".join(m["feature"]["symbol"] for m in r["members"])
            + "; give the full name (e.g. with -5p/-3p) or the accession"
        )
        return "\n".join([head, *(_format_entity(m, "  ") for m in r["members"])])
    if r["status"] == "group":
        head = f"{r['query']}: {len(r['members'])} members{note}"
        return "\n".join([head, *(_format_entity(m, "  ") for m in r["members"])])
    return _format_entity(r, "", query=r["query"], note=note)


def _format_entity(r: dict[str, Any], indent: str, query: str = "", note: str = "") -> str:
    f = r["feature"]
    lead = f"{query} -> " if query else ""
    out = [
        f"{indent}{lead}{r['reference_id']} {f['symbol']} "
        f"[{f['rna_class']}, {f['mt_class']}] "
        f"mitochondrial evidence: {f.get('mito_evidence', '')}; "
        f"evidence {f['n_evidence']}, fractionation {f['n_fractionation']}"
        + (f"; flags {f['flags']}" if f.get("flags") else "")
        + note
    ]
    for e in r["evidence"]:
        bits = [e.get("direction_in_resistant", ""), e.get("drug", ""), e.get("cancer", "")]
        desc = ", ".join(b for b in bits if b and b != "na")
        out.append(
            f"{indent}  {e.get('evidence_id', '')} [{e.get('localisation', '')}]: "
            f"{desc + ' - ' if desc else ''}{e.get('citation', '')} ({e.get('confidence', '')})"
        )
    for fr in r["fractionation"]:
        out.append(
            f"{indent}  in mitochondria: {fr.get('study', '')} {fr.get('cell_type', '')} "
            f"({fr.get('finding', '')}, {fr.get('confidence', '')})"
        )
    for e in r.get("curated_elsewhere", []):
        out.append(
            f"{indent}  the name '{e.get('name_in_source', '')}' is curated as "
            f"{e.get('reference_name', '')} in {e.get('evidence_id', '')} "
            f"({e.get('citation', '')})"
        )
    return "\n".join(out)


def reference_validate(file: PathLike | None = None) -> StepResult:
    """Validate a user's evidence table, or (without ``file``) the bundled reference."""
    from .reference import load_reference, read_extension
    from .reference._manifest import verify_manifest

    ref = load_reference()
    if file is None:
        n = verify_manifest(ref.directory)
        text = (
            f"bundled reference {ref.version}: {n} files match MANIFEST checksums; "
            f"{len(ref.features)} features, {len(ref.evidence)} evidence rows, "
            f"{len(ref.fractionation)} fractionation rows, all names resolve"
        )
        return StepResult("reference validate", [], text)
    table = read_extension(file, ref)
    new = sum(1 for r in table["reference_id"] if r and r not in ref.features.index)
    text = f"{file}: OK, {len(table)} evidence rows ({new} new entities)"
    return StepResult("reference validate", [], text, table=table)


# ------------------------------------------------------------------------------------- quant


def quant_bam(
    bams: Sequence[PathLike],
    *,
    annotation: PathLike,
    output: PathLike,
    feature_type: str = "exon",
    attribute: str = "gene_id",
    **options: Any,
) -> StepResult:
    """Count reads per gene in BAM/SAM/CRAM files with featureCounts' rules."""
    from ._provenance import record, sha256_all
    from .quant import count_bam, read_annotation, write_counts

    paths = _paths(bams)
    out = check_output(output, [*paths, annotation])
    for side in (out.with_name(out.name + ".summary"), out.with_suffix(".provenance.json")):
        check_output(side, [*paths, annotation])
    checksums = sha256_all([*paths, annotation])
    ann = read_annotation(annotation, feature_type=feature_type, attribute=attribute)
    result = count_bam(paths, ann, **options)
    prov = record(
        step="quant bam",
        inputs=[("annotation", annotation), *(("bam", p) for p in paths)],
        parameters=dict(result.params, threads=options.get("threads", 1)),
        checksums=checksums.result(),
    )
    table, summary, side = write_counts(result, out, inputs=[annotation], provenance=prov)
    msg = f"{table}: {result.counts.shape[0]} features x {result.counts.shape[1]} samples"
    if "Assigned" in result.summary.index:
        assigned = result.summary.loc["Assigned"]
        msg += f"; assigned reads per sample: {int(assigned.min())}-{int(assigned.max())}"
    return StepResult(
        "quant bam",
        [table, summary, side],
        msg + f" (summary: {summary.name}; provenance: {side.name})",
    )


def quant_smallrna(fastqs: Sequence[PathLike], *, outdir: PathLike, **options: Any) -> StepResult:
    """Small-RNA FASTQ -> miRNA, isomiR and mt-fragment counts with QC, in one output folder."""
    from . import report as _report
    from .quant import quantify_smallrna, write_smallrna

    paths = _paths(fastqs)
    ref_files = [
        options[k] for k in ("mature", "hairpin", "mt_genome", "mt_annotation") if options.get(k)
    ]
    with publish(outdir, inputs=[*paths, *ref_files]) as stage:
        result = quantify_smallrna(paths, **options)
        files = write_smallrna(result, stage.path, inputs=paths)
        for name, text in _report.multiqc_read_qc(result.qc_rows()).items():  # MultiQC content
            with atomic_path(stage / name) as tmp:
                tmp.write_text(text, encoding="utf-8")
            files[name] = stage / name
        outputs = [stage.final(Path(p)) for p in files.values()]
    text = f"{Path(outdir)}: " + ", ".join(sorted(p.name for p in outputs))
    text += "".join(f"\nnote: {note}" for note in result.notes)
    return StepResult("quant smallrna", outputs, text)


__all__ = [
    "StepResult",
    "check_gene_set_name",
    "concordance",
    "de",
    "enrich",
    "format_lookup",
    "import_counts",
    "integrate",
    "load",
    "qc",
    "quant_bam",
    "quant_smallrna",
    "read_de_table",
    "reference_list",
    "reference_lookup",
    "reference_validate",
    "report",
    "score",
    "signature",
    "write_set",
    "write_with_sidecar",
]
