"""Write FASTQ reads of a simulated library with a chosen strandedness (stdlib only).

    python3 stranded_fastq.py SAM STRANDEDNESS OUT.fastq [--seed N]

SAM is one of simulate_reads.py's sam/S*.sam files; STRANDEDNESS is unstranded, forward or
reverse. Every primary record becomes one read (secondary records are skipped). A read that lies
in a gene of ``simulate_reads.GENES`` is given the orientation the protocol would give it:
``forward`` (e.g. Ligation / SMARTer stranded) reads the gene's strand, ``reverse`` (dUTP /
Illumina TruSeq stranded) the opposite strand, each with 2% of reads the other way (antisense
transcription, imperfect second-strand marking). ``unstranded`` keeps the SAM's random
orientation. Reads outside genes and unmapped reads keep their SAM orientation.
"""

from __future__ import annotations

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simulate_reads import GENES, revcomp

WRONG_WAY = 0.02


def gene_strand(chrom: str, pos: int) -> str | None:
    for _gid, _name, _bt, c, strand, exons in GENES:
        if c == chrom and exons[0][0] <= pos <= exons[-1][1]:
            return strand
    return None


def main(argv: list[str]) -> None:
    sam, mode, out = argv[:3]
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 7
    if mode not in ("unstranded", "forward", "reverse"):
        raise SystemExit(f"unknown strandedness {mode}")
    rng = random.Random(seed)
    with open(sam) as fh, open(out, "w") as fo:
        for line in fh:
            if line.startswith("@"):
                continue
            f = line.rstrip("\n").split("\t")
            flag = int(f[1])
            if flag & 256:
                continue
            seq = f[9]  # genomic orientation for mapped reads
            read = revcomp(seq) if flag & 16 else seq
            strand = gene_strand(f[2], int(f[3])) if not flag & 4 else None
            if mode != "unstranded" and strand is not None:
                sense = (mode == "forward") != (rng.random() < WRONG_WAY)
                plus = (strand == "+") == sense
                read = seq if plus else revcomp(seq)
            fo.write(f"@{f[0]}\n{read}\n+\n{f[10]}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
