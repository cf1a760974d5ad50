"""MultiQC custom content: mtncrna's per-sample QC as ``*_mqc.yaml`` files.

``multiqc results/`` picks these files up (MultiQC's custom-content search pattern ``*_mqc.*``)
and shows mtncrna sections beside FastQC and featureCounts: a General Statistics column set,
library composition by RNA class, the purity of the mitochondrial preparations and, when the
run started from reads, what happened to the reads (adapters, lengths, assignment).
The functions return file name -> text; the caller writes them (atomically) where it wants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

if TYPE_CHECKING:
    import anndata as ad
    import pandas as pd

CLASSES = ("mitomiR", "mito-lncRNA", "mt-tRNA", "mt-rRNA", "mt-mRNA", "other")
# every read ends in exactly one of these (reads_in = removed + passed; passed reads, or their
# UMI molecules, = miRNA + mt-tRNA + mt-rRNA + other mt + unassigned)
REMOVED = ("adapter_dimer", "too_short", "too_long", "umi_missing")
ASSIGNED = ("mirna", "mt_trna", "mt_rrna", "mt_other", "unassigned")


def _num(v: Any) -> Any:
    if isinstance(v, (np.integer, int)) and not isinstance(v, bool):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else round(float(v), 4)
    return v


def _dump(doc: dict) -> str:
    return "# mtncrna MultiQC custom content (https://docs.seqera.io/multiqc)\n" + yaml.safe_dump(
        doc, sort_keys=False, allow_unicode=True
    )


def multiqc_files(libraries: Mapping[str, ad.AnnData]) -> dict[str, str]:
    """MultiQC custom-content files for analysed libraries (needs :func:`mtncrna.pp.qc`).

    Per library: ``mtncrna_<lib>_general_stats_mqc.yaml`` (reads, detected features, % mitomiR,
    % mtDNA-encoded, purity), ``mtncrna_<lib>_composition_mqc.yaml`` (reads per RNA class,
    bar graph) and, with mito and cytosol samples, ``mtncrna_<lib>_purity_mqc.yaml``
    (mitochondrial vs cytosolic share of each mito library).
    """
    import pandas as pd

    out: dict[str, str] = {}
    for order, (lib, a) in enumerate(libraries.items()):
        if "total_counts" not in a.obs.columns:
            continue
        obs = a.obs
        name = f"{lib}-RNA"
        data: dict[str, dict[str, Any]] = {}
        for s, r in obs.iterrows():
            row = {
                f"{lib}_reads": _num(r["total_counts"]),
                f"{lib}_detected": _num(r["n_detected"]),
                f"{lib}_pct_mitomiR": _num(r.get("pct_mitomiR", np.nan)),
                f"{lib}_pct_mt_encoded": _num(r.get("pct_mt_encoded", np.nan)),
            }
            if pd.notna(r.get("purity", np.nan)):
                row[f"{lib}_purity"] = _num(100 * r["purity"])
            data[str(s)] = {k: v for k, v in row.items() if v is not None}
        if "pct_mitomiR" in obs and not (obs["pct_mitomiR"] > 0).any():  # e.g. long RNA
            for row in data.values():
                row.pop(f"{lib}_pct_mitomiR", None)
        headers: dict[str, dict[str, Any]] = {
            f"{lib}_reads": {
                "title": f"{lib} reads",
                "description": f"{name}: reads counted on features (mtncrna)",
                "format": "{:,.0f}",
                "scale": "Blues",
            },
            f"{lib}_detected": {
                "title": f"{lib} features",
                "description": f"{name}: features with at least one read",
                "format": "{:,.0f}",
                "hidden": True,
            },
            f"{lib}_pct_mitomiR": {
                "title": f"{lib} % mitomiR",
                "description": f"{name}: % of reads on known mitochondria-associated miRNAs",
                "suffix": "%",
                "min": 0,
                "max": 100,
                "scale": "Oranges",
            },
            f"{lib}_pct_mt_encoded": {
                "title": f"{lib} % mtDNA",
                "description": f"{name}: % of reads on mtDNA-encoded RNAs",
                "suffix": "%",
                "min": 0,
                "max": 100,
                "scale": "Greens",
            },
            f"{lib}_purity": {
                "title": f"{lib} mito purity",
                "description": (
                    f"{name}: estimated share of a mito library that is mitochondrial "
                    "(100 % - cytosolic contamination); mito samples only"
                ),
                "suffix": "%",
                "min": 0,
                "max": 100,
                "scale": "RdYlGn",
            },
        }
        out[f"mtncrna_{lib}_general_stats_mqc.yaml"] = _dump(
            {
                "id": f"mtncrna_{lib}_general_stats",
                "plot_type": "generalstats",
                "pconfig": [{k: v} for k, v in headers.items()],
                "data": data,
            }
        )
        comp = {}
        for s, r in obs.iterrows():
            comp[str(s)] = {
                cls: int(np.rint(r["total_counts"] * r[f"pct_{cls.replace('-', '_')}"] / 100))
                for cls in CLASSES
                if f"pct_{cls.replace('-', '_')}" in obs.columns
            }
        from ..pl import CLASS_COLOURS

        out[f"mtncrna_{lib}_composition_mqc.yaml"] = _dump(
            {
                "id": f"mtncrna_{lib}_composition",
                "section_name": f"mtncrna: {name} composition",
                "description": (
                    f"{name} reads per RNA class (mtncrna reference annotation): mitomiRs, "
                    "mito-lncRNAs and the mtDNA-encoded tRNAs, rRNAs and mRNAs."
                ),
                "plot_type": "bargraph",
                "order": -1000 - order,
                "pconfig": {
                    "id": f"mtncrna_{lib}_composition_plot",
                    "title": f"mtncrna: {name} reads per RNA class",
                    "ylab": "reads",
                },
                "categories": {c: {"name": c, "color": CLASS_COLOURS[c]} for c in CLASSES},
                "data": comp,
            }
        )
        mito = obs[obs["purity"].notna()] if "purity" in obs.columns else obs.iloc[:0]
        if len(mito):
            out[f"mtncrna_{lib}_purity_mqc.yaml"] = _dump(
                {
                    "id": f"mtncrna_{lib}_purity",
                    "section_name": f"mtncrna: {name} mitochondrial purity",
                    "description": (
                        "Estimated composition of each mitochondrial library: the cytosolic "
                        "contamination is the median ratio, over expressed presumed-cytosolic "
                        "features, of their share in the mito library to their share in the "
                        "matched cytosolic library (mtncrna.pp.qc)."
                    ),
                    "plot_type": "bargraph",
                    "order": -1010 - order,
                    "pconfig": {
                        "id": f"mtncrna_{lib}_purity_plot",
                        "title": f"mtncrna: {name} mitochondrial purity",
                        "ylab": "% of library",
                        "cpswitch": False,
                        "ymax": 100,
                    },
                    "categories": {
                        "mitochondrial": {"name": "mitochondrial", "color": "#228833"},
                        "cytosolic": {"name": "cytosolic contamination", "color": "#CCBB44"},
                    },
                    "data": {
                        str(s): {
                            "mitochondrial": round(100 * float(r["purity"]), 2),
                            "cytosolic": round(100 * float(r["contamination"]), 2),
                        }
                        for s, r in mito.iterrows()
                    },
                }
            )
    return out


def multiqc_read_qc(qc: pd.DataFrame | Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """MultiQC files for the read-level QC of ``mtncrna quant smallrna``: its ``qc.tsv`` frame
    (samples x counters, or a ``sample`` column), or the same as ``{sample: {counter: value}}``
    (:meth:`mtncrna.quant.SmallRnaResult.qc_rows`, no pandas needed).

    ``mtncrna_reads_mqc.yaml``: what happened to every read (adapter dimers, too short/long,
    no adapter, assigned to miRNAs or mt-tRNA/rRNA fragments, unassigned);
    ``mtncrna_lengths_mqc.yaml``: insert length distribution after trimming.
    """
    if isinstance(qc, Mapping):
        rows = {str(s): dict(r) for s, r in qc.items()}
    else:
        frame = qc.set_index("sample") if "sample" in qc.columns else qc
        rows = {str(s): r.to_dict() for s, r in frame.iterrows()}
    columns = list(dict.fromkeys(c for r in rows.values() for c in r))
    data = {}
    for s, r in rows.items():
        row = {c: _num(r[c]) for c in REMOVED if c in r}
        if "molecules" in r and r.get("molecules") == r.get("passed"):
            row.update({c: _num(r[c]) for c in ASSIGNED if c in r})
        else:  # UMI-deduplicated: assignments count molecules, not reads
            row["passed"] = _num(r["passed"])
        data[s] = row
    out = {
        "mtncrna_reads_mqc.yaml": _dump(
            {
                "id": "mtncrna_reads",
                "section_name": "mtncrna: small-RNA reads",
                "description": (
                    "Fate of every read in mtncrna quant smallrna: removed by adapter trimming "
                    "(adapter dimers, inserts too short or too long, UMI missing) or assigned to "
                    "miRNAs, mitochondrial tRNA/rRNA fragments and other mtDNA loci (with UMIs: "
                    "passed, as assignments then count molecules)."
                ),
                "plot_type": "bargraph",
                "order": -990,
                "pconfig": {
                    "id": "mtncrna_reads_plot",
                    "title": "mtncrna: small-RNA read fates",
                    "ylab": "reads",
                },
                "data": data,
            }
        )
    }
    lens = sorted((int(c[4:]), c) for c in columns if c.startswith("len_") and c[4:].isdigit())
    if lens:
        out["mtncrna_lengths_mqc.yaml"] = _dump(
            {
                "id": "mtncrna_lengths",
                "section_name": "mtncrna: insert lengths",
                "description": (
                    "Length of the inserts after adapter trimming (miRNAs peak at 21-23 nt, "
                    "tRNA fragments around 30-35 nt)."
                ),
                "plot_type": "linegraph",
                "order": -995,
                "pconfig": {
                    "id": "mtncrna_lengths_plot",
                    "title": "mtncrna: insert length distribution",
                    "xlab": "insert length (nt)",
                    "ylab": "reads",
                },
                "data": {s: {n: _num(r.get(c)) for n, c in lens} for s, r in rows.items()},
            }
        )
    return out
