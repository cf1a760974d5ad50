"""``mtncrna run CONFIG.yaml`` / :func:`mtncrna.run`: every analysis a study allows, in one folder.

Everything the user asked is checked before the first analysis starts, by one validator: the
config's keys and the type of every value (with the config file's line), the sample sheet, the
count tables (samples in one but not the other stop the run unless ``drop_unmatched: true``), the
design (every term a sample-sheet column), the contrasts and their levels, and the fractions. An
analysis the study cannot support (no mitochondrial fraction, a single library type, ...) is not
dropped silently: the reason goes to ``run.log``, the printed summary and the report.

The output folder is published as a whole (:func:`mtncrna.io.publish`): a failed or killed run
leaves the earlier folder as it was, ``run.log`` included, and two runs into one folder cannot mix.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anndata as ad
import pandas as pd

from . import engine, get, pp, tl
from ._constants import FORMATS
from ._errors import DesignError, InputError, MtncrnaError, UnmatchedSamplesError
from ._provenance import record
from ._text import read_bytes
from .io import (
    FRACTIONS,
    TARGET_ALIASES,
    atomic_path,
    normalise_fraction,
    publish,
    read_counts,
    read_result_table,
    read_sample_sheet,
    write_h5ad,
    write_provenance,
    write_table,
)
from .pp._qc import DEFAULT_GROUPS as QC_GROUPS
from .steps import (
    StepResult,
    check_gene_set_name,
    de_tables,
    enrichment_tables,
    qc_tables,
    reference_version,
)
from .tl._concordance import contrast_orientation
from .tl._de import contrast_name
from .tl._enrichment import DEFAULT_BLOCKING as BLOCKING

logger = logging.getLogger("mtncrna")

#: Documented config keys and their defaults (``None``: optional, no default).
DEFAULTS: dict[str, Any] = {
    "samples": None,  # sample sheet (required)
    "small": None,  # small-RNA count table(s) or .h5ad
    "long": None,  # long-RNA count table(s) or .h5ad
    "format": "auto",
    "strandedness": "auto",  # STAR ReadsPerGene files: auto, unstranded, forward, reverse
    "reference": None,  # your own evidence table, merged into the bundled reference
    "drop_unmatched": False,  # keep only samples in both the counts and the sheet
    "round": False,  # round estimated counts (salmon, RSEM: nf-core/rnaseq) instead of failing
    "fraction_column": "fraction",
    "mito": "mito",
    "versus": None,  # cytosol or whole; from the sheet unless both are there
    "design": "~ cell_line + condition",  # DE design; every term must be a sheet column
    "factors": [],  # sheet columns holding numbers to treat as factors (else covariates)
    "contrasts": [["condition", "resistant", "parental"]],
    "de_by_fraction": True,  # DE within each fraction (else on all samples)
    "de_engine": "mtncrna",  # or pydeseq2: the DE of every fraction run by pydeseq2 itself
    "de_fit_type": "parametric",  # dispersion trend: parametric, local or mean (R's fitType)
    "de_lfc_threshold": 0.0,  # test against this log2 fold change (R's lfcThreshold)
    "de_alt_hypothesis": "greaterAbs",  # greaterAbs, greater or less (R's altHypothesis)
    "de_shrink": False,  # add shrunken LFCs: false, apeglm (or true) or normal
    "de_cooks_cutoff": True,  # true (R's default cutoff), false, or a number
    "threads": None,  # threads for the DE fits (default: every core); changes no number
    "interaction": "condition",  # fraction x this factor in the enrichment
    "drug": None,
    "cancer": None,
    "alpha": 0.1,
    "enrichment_alpha": 0.05,
    "enrichment_lfc_threshold": 0.5,
    "signature_alpha": 0.05,
    "signature_lfc_threshold": 1.0,
    "signature_name": "mtncrna_resistance",
    "targets": None,  # miRNA-target table (mirna, target); default: the reference's pairs
    "title": "mtncrna report",
}

_PATH_KEYS = ("samples", "small", "long", "reference", "targets")


@dataclass
class RunConfig:
    """A validated run configuration (paths resolved against the config file's folder)."""

    values: dict[str, Any]
    path: Path | None = None
    inputs: list[Path] = field(default_factory=list)
    pairs: pd.DataFrame | None = None  # the parsed ``targets`` table
    lines: dict[str, int] = field(default_factory=dict)  # key -> line in the config file
    sheet: pd.DataFrame | None = None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def fail(self, key: str | None, message: str) -> None:
        """Raise an error naming the config file, the key's line and the key."""
        line = self.lines.get(key) if key else None
        raise InputError(self.path, f"{key}: {message}" if key else message, line=line)


# ----------------------------------------------------------------------------------- reading


def _yaml_with_lines(text: str, path: Path | None) -> tuple[Any, dict[str, int]]:
    """Parse YAML; refuse duplicated keys; return the data and the line of each top-level key."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader: Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise InputError(
                    path,
                    f"key '{key}' appears twice (first on line {seen[key]}); give each key once",
                    line=line,
                )
            seen[key] = line
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        root = yaml.compose(text, Loader=Loader)
        data = yaml.load(text, Loader=Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(path, f"not valid YAML: {problem}", line=line) from None
    lines: dict[str, int] = {}
    if isinstance(root, yaml.MappingNode):
        for key_node, _ in root.value:
            lines[str(key_node.value)] = key_node.start_mark.line + 1
    return data, lines


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a YAML run configuration (see :data:`DEFAULTS` for the keys)."""
    p = Path(path)
    raw = read_bytes(p)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(p, "is not UTF-8 text; save the config as UTF-8", line=line) from None
    data, lines = _yaml_with_lines(text, p)
    return validate_config({} if data is None else data, p, lines=lines)


# -------------------------------------------------------------------------------- validation


def _type_name(v: Any) -> str:
    return {list: "a list", dict: "a mapping", bool: "true/false", str: "text"}.get(
        type(v), type(v).__name__
    )


def _check_types(c: RunConfig) -> None:
    v = c.values
    for key in ("fraction_column", "mito", "design", "title", "format", "signature_name"):
        if not isinstance(v[key], str) or not v[key].strip():
            c.fail(key, f"expected text, found {_type_name(v[key])} {v[key]!r}")
    for key in ("versus", "interaction", "drug", "cancer"):
        if v[key] is not None and (not isinstance(v[key], str) or not v[key].strip()):
            c.fail(key, f"expected text, found {_type_name(v[key])} {v[key]!r}")
    for key in ("de_by_fraction", "drop_unmatched", "round"):
        if not isinstance(v[key], bool):
            c.fail(key, f"expected true or false, found {v[key]!r}")
    for key in ("alpha", "enrichment_alpha", "signature_alpha"):
        x = v[key]
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 < x < 1:
            c.fail(key, f"expected a number between 0 and 1 (exclusive), found {x!r}")
    for key in ("enrichment_lfc_threshold", "signature_lfc_threshold"):
        x = v[key]
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 <= x < 100:
            c.fail(key, f"expected a number >= 0 (a log2 fold change), found {x!r}")
    if v["strandedness"] not in ("auto", "unstranded", "forward", "reverse"):
        c.fail(
            "strandedness",
            f"expected auto, unstranded, forward or reverse, found {v['strandedness']!r}",
        )
    if v["de_engine"] not in ("mtncrna", "pydeseq2"):
        c.fail("de_engine", f"expected mtncrna or pydeseq2, found {v['de_engine']!r}")
    _check_de_options(c)
    x = v["threads"]
    if x is not None and (isinstance(x, bool) or not isinstance(x, int) or x < 1):
        c.fail(
            "threads", f"expected a whole number >= 1 (or leave it out: every core), found {x!r}"
        )
    if v["format"] not in FORMATS:
        c.fail("format", f"expected one of {', '.join(FORMATS)}, found {v['format']!r}")
    factors = v["factors"]
    if isinstance(factors, str):
        factors = v["factors"] = [factors]
    if not isinstance(factors, list) or not all(isinstance(f, str) for f in factors):
        c.fail("factors", f"expected a list of sample-sheet columns, found {factors!r}")
    contrasts = v["contrasts"]
    if (
        not isinstance(contrasts, list)
        or not contrasts
        or not all(
            isinstance(x, list) and len(x) == 3 and all(isinstance(y, (str, int, float)) for y in x)
            for x in contrasts
        )
    ):
        c.fail("contrasts", "must be a list of [factor, numerator, denominator]")
    v["contrasts"] = [[str(y) for y in x] for x in contrasts]
    for factor, num, den in v["contrasts"]:
        if num == den:
            c.fail("contrasts", f"[{factor}, {num}, {den}] compares '{num}' with itself")
    seen = [contrast_name(tuple(x)) for x in v["contrasts"]]
    twice = sorted({n for n in seen if seen.count(n) > 1})
    if twice:
        c.fail("contrasts", f"contrast {twice[0]} is given twice (its tables would be one file)")
    try:
        check_gene_set_name(v["signature_name"])
    except MtncrnaError as exc:
        c.fail("signature_name", str(exc))
    design = v["design"]
    if "~" not in design:
        c.fail("design", f"'{design}' is not a formula; write it like '~ cell_line + condition'")
    try:
        engine.formula_variables(design)
    except MtncrnaError as exc:
        c.fail("design", str(exc))


def _check_de_options(c: RunConfig) -> None:
    """The DESeq2 options of the run's DE (passed to :func:`mtncrna.tl.de` as they are)."""
    v = c.values
    if v["de_fit_type"] not in ("parametric", "local", "mean"):
        c.fail("de_fit_type", f"expected parametric, local or mean, found {v['de_fit_type']!r}")
    x = v["de_lfc_threshold"]
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 <= x < 100:
        c.fail("de_lfc_threshold", f"expected a number >= 0 (a log2 fold change), found {x!r}")
    alt = v["de_alt_hypothesis"]
    if alt == "lessAbs":
        c.fail(
            "de_alt_hypothesis",
            "lessAbs (|LFC| below the threshold) is not for the run: its concordance and "
            "signature read padj < alpha as 'changed'; use `mtncrna de --alt-hypothesis lessAbs`",
        )
    if alt not in ("greaterAbs", "greater", "less"):
        c.fail("de_alt_hypothesis", f"expected greaterAbs, greater or less, found {alt!r}")
    shrink = v["de_shrink"]
    if not (isinstance(shrink, bool) or shrink in ("apeglm", "normal")):
        c.fail("de_shrink", f"expected false, apeglm (or true) or normal, found {shrink!r}")
    cut = v["de_cooks_cutoff"]
    if not isinstance(cut, bool) and (
        not isinstance(cut, (int, float)) or not 0 <= cut < float("inf")
    ):
        c.fail("de_cooks_cutoff", f"expected true, false or a number >= 0, found {cut!r}")


def _resolve_paths(c: RunConfig) -> None:
    base = c.path.parent if c.path is not None else Path.cwd()
    for key in _PATH_KEYS:
        v = c.values[key]
        if v is None:
            continue
        items = v if isinstance(v, list) else [v]
        if not items or not all(isinstance(i, str) and i.strip() for i in items):
            c.fail(key, f"expected a file name or a list of file names, found {v!r}")
        if key in ("samples", "reference", "targets") and isinstance(v, list):
            c.fail(key, f"expected one file name, found a list of {len(v)}")
        resolved = []
        for item in items:
            p = Path(item)
            p = p if p.is_absolute() else base / p
            if not p.exists():
                c.fail(key, f"file not found: {p}")
            resolved.append(p)
            c.inputs.append(p)
        c.values[key] = resolved if isinstance(v, list) else resolved[0]


def _check_sheet(c: RunConfig, sheet: pd.DataFrame) -> None:
    """Design terms, contrasts, levels and fractions against the sample sheet."""
    cols = [str(x) for x in sheet.columns]
    listing = ", ".join(cols)
    for var in engine.formula_variables(c["design"]):
        if var not in cols:
            close = difflib.get_close_matches(var, cols, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            c.fail(
                "design",
                f"'{var}' in '{c['design']}' is not a sample sheet column{hint}; columns: "
                f"{listing}",
            )
    for f in c["factors"]:
        if f not in cols:
            c.fail("factors", f"'{f}' is not a sample sheet column; columns: {listing}")
    design_vars = engine.formula_variables(c["design"])
    for factor, num, den in c["contrasts"]:
        if factor not in cols:
            c.fail(
                "contrasts",
                f"contrast factor '{factor}' is not a sample sheet column; columns: {listing}",
            )
        if factor not in design_vars:
            c.fail(
                "contrasts",
                f"contrast factor '{factor}' is not in the design '{c['design']}'",
            )
        levels = sorted(set(sheet[factor].dropna().astype(str)))
        for lv in (num, den):
            if lv not in levels:
                c.fail(
                    "contrasts",
                    f"contrast level '{lv}' is not a value of '{factor}' in the sample sheet "
                    f"({', '.join(levels)})",
                )
    try:  # confounded terms make every fit fail: say so before any analysis (R stops too)
        X = engine.design_matrix(
            c["design"],
            sheet,
            factors=[*c["factors"], *(f for f, _, _ in c["contrasts"])],
        )
        engine.check_full_rank(X)
    except DesignError as exc:
        c.fail("design", f"'{c['design']}' cannot be fitted on the sample sheet: {exc}")
    except MtncrnaError:
        pass  # other problems (missing values, ...) are named where the data are read
    if c["interaction"] is not None and c["interaction"] not in cols:
        c.fail(
            "interaction", f"'{c['interaction']}' is not a sample sheet column; columns: {listing}"
        )
    fkey = c["fraction_column"]
    for key in ("mito", "versus"):
        label = c[key]
        if label is None:
            continue
        canon = normalise_fraction(label)
        if canon is None:
            c.fail(key, f"'{label}' is not a fraction; expected one of {', '.join(FRACTIONS)}")
        c.values[key] = canon
    if fkey not in cols:
        if c.lines.get("fraction_column"):
            c.fail("fraction_column", f"'{fkey}' is not a sample sheet column; columns: {listing}")
        return
    present = sorted(set(sheet[fkey].dropna().astype(str)))
    if c["versus"] is None:
        refs = [f for f in ("cytosol", "whole") if f in present]
        if len(refs) == 2:
            c.fail(
                "versus",
                "the sample sheet has both cytosol and whole-cell libraries; set versus: cytosol "
                "or versus: whole to choose the reference fraction",
            )
        c.values["versus"] = refs[0] if refs else "cytosol"
    elif c["versus"] not in present and c.lines.get("versus"):
        c.fail(
            "versus",
            f"no '{c['versus']}' library in the sample sheet (fractions: {', '.join(present)})",
        )
    if c["mito"] not in present and c.lines.get("mito"):
        c.fail(
            "mito",
            f"no '{c['mito']}' library in the sample sheet (fractions: {', '.join(present)})",
        )
    if not c.lines.get("mito") and "mito" not in present and "mitoplast" in present:
        c.values["mito"] = "mitoplast"  # the sheet's only mitochondrial fraction
        logger.info("the mitochondrial fraction is 'mitoplast' (the sheet has no 'mito')")


def validate_config(
    raw: Mapping[str, Any], path: Path | None = None, *, lines: Mapping[str, int] | None = None
) -> RunConfig:
    """Check keys, value types, files, the sample sheet, the design and contrasts.

    Returns a :class:`RunConfig`; any problem is an :class:`~mtncrna.InputError` naming the
    config file, the key's line and what was expected.
    """
    c = RunConfig(values={}, path=path, lines=dict(lines or {}))
    if not isinstance(raw, Mapping):
        c.fail(None, "expected a mapping of keys to values (YAML), e.g. 'samples: samples.csv'")
    for key in raw:
        if key not in DEFAULTS:
            close = difflib.get_close_matches(str(key), list(DEFAULTS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InputError(
                path,
                f"unknown key '{key}'{hint}; known keys: {', '.join(DEFAULTS)}",
                line=c.lines.get(str(key)),
            )
    c.values = {**DEFAULTS, **dict(raw)}
    if not c["samples"]:
        c.fail("samples", "'samples' (the sample sheet) is required")
    if not c["small"] and not c["long"]:
        c.fail(None, "give 'small' and/or 'long': the count table(s) to analyse")
    _check_types(c)
    _resolve_paths(c)
    if c["targets"] is not None:
        c.pairs = read_result_table(
            c["targets"],
            required=("mirna", "target"),
            what="a miRNA-target table",
            aliases=TARGET_ALIASES,
        )
    c.sheet = read_sample_sheet(c["samples"])
    _check_sheet(c, c.sheet)
    return c


# ------------------------------------------------------------------------------------ the run


@dataclass
class _Skip:
    analysis: str
    reason: str

    def __str__(self) -> str:
        return f"{self.analysis} skipped: {self.reason}"


def _numeric_design_notes(design: str, obs: pd.DataFrame, factors: list[str]) -> list[str]:
    """A note for each design variable holding whole numbers that the run fits as a numeric
    covariate (as R's DESeq2 does, with its message): it is then no group for QC or blocking."""
    out = []
    for v in engine.formula_variables(design):
        if v in factors or v not in obs:
            continue
        values = pd.to_numeric(obs[v].astype(str).str.strip(), errors="coerce")
        if values.notna().all() and (values == values.round()).all():
            out.append(
                f"design variable '{v}' holds whole numbers: fitted as a numeric covariate (one "
                "fold change per unit, as R's DESeq2 does) and not used to group QC or block the "
                f"enrichment; if its values name groups, list it under 'factors:' (factors: [{v}])"
            )
    return out


def _design_within(design: str, obs: pd.DataFrame, where: str, notes: list[str]) -> str:
    """The design for a subset of samples: terms constant within it are left out, and said so."""
    rhs = [t.strip() for t in design.split("~", 1)[1].split("+") if t.strip()]
    keep = []
    for term in rhs:
        variables = engine.formula_variables("~ " + term)
        if variables and all(obs[v].nunique(dropna=False) <= 1 for v in variables):
            value = ", ".join(f"{v}={obs[v].iloc[0]}" for v in variables)
            notes.append(f"design term '{term}' left out within {where} (a single value: {value})")
            continue
        keep.append(term)
    return "~ " + (" + ".join(keep) if keep else "1")


def run(
    config: RunConfig | str | Path | Mapping[str, Any],
    outdir: str | Path,
    *,
    progress: bool = False,
) -> StepResult:
    """Run every analysis the data allow; write tables, .h5ad files and ``report.html``.

    ``config`` is a YAML file, a mapping of config keys, or a validated :class:`RunConfig`.
    Returns a :class:`~mtncrna.steps.StepResult`; its ``summary`` names every analysis that
    was skipped and why.
    """
    if isinstance(config, RunConfig):
        c = config
    elif isinstance(config, (str, Path)):
        c = load_config(config)
    else:
        c = validate_config(config)
    out = Path(outdir)
    with publish(out, inputs=c.inputs) as stage:
        handler = _attach_log(stage.path / "run.log")
        try:
            lines, outputs = _run_in(c, stage, out, progress)
        finally:
            _detach_log(handler)
        outputs.append(stage.final(stage.path / "run.log"))
    return StepResult("run", outputs, "\n".join(lines))


def _read_libraries(c: RunConfig) -> dict[str, ad.AnnData]:
    libs = {}
    for lib in ("small", "long"):
        if c[lib] is None:
            continue
        try:
            libs[lib] = read_counts(
                c[lib],
                c["samples"],
                library=lib,
                format=c["format"],
                drop_unmatched=c["drop_unmatched"],
                non_integer="round" if c["round"] else "error",
                reference=c["reference"],
                strandedness=c["strandedness"],
            )
        except UnmatchedSamplesError as exc:
            raise InputError(
                c.path,
                f"{lib}: {exc.with_hint('drop_unmatched: true')}",
                line=c.lines.get(lib),
            ) from None
    return libs


def _run_in(c: RunConfig, stage: Any, out: Path, progress: bool) -> tuple[list[str], list[Path]]:
    inputs = c.inputs
    folder: Path = stage.path
    libs = _read_libraries(c)  # last check before the first analysis
    skipped: list[_Skip] = []
    notes: list[str] = []
    lines = [f"mtncrna run -> {out}/"]
    bar = _Progress(progress, len(libs) * 4 + 2)
    contrasts = [tuple(x) for x in c["contrasts"]]  # at least one (validated)
    fkey, mito, versus = c["fraction_column"], c["mito"], c["versus"]
    for lib, a in libs.items():  # samples left out by drop_unmatched: said, not only logged
        imported = a.uns.get("mtncrna", {}).get("provenance", {}).get("import", {})
        said = imported.get("parameters", {})
        if said.get("unmatched"):
            notes.append(f"{lib}-RNA: {said['unmatched']} (drop_unmatched)")
        if said.get("zero_filled"):
            notes.append(f"{lib}-RNA: {said['zero_filled']}")
    obs0 = next(iter(libs.values())).obs
    # what makes samples alike for QC and enrichment: the design's factors (a study's own
    # 'treatment' or 'status'), then the columns the steps look at by default
    # a contrast's variable is always a factor (tl.de makes it one)
    as_factors = [*c["factors"], *(f for f, _, _ in contrasts)]
    design_factors = [
        v for v in engine.factor_variables(c["design"], obs0, factors=as_factors) if v != fkey
    ]
    notes.extend(_numeric_design_notes(c["design"], obs0, [*design_factors, fkey]))
    if (
        not c["de_by_fraction"]
        and fkey in obs0
        and obs0[fkey].nunique() > 1
        and fkey not in engine.formula_variables(c["design"])
    ):
        notes.append(
            f"de_by_fraction is false and the design '{c['design']}' has no '{fkey}' term: the DE "
            f"pools the {', '.join(sorted(obs0[fkey].astype(str).unique()))} libraries as "
            f"replicates; add '{fkey}' to the design to account for it"
        )
    groups = list(dict.fromkeys([*design_factors, *(g for g in QC_GROUPS if g in obs0)]))
    blocking = list(dict.fromkeys([*design_factors, *(g for g in BLOCKING if g in obs0)]))
    de_keys: list[str] = []
    written: list[Path] = []
    for lib, a in libs.items():
        fractions = sorted(a.obs[fkey].astype(str).unique()) if fkey in a.obs else []
        has_mito, has_ref = mito in fractions, versus in fractions
        pp.qc(a, fraction_key=fkey, mito=mito, versus=versus, groups=groups)
        if fkey not in a.obs:
            skipped.append(_Skip(f"{lib}: purity", f"the sample sheet has no '{fkey}' column"))
        elif not has_mito or not has_ref:
            what = mito if not has_mito else versus
            skipped.append(
                _Skip(
                    f"{lib}: purity of the {mito} preps",
                    f"no '{what}' library (fractions: {', '.join(fractions)})",
                )
            )
        bar.step(f"{lib}: QC")
        tables = {  # the sample table keeps the name earlier versions (and the report) use
            f"{lib}_{k}".replace("_qc_samples.tsv", "_qc.tsv"): v for k, v in qc_tables(a).items()
        }
        if has_mito and has_ref:
            inter = c["interaction"]
            if inter is not None and a.obs[inter].nunique() < 2:
                skipped.append(
                    _Skip(f"{lib}: {fkey} x {inter} interaction", f"'{inter}' has a single value")
                )
                inter = None
            try:
                tl.enrichment(
                    a,
                    fraction_key=fkey,
                    mito=mito,
                    versus=versus,
                    interaction=inter,
                    # the contrast's denominator is the interaction's reference level too, so
                    # its sign means the same (resistant vs sensitive, not the sorted order)
                    interaction_reference=next(
                        (den for f, _, den in contrasts if f == inter and inter is not None), None
                    ),
                    blocking=blocking,
                    alpha=c["enrichment_alpha"],
                    lfc_threshold=c["enrichment_lfc_threshold"],
                )
            except MtncrnaError as exc:
                skipped.append(_Skip(f"{lib}: enrichment {mito} vs {versus}", str(exc)))
            else:
                tables.update(enrichment_tables(a, mito, versus, prefix=f"{lib}_"))
        else:
            why = (
                f"the sample sheet has no '{fkey}' column"
                if fkey not in a.obs
                else f"no '{mito if not has_mito else versus}' library "
                f"(fractions: {', '.join(fractions)})"
            )
            skipped.append(_Skip(f"{lib}: enrichment {mito} vs {versus}", why))
        bar.step(f"{lib}: enrichment")
        subsets = (
            [(f, {fkey: f}) for f in fractions]
            if c["de_by_fraction"] and fractions
            else [("all", None)]
        )
        for label, subset in subsets:
            sub_obs = a.obs if subset is None else a.obs[a.obs[fkey].astype(str) == label]
            where = "all samples" if subset is None else f"{fkey}={label}"
            design = _design_within(c["design"], sub_obs, f"{lib}-RNA {where}", notes)
            key = f"de_{label}"
            try:
                tl.de(
                    a,
                    design=design,
                    contrasts=contrasts,
                    # the first contrast's denominator is the factor's reference level, as a
                    # user of R's relevel() sets it: coefficients read 'treatment[T.resistant]'
                    reference_levels={contrasts[0][0]: contrasts[0][2]},
                    subset=subset,
                    alpha=c["alpha"],
                    factors=c["factors"],
                    engine=c["de_engine"],
                    fit_type=c["de_fit_type"],
                    lfc_threshold=c["de_lfc_threshold"],
                    alt_hypothesis=c["de_alt_hypothesis"],
                    shrink=c["de_shrink"],
                    cooks_cutoff=c["de_cooks_cutoff"],
                    threads=c["threads"],
                    key_added=key,
                )
            except MtncrnaError as exc:
                skipped.append(_Skip(f"{lib}: DE within {where}", str(exc)))
                continue
            if key not in de_keys:
                de_keys.append(key)
            tables.update(de_tables(a, key=key, prefix=f"{lib}_de_{label}_"))
        bar.step(f"{lib}: differential expression")
        lib_keys = [k for k in de_keys if k in a.uns]
        if lib_keys:
            # the reference fraction's DE (the literature measured whole cells or cytosol), and
            # a contrast with resistant cells in the numerator when there is one
            first = f"de_{versus}" if f"de_{versus}" in lib_keys else lib_keys[0]
            names = list(a.uns[first]["results"])
            names.sort(key=lambda n: contrast_orientation(n) != "resistant_over_parental")
            try:
                tl.concordance(
                    a,
                    key=first,
                    contrast=names[0],
                    drug=c["drug"],
                    cancer=c["cancer"],
                    alpha=c["alpha"],
                )
            except MtncrnaError as exc:
                skipped.append(_Skip(f"{lib}: literature concordance", str(exc)))
            else:
                tables[f"{lib}_concordance.tsv"] = get.concordance_df(a)
        else:
            skipped.append(_Skip(f"{lib}: literature concordance", "no DE result to compare"))
        bar.step(f"{lib}: concordance")
        for name, df in tables.items():
            written.append(write_table(df, folder / name, inputs=inputs))
        lines.append(_summary_line(lib, a, tables))
    known = []
    for lib, a in libs.items():
        k = get.annotation_df(a, known_only=True)
        k.insert(0, "library", lib)
        known.append(k)
    written.append(
        write_table(
            pd.concat(known, ignore_index=True), folder / "known_mtncrnas.tsv", inputs=inputs
        )
    )
    sig = None
    # the signature of the small RNAs (mitomiRs, tRFs); a long-RNA-only study gets its lncRNAs'
    sig_lib = "small" if "small" in libs else "long"
    if sig_lib in libs:
        a = libs[sig_lib]
        de_inputs = {k: get.de_df(a, key=k) for k in de_keys if k in a.uns}
        if de_inputs:
            sig = tl.signature(
                de_inputs, alpha=c["signature_alpha"], lfc_threshold=c["signature_lfc_threshold"]
            )
        if sig is not None and len(sig):
            # the AUC of the score: the first contrast's numerator vs the other samples
            tl.score(a, sig, group_key=contrasts[0][0], positive=contrasts[0][1])
            written.append(write_table(sig, folder / "signature.tsv", inputs=inputs))
            gmt = folder / "signature.gmt"
            with atomic_path(gmt) as tmp:
                tmp.write_text(
                    tl.to_gmt(
                        sig,
                        name=c["signature_name"],
                        up_in=contrasts[0][1],
                    ),
                    encoding="utf-8",
                )
            written.append(gmt)
            lines.append(f"  signature: {len(sig)} {sig_lib}-RNA features")
        else:
            skipped.append(
                _Skip(
                    "resistance signature",
                    f"no {sig_lib}-RNA feature passed the signature thresholds"
                    if de_inputs
                    else f"no {sig_lib}-RNA DE result",
                )
            )
    bar.step("signature")
    pairs = None
    if "small" in libs and "long" in libs:
        try:
            both = libs["small"].obs_names.intersection(libs["long"].obs_names)
            small_obs = libs["small"].obs.loc[both]  # the samples the integration pairs
            terms = [  # the fraction and what makes samples alike, as factors
                f"C({t})"
                for t in dict.fromkeys([fkey, *blocking])
                if t in small_obs and small_obs[t].astype(str).nunique() > 1
            ]
            common = [k for k in de_keys if k in libs["small"].uns and k in libs["long"].uns]
            pairs = tl.integrate(
                libs["small"],
                libs["long"],
                pairs=c.pairs,
                design="~ " + (" + ".join(terms) or "1"),
                # DE agreement on the reference fraction (where targets are translated)
                de_key=f"de_{versus}" if f"de_{versus}" in common else next(iter(common), None),
            )
        except MtncrnaError as exc:
            skipped.append(_Skip("miRNA-target integration", str(exc)))
        else:
            written.append(write_table(pairs, folder / "mirna_target_pairs.tsv", inputs=inputs))
            lines.append(
                f"  integration: {int(pairs['coupled'].sum())} of {len(pairs)} pairs coupled"
            )
    else:
        skipped.append(_Skip("miRNA-target integration", "needs both a small and a long library"))
    bar.step("integration")
    for lib, a in libs.items():  # after every analysis, so the files hold the scores too
        written.append(write_h5ad(a, folder / f"{lib}.h5ad", inputs=inputs))
    for n in notes:
        logger.warning("%s", n)
    for s in skipped:
        logger.warning("%s", s)
    ref_version = reference_version(next(iter(libs.values())))
    prov = record(
        step="run",
        inputs=[("input", p) for p in inputs],
        parameters={
            **{k: (str(v) if isinstance(v, Path) else v) for k, v in c.values.items()},
            "notes": notes,
            "skipped": [str(s) for s in skipped],
        },
        reference_version=ref_version,
    )
    from . import report

    written.append(
        report.render(
            libs,
            folder / "report.html",
            title=c["title"],
            de_keys=tuple(de_keys),
            pairs=pairs,
            signature=sig if sig is not None and len(sig) else None,
            provenance=prov,
            notes=_section_notes(skipped),
            messages=notes,
        )
    )
    for name, text in report.multiqc_files(libs).items():  # MultiQC custom content
        with atomic_path(folder / name) as tmp:
            tmp.write_text(text, encoding="utf-8")
        written.append(folder / name)
    write_provenance(folder / "provenance.json", prov, written)
    bar.close()
    lines.extend(f"  note: {n}" for n in notes)
    lines.extend(f"  {s}" for s in skipped)
    lines.append(f"  wrote {len(written) + 2} files; open {out}/report.html")
    outputs = [stage.final(p) for p in written] + [out / "provenance.json"]
    return lines, outputs


#: Report section of each analysis a run can skip (by the words of its name).
_SECTIONS = (
    ("purity", "samples-qc"),
    ("enrichment", "enrichment"),
    ("interaction", "enrichment"),
    ("DE ", "differential-expression"),
    ("concordance", "known-mtncrnas"),
    ("signature", "signatures"),
    ("integration", "integration"),
)


def _section_notes(skipped: list[_Skip]) -> dict[str, str]:
    """Why analyses were skipped, per report section (as the report's ``notes``)."""
    notes: dict[str, list[str]] = {}
    for s in skipped:
        section = next((sec for word, sec in _SECTIONS if word in s.analysis), "summary")
        notes.setdefault(section, []).append(f"{s.analysis} not run: {s.reason}")
    return {k: "; ".join(v) for k, v in notes.items()}


def _summary_line(lib: str, a: Any, tables: dict[str, pd.DataFrame]) -> str:
    qc = tables[f"{lib}_qc.tsv"]
    purity = qc["purity"].dropna() if "purity" in qc else pd.Series(dtype=float)
    parts = [f"  {lib}-RNA: {a.n_obs} samples x {a.n_vars} features"]
    if len(purity):
        parts.append(f"purity {purity.median():.2f}")
    if "enrichment" in a.uns:
        parts.append(f"{int(a.var['mito_enriched'].sum())} mito-enriched")
    conc = a.uns.get("concordance", {})
    if conc:  # the verdicts over the studies that match the run's drug/cancer (see #13)
        counts = ", ".join(f"{k} {v}" for k, v in conc.get("summary", {}).items())
        scope = conc.get("params", {}).get("summary_scope", "")
        parts.append(f"concordance {counts}" + (f" ({scope} studies)" if scope else ""))
    return "; ".join(parts)


def _attach_log(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.setLevel(logging.INFO)
    handler._mtncrna_level = logger.level  # type: ignore[attr-defined]
    logger.addHandler(handler)
    if logger.level > logging.INFO or logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
        for h in logger.handlers:
            if h is not handler and not isinstance(h, logging.NullHandler):
                h.setLevel(max(h.level, logging.WARNING))
    return handler


def _detach_log(handler: logging.Handler) -> None:
    logger.removeHandler(handler)
    handler.close()
    logger.setLevel(getattr(handler, "_mtncrna_level", logging.NOTSET))


class _Progress:
    """A rich progress bar when asked (the CLI on a terminal), else silent."""

    def __init__(self, enabled: bool, total: int) -> None:
        self._p = None
        if enabled:
            from rich.progress import Progress

            self._p = Progress(transient=True)
            self._p.start()
            self._task = self._p.add_task("mtncrna run", total=total)

    def step(self, what: str) -> None:
        logger.info("done: %s", what)
        if self._p is not None:
            self._p.update(self._task, advance=1, description=what)

    def close(self) -> None:
        if self._p is not None:
            self._p.stop()
