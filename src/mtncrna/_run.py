"""``mtncrna run CONFIG.yaml``: every analysis the data allow, tables, .h5ad files and a report.

The config (YAML) names the inputs and the questions; it is validated before any work starts
(unknown keys, missing files, contrast levels that are not in the sample sheet), so a typo fails
in the first second with one clear line.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ._errors import InputError, MtncrnaError

logger = logging.getLogger("mtncrna")

#: Documented config keys and their defaults (``None``: optional, no default).
DEFAULTS: dict[str, Any] = {
    "samples": None,  # sample sheet (required)
    "small": None,  # small-RNA count table(s) or .h5ad
    "long": None,  # long-RNA count table(s) or .h5ad
    "format": "auto",
    "reference": None,  # your own evidence table, merged into the bundled reference
    "fraction_column": "fraction",
    "mito": "mito",
    "versus": "cytosol",
    "design": "~ cell_line + condition",  # DE design (terms that vary are kept)
    "contrasts": [["condition", "resistant", "parental"]],
    "de_by_fraction": True,  # DE within each fraction (else on all samples)
    "interaction": "condition",  # fraction x this factor in the enrichment
    "drug": None,
    "cancer": None,
    "alpha": 0.1,
    "enrichment_alpha": 0.05,
    "enrichment_lfc_threshold": 0.5,
    "signature_alpha": 0.05,
    "signature_lfc_threshold": 1.0,
    "targets": None,  # miRNA-target table (mirna, target); default: the reference's pairs
    "title": "mtncrna report",
}


@dataclass
class RunConfig:
    """A validated run configuration (paths resolved against the config file's folder)."""

    values: dict[str, Any]
    path: Path | None = None
    inputs: list[Path] = field(default_factory=list)
    pairs: pd.DataFrame | None = None  # the parsed ``targets`` table

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def _fail(path: Path | None, message: str) -> None:
    raise InputError(path, message)


def validate_config(raw: dict[str, Any], path: Path | None = None) -> RunConfig:
    """Check keys, files and contrast levels; return a :class:`RunConfig`."""
    if not isinstance(raw, dict):
        _fail(path, "expected a mapping of keys to values (YAML), e.g. 'samples: samples.csv'")
    for key in raw:
        if key not in DEFAULTS:
            close = difflib.get_close_matches(str(key), list(DEFAULTS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            _fail(path, f"unknown key '{key}'{hint}; known keys: {', '.join(DEFAULTS)}")
    values = {**DEFAULTS, **raw}
    base = path.parent if path is not None else Path.cwd()
    if not values["samples"]:
        _fail(path, "'samples' (the sample sheet) is required")
    if not values["small"] and not values["long"]:
        _fail(path, "give 'small' and/or 'long': the count table(s) to analyse")
    inputs: list[Path] = []
    for key in ("samples", "small", "long", "reference", "targets"):
        v = values[key]
        if v is None:
            continue
        items = v if isinstance(v, list) else [v]
        resolved = []
        for item in items:
            p = Path(str(item))
            p = p if p.is_absolute() else base / p
            if not p.exists():
                _fail(path, f"{key}: file not found: {p}")
            resolved.append(p)
            inputs.append(p)
        values[key] = resolved if isinstance(v, list) else resolved[0]
    pairs = None
    if values["targets"] is not None:
        from .io import read_result_table

        pairs = read_result_table(
            values["targets"], required=("mirna", "target"), what="a miRNA-target table"
        )
    contrasts = values["contrasts"]
    if not isinstance(contrasts, list) or not all(
        isinstance(c, (list, tuple)) and len(c) == 3 for c in contrasts
    ):
        _fail(path, "'contrasts' must be a list of [factor, numerator, denominator]")
    from .io import read_sample_sheet

    sheet = read_sample_sheet(values["samples"])
    for factor, num, den in contrasts:
        if factor not in sheet.columns:
            _fail(
                path,
                f"contrast factor '{factor}' is not a sample sheet column "
                f"({', '.join(sheet.columns)})",
            )
        levels = set(sheet[factor].astype(str))
        for lv in (num, den):
            if str(lv) not in levels:
                _fail(
                    path,
                    f"contrast level '{lv}' is not a value of '{factor}' in the sample "
                    f"sheet ({', '.join(sorted(levels))})",
                )
    return RunConfig(values, path, inputs, pairs)


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a YAML run configuration."""
    import yaml

    from .io._text import read_bytes

    p = Path(path)
    try:
        raw = yaml.safe_load(read_bytes(p).decode("utf-8-sig"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(p, f"not valid YAML: {getattr(exc, 'problem', exc)}", line=line) from None
    return validate_config(raw or {}, p)


def _terms_that_vary(design: str, obs: pd.DataFrame) -> str:
    rhs = [t.strip() for t in design.split("~", 1)[1].split("+")]
    keep = [t for t in rhs if (t in obs.columns and obs[t].nunique() > 1) or ":" in t]
    return "~ " + (" + ".join(keep) if keep else "1")


def run(config: RunConfig, outdir: str | Path, *, progress: bool = False) -> str:
    """Run every analysis the data allow and write tables, .h5ad files and ``report.html``."""
    from . import get, pp, report, tl
    from ._provenance import record
    from .io import atomic_path, read_counts, write_h5ad, write_provenance, write_table

    c = config
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    inputs = c.inputs
    written: list[Path] = []
    lines = [f"mtncrna run -> {out}/"]
    libs = {}
    for lib in ("small", "long"):
        if c[lib] is not None:
            libs[lib] = read_counts(
                c[lib],
                c["samples"],
                library=lib,
                format=c["format"],
                drop_unmatched=True,
                reference=c["reference"],
            )
    steps = ["qc", "enrichment", "de", "concordance"]
    task_total = len(libs) * len(steps) + 2
    bar = _progress(progress, task_total)
    contrasts = [tuple(map(str, x)) for x in c["contrasts"]]
    fkey = c["fraction_column"]
    de_keys: list[str] = []
    for lib, a in libs.items():
        fractions = sorted(a.obs[fkey].astype(str).unique()) if fkey in a.obs else []
        pp.qc(a, fraction_key=fkey, mito=c["mito"], reference=c["versus"])
        bar.step(f"{lib}: QC")
        tables = {f"{lib}_qc.tsv": get.qc_df(a)}
        if c["mito"] in fractions and c["versus"] in fractions:
            inter = c["interaction"] if c["interaction"] in a.obs.columns else None
            tl.enrichment(
                a,
                fraction_key=fkey,
                mito=c["mito"],
                versus=c["versus"],
                interaction=inter,
                alpha=c["enrichment_alpha"],
                lfc_threshold=c["enrichment_lfc_threshold"],
            )
            tables[f"{lib}_enrichment_{c['mito']}_vs_{c['versus']}.tsv"] = get.enrichment_df(a)
            for name in a.uns["enrichment"].get("interaction", {}):
                tables[f"{lib}_interaction_{name}.tsv"] = get.enrichment_df(a, interaction=name)
        bar.step(f"{lib}: enrichment")
        subsets = (
            [(f, {fkey: f}) for f in fractions]
            if c["de_by_fraction"] and fractions
            else [("all", None)]
        )
        for label, subset in subsets:
            sub_obs = a.obs if subset is None else a.obs[a.obs[fkey].astype(str) == label]
            design = _terms_that_vary(c["design"], sub_obs)
            key = f"de_{label}"
            tl.de(
                a,
                design=design,
                contrasts=contrasts,
                subset=subset,
                alpha=c["alpha"],
                key_added=key,
            )
            if key not in de_keys:
                de_keys.append(key)
            for name in a.uns[key]["results"]:
                tables[f"{lib}_de_{label}_{name}.tsv"] = get.de_df(a, name, key=key)
        bar.step(f"{lib}: differential expression")
        first = de_keys[0] if "de_cytosol" not in a.uns else "de_cytosol"
        first_contrast = next(iter(a.uns[first]["results"]))
        tl.concordance(
            a,
            key=first,
            contrast=first_contrast,
            drug=c["drug"],
            cancer=c["cancer"],
            alpha=c["alpha"],
        )
        tables[f"{lib}_concordance.tsv"] = get.concordance_df(a)
        bar.step(f"{lib}: concordance")
        for name, df in tables.items():
            written.append(write_table(df, out / name, inputs=inputs))
        written.append(write_h5ad(a, out / f"{lib}.h5ad", inputs=inputs))
        lines.append(_summary_line(lib, a, tables))
    known = []
    for lib, a in libs.items():
        k = get.annotation_df(a, known_only=True)
        k.insert(0, "library", lib)
        known.append(k)
    written.append(
        write_table(pd.concat(known, ignore_index=True), out / "known_mtncrnas.tsv", inputs=inputs)
    )
    sig = None
    if "small" in libs:
        a = libs["small"]
        de_tables = {k: get.de_df(a, key=k) for k in de_keys if k in a.uns}
        sig = tl.signature(
            de_tables, alpha=c["signature_alpha"], lfc_threshold=c["signature_lfc_threshold"]
        )
        if len(sig):
            tl.score(a, sig)
            written.append(write_table(sig, out / "signature.tsv", inputs=inputs))
            gmt = out / "signature.gmt"
            with atomic_path(gmt) as tmp:
                tmp.write_text(tl.to_gmt(sig))
            written.append(gmt)
            lines.append(f"  signature: {len(sig)} features")
    bar.step("signature")
    pairs = None
    skip_notes: dict[str, str] = {}
    if "small" in libs and "long" in libs:
        try:
            pairs = tl.integrate(libs["small"], libs["long"], pairs=c.pairs)
        except MtncrnaError as exc:  # e.g. too few shared samples: say why it was skipped
            lines.append(f"  integration skipped: {exc}")
            skip_notes["integration"] = str(exc)
        else:
            written.append(write_table(pairs, out / "mirna_target_pairs.tsv", inputs=inputs))
            lines.append(
                f"  integration: {int(pairs['coupled'].sum())} of {len(pairs)} pairs coupled"
            )
    bar.step("integration")
    prov = record(
        step="run",
        inputs=[("input", p) for p in inputs],
        parameters={k: (str(v) if isinstance(v, Path) else v) for k, v in c.values.items()},
        reference_version=next(iter(libs.values())).uns["mtncrna"]["annotate"]["reference_version"],
    )
    written.append(
        report.render(
            libs,
            out / "report.html",
            title=c["title"],
            de_keys=tuple(de_keys),
            pairs=pairs,
            signature=sig if sig is not None and len(sig) else None,
            provenance=prov,
            notes=skip_notes,
        )
    )
    for name, text in report.multiqc_files(libs).items():  # MultiQC custom content
        with atomic_path(out / name) as tmp:
            tmp.write_text(text, encoding="utf-8")
        written.append(out / name)
    write_provenance(out / "provenance.json", prov, written)
    bar.close()
    lines.append(f"  wrote {len(written)} files and provenance.json; open {out}/report.html")
    return "\n".join(lines)


def _summary_line(lib: str, a: Any, tables: dict[str, pd.DataFrame]) -> str:
    qc = tables[f"{lib}_qc.tsv"]
    purity = qc["purity"].dropna()
    parts = [f"  {lib}-RNA: {a.n_obs} samples x {a.n_vars} features"]
    if len(purity):
        parts.append(f"purity {purity.median():.2f}")
    if "enrichment" in a.uns:
        parts.append(f"{int(a.var['mito_enriched'].sum())} mito-enriched")
    conc = a.uns.get("concordance", {}).get("table")
    if conc is not None:
        counts = pd.DataFrame(conc)["verdict"].value_counts()
        parts.append("concordance " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return "; ".join(parts)


class _progress:
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
