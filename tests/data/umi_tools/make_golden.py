"""umi_tools' directional molecule counts, made by umi_tools itself, for tests/test_quant_smallrna.py.

The input is the QIAseq library of the test module's ``umi_library`` fixture (simulated: seed 21,
15,000 reads, 60 miRNAs, 0.5% errors per base, so ~6% of reads carry a UMI error), grouped per
miRNA by mtncrna's trimming and calls (``_per_feature_umis``): for every miRNA, each UMI and its
reads. umi_tools' ``UMIClusterer(cluster_method="directional")`` -- what ``umi_tools count
--method directional`` runs per gene -- clusters each miRNA's UMIs with threshold 1; the number of
clusters is its molecule count.

    python tests/data/umi_tools/make_golden.py

needs umi_tools (1.1.6 from PyPI builds only without isolation:
``pip install "setuptools<81" wheel cython && pip install --no-build-isolation umi_tools``).
Writes ``groups.tsv.gz`` (miRNA, UMI, reads: umi_tools' input) and ``directional.tsv`` (miRNA,
molecules: its output) beside this script. The test suite checks mtncrna's directional grouping
on ``groups.tsv.gz`` against ``directional.tsv`` without umi_tools installed.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # tests/

import umi_tools  # noqa: E402
from umi_tools.network import UMIClusterer  # noqa: E402

import test_quant_smallrna as t  # noqa: E402

# umi_tools visits UMIs of equal counts in the order it gets them: give them sorted
# A < C < G < T < N, the order mtncrna's own grouping uses for ties
CODE = {"A": "0", "C": "1", "G": "2", "T": "3", "N": "4"}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fq = Path(tmp) / "Q.fastq.gz"
        t.sim.simulate(fq, n_reads=15_000, seed=21, kit="qiaseq", n_mirnas=60, error_rate=0.005)
        groups = t._per_feature_umis(fq)
    clusterer = UMIClusterer(cluster_method="directional")
    rows, out = [], []
    for mirna in sorted(groups):
        per = groups[mirna]
        umis = sorted(per, key=lambda u: "".join(CODE[c] for c in u))
        rows += [f"{mirna}\t{u}\t{per[u]}\n" for u in umis]
        clusters = clusterer({u.encode(): per[u] for u in umis}, threshold=1)
        out.append(f"{mirna}\t{len(clusters)}\n")
    head = f"# umi_tools {umi_tools.__version__}, UMIClusterer(cluster_method='directional'), threshold 1\n"
    data = ("mirna\tumi\treads\n" + "".join(rows)).encode()
    (HERE / "groups.tsv.gz").write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    (HERE / "directional.tsv").write_text(head + "mirna\tmolecules\n" + "".join(out))


if __name__ == "__main__":
    main()
