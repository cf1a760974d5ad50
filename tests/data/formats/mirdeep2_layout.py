"""Write miRDeep2 quantifier.pl's ``miRNAs_expressed_all_samples_<time>.csv`` (stdlib + bowtie).

    python3 mirdeep2_layout.py WORKDIR HAIRPIN.fa MATURE.fa CODE=READS.fastq ... OUT.csv

miRDeep2 itself is not run (it is GPL-3 Perl with many dependencies); this script reproduces what
its quantifier module does, step by step, from its source (rajewsky-lab/mirdeep2,
src/quantifier.pl, v2.0.1.3, sub Mapping, ReadinMatureMappingFile, ReadinReadsMappingFile and
PrintExpressionValuesSamples):

* reads are collapsed per sample into ``>CODE_<n>_x<count>`` (mapper.pl ``-c -m``), CODE being
  the three-letter sample code of mapper.pl's config file;
* precursors and reads go U->T; mature sequences are mapped to the precursors with
  ``bowtie -f -v 0 -a --best --strata --norc`` and reads with ``-v 1`` (quantifier's defaults);
* a mature/precursor pair is kept only when the names agree (quantifier without ``-k``):
  ``hsa-miR-16-5p`` on ``hsa-mir-16-2`` yes, ``hsa-let-7a-5p`` on ``hsa-let-7c`` no;
* a read counts for a mature when it lies from 2 nt upstream to 5 nt downstream of it, on
  every precursor it maps to (so a mature on two precursors gets the same reads twice);
* the table: ``#miRNA read_count precursor total`` then one column per sample code (sorted)
  and one ``CODE(norm)`` column each; one row per mature x precursor, precursors sorted; counts
  printed ``%.2f`` when > 0 and ``0`` otherwise; norm is 1e6 * count / the sample's reads on
  matures.

The hairpin set is the simulated world's, plus ``hsa-mir-16-2``: a copy of ``hsa-mir-16-1``
with a different loop, as miRBase's two precursors of hsa-miR-16-5p.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict

UPSTREAM, DOWNSTREAM = 2, 5


def read_fasta(path: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    name, seq = None, []
    for line in open(path):
        line = line.strip()
        if line.startswith(">"):
            if name is not None:
                out.append((name, "".join(seq)))
            name, seq = line[1:].split()[0], []
        elif line:
            seq.append(line.upper().replace("U", "T"))
    if name is not None:
        out.append((name, "".join(seq)))
    return out


def read_fastq_seqs(path: str) -> list[str]:
    with open(path) as fh:
        return [line.strip() for i, line in enumerate(fh) if i % 4 == 1]


def bowtie(index: str, fasta: str, mismatches: int) -> list[list[str]]:
    cmd = ["bowtie", "-f", "-v", str(mismatches), "-a", "--best", "--strata", "--norc"]
    res = subprocess.run([*cmd, index, fasta], check=True, capture_output=True, text=True)
    return [line.split("\t") for line in res.stdout.splitlines() if line]


def names_agree(mature: str, precursor: str) -> bool:
    m = re.sub(r"-[35]p", "", mature)
    p = precursor
    hit = re.match(r"^(\w+-\w+-\w+)-\d+$", p)
    if hit:
        p = hit.group(1)
    return bool(re.search(re.escape(p), m, re.I) or re.search(re.escape(m), p, re.I))


def main(argv: list[str]) -> None:
    work, hairpin_fa, mature_fa, *samples, out = argv
    os.makedirs(work, exist_ok=True)
    hairpins = read_fasta(hairpin_fa)
    h16 = dict(hairpins)["hsa-mir-16-1"]
    mid = len(h16) // 2
    loop = "".join({"A": "C", "C": "G", "G": "T", "T": "A"}[b] for b in h16[mid - 2 : mid + 2])
    hairpins.append(("hsa-mir-16-2", h16[: mid - 2] + loop + h16[mid + 2 :]))
    pre_fa = os.path.join(work, "precursor.converted")
    with open(pre_fa, "w") as fh:
        fh.writelines(f">{n}\n{s}\n" for n, s in hairpins)
    mat_fa = os.path.join(work, "mature.converted")
    with open(mat_fa, "w") as fh:
        fh.writelines(f">{n}\n{s}\n" for n, s in read_fasta(mature_fa))
    index = os.path.join(work, "miRNA_precursor")
    subprocess.run(["bowtie-build", "-q", pre_fa, index], check=True)
    # mature positions on precursors (1-based, inclusive)
    mature_pos: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for f in bowtie(index, mat_fa, 0):
        name, pre, off, seq = f[0], f[2], int(f[3]), f[4]
        if names_agree(name, pre):
            mature_pos[pre].append((name, off + 1, off + len(seq)))
    # collapsed reads per sample
    codes = []
    reads_fa = os.path.join(work, "reads_collapsed.fa")
    with open(reads_fa, "w") as fh:
        for spec in samples:
            code, path = spec.split("=", 1)
            codes.append(code)
            counts: dict[str, int] = defaultdict(int)
            for s in read_fastq_seqs(path):
                counts[s] += 1
            for i, (s, c) in enumerate(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))):
                fh.write(f">{code}_{i}_x{c}\n{s}\n")
    score: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in bowtie(index, reads_fa, 1):
        rid, pre, off, seq = f[0], f[2], int(f[3]), f[4]
        code, _, rest = rid.partition("_")
        n = int(rest.rsplit("_x", 1)[1])
        start, end = off + 1, off + len(seq)
        for name, ms, me in mature_pos.get(pre, []):
            if start >= ms - UPSTREAM and end <= me + DOWNSTREAM:
                score[(pre, name)][code] += n
    codes = sorted(codes)
    total = {c: sum(v.get(c, 0) for v in score.values()) for c in codes}
    with open(out, "w") as fh:
        fh.write("#miRNA\tread_count\tprecursor\ttotal")
        fh.write("".join(f"\t{c}" for c in codes))
        fh.write("".join(f"\t{c}(norm)" for c in codes))
        fh.write("\n")
        for pre in sorted(mature_pos):
            for name, _, _ in mature_pos[pre]:
                per = score.get((pre, name), {})
                tot = sum(per.values())
                fh.write("%s\t%.2f\t%s\t%.2f" % (name, tot, pre, tot))
                for c in codes:
                    fh.write("\t%.2f" % per[c] if per.get(c, 0) > 0 else "\t0")
                for c in codes:
                    v = per.get(c, 0)
                    fh.write("\t%.2f" % (1e6 * v / total[c]) if v > 0 else "\t0")
                fh.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
