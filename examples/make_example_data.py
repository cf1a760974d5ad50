"""Write the bundled example study (examples/data/) from the seeded toy generator.

    python examples/make_example_data.py

The files are what a user would bring: a miRNA x sample table, a gene x sample table and a
sample sheet. Re-running with the same package version and seed gives identical files.
"""

from __future__ import annotations

from pathlib import Path

import mtncrna as mt

SEED = 0
OUT = Path(__file__).resolve().parent / "data"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    small = mt.datasets.toy("small", seed=SEED)
    long_ = mt.datasets.toy("long", seed=SEED + 1)
    sheet = small.obs.copy()
    sheet.index.name = "sample"
    sheet.to_csv(OUT / "samples.csv")
    for adata, name, id_col in (
        (small, "small_rna_counts.tsv", "miRNA"),
        (long_, "long_rna_counts.tsv", "gene"),
    ):
        table = adata.to_df().T
        table.index.name = id_col
        table.to_csv(OUT / name, sep="\t")
        print(f"wrote {OUT / name}: {adata.n_vars} features x {adata.n_obs} samples")
    print(f"wrote {OUT / 'samples.csv'}")


if __name__ == "__main__":
    main()
