"""BAM -> counts: the same numbers as featureCounts, on its own output and on hand-made cases."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest

from conftest import FORMATS, write
from mtncrna._errors import InputError, MtncrnaError
from mtncrna.quant import count_bam, read_annotation, write_counts
from mtncrna.quant._bam import SUMMARY_ROWS

BAMS = [FORMATS / "bam" / f"S{i}.sorted.bam" for i in range(1, 5)]
GTF = FORMATS / "world" / "genes.gtf"
FC = FORMATS / "featurecounts"


def read_fc(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """featureCounts output -> (annotation columns, counts with sample columns, summary)."""
    table = pd.read_csv(path, sep="\t", comment="#", index_col=0)
    counts = table.filter(regex=r"\.bam$")
    counts.columns = [re.sub(r"^.*/|(\.sorted)?\.bam$", "", c) for c in counts.columns]
    summary = pd.read_csv(path.with_name(path.name + ".summary"), sep="\t", index_col=0)
    summary.columns = counts.columns
    return table.iloc[:, :5], counts, summary


# --------------------------------------------------------------------------------------------
# the committed featureCounts 2.0.3 output on the committed BAMs
# --------------------------------------------------------------------------------------------


def test_counts_equal_featurecounts_defaults():
    ann, expected, summary = read_fc(FC / "counts.txt")
    result = count_bam(BAMS, GTF)
    assert result.samples == ["S1", "S2", "S3", "S4"]
    assert result.counts.dtypes.map(lambda d: d.kind == "i").all()
    pd.testing.assert_frame_equal(result.counts, expected, check_names=False)
    pd.testing.assert_frame_equal(
        result.summary.loc[list(summary.index)], summary, check_names=False
    )
    assert list(result.summary.index) == list(SUMMARY_ROWS) == list(summary.index)
    # featureCounts' annotation columns, multi-exon genes ;-joined
    assert (result.annotation["Length"] == ann["Length"]).all()
    assert (
        (
            result.annotation[["Chr", "Start", "End", "Strand"]].astype(str)
            == ann.iloc[:, :4].astype(str)
        )
        .all()
        .all()
    )


def test_counts_equal_featurecounts_min_mapq_10():
    _, expected, summary = read_fc(FC / "counts_q10_extra.txt")
    result = count_bam(BAMS, read_annotation(GTF), min_mapq=10, threads=2)
    pd.testing.assert_frame_equal(result.counts, expected, check_names=False)
    pd.testing.assert_frame_equal(result.summary, summary, check_names=False)
    # the MAPQ filter comes before the multi-mapping one (the NH:2 records have MAPQ 1)
    assert result.summary.loc["Unassigned_MultiMapping"].sum() == 0


def bgzf(data: bytes, size: int) -> bytes:
    """Re-block raw BAM bytes into BGZF blocks of ``size`` bytes (records cut anywhere)."""
    out = []
    for i in range(0, len(data) + 1, size):
        piece = data[i : i + size]
        if not piece:
            break
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        comp = c.compress(piece) + c.flush()
        out.append(
            b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
            + struct.pack("<H", len(comp) + 25)
            + comp
            + struct.pack("<II", zlib.crc32(piece), len(piece))
        )
    return b"".join(out) + bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def test_records_across_blocks_and_chunks(tmp_path, monkeypatch):
    """Records cut across tiny BGZF blocks, read a few blocks at a time, count the same."""
    from mtncrna.quant import _bam_input

    expected = count_bam(BAMS, GTF)
    small = []
    for bam in BAMS:
        with pysam.BGZFile(str(bam), "rb") as fh:
            raw = fh.read()
        small.append(tmp_path / bam.name)
        small[-1].write_bytes(bgzf(raw, 97))
    monkeypatch.setattr(_bam_input, "_CHUNK", 300)
    for threads in (1, 2):
        result = count_bam(small, GTF, threads=threads)
        pd.testing.assert_frame_equal(result.counts, expected.counts)
        pd.testing.assert_frame_equal(result.summary, expected.summary)
    # a block's inflated size disagreeing with its trailer is corruption
    bad = bytearray(small[0].read_bytes())
    bad[-28 - 4] ^= 1
    (tmp_path / "bad.bam").write_bytes(bytes(bad))
    with pytest.raises(InputError, match=r"bad\.bam: corrupt BGZF block"):
        count_bam(tmp_path / "bad.bam", GTF)


def test_write_counts_loads_with_import(tmp_path):
    import mtncrna as mt

    result = count_bam(BAMS, GTF)
    out, summary = write_counts(result, tmp_path / "counts.tsv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counts.tsv", "counts.tsv.summary"]
    assert summary.name == "counts.tsv.summary"
    header = "Geneid Chr Start End Strand Length gene_name gene_biotype S1 S2 S3 S4"
    assert out.read_text().splitlines()[0].split("\t") == header.split()
    adata = mt.read_counts(out, annotate=False)
    assert list(adata.obs_names) == ["S1", "S2", "S3", "S4"]
    np.testing.assert_array_equal(np.asarray(adata.X).T, result.counts.to_numpy())
    assert (adata.obs["featurecounts_Assigned"] == [271, 418, 187, 324]).all()
    assert adata.var.loc["ENSG00000240405", "gene_name"] == "SAMMSON"
    with pytest.raises(MtncrnaError, match="overwrite the input"):
        write_counts(result, BAMS[0])


def test_cli_writes_provenance_and_replaces_the_set_whole(run_cli, tmp_path, monkeypatch):
    """``quant bam`` records what made the table (versions, options, sha256 of every input) and
    replaces table, summary and provenance together: a failure while writing keeps the old set."""
    import hashlib
    import json

    out = tmp_path / "counts.tsv"
    code, stdout, err = run_cli(
        "quant", "bam", *BAMS[:2], "-a", GTF, "--strand", "forward", "-o", out
    )
    assert code == 0, err
    assert "provenance: counts.provenance.json" in stdout
    prov = json.loads((tmp_path / "counts.provenance.json").read_text())
    assert prov["step"] == "quant bam" and "numba" in prov["versions"]
    assert prov["parameters"]["strand"] == "forward"
    digests = dict(zip(prov["inputs"]["path"], prov["inputs"]["sha256"], strict=True))
    for p in [*BAMS[:2], GTF]:
        assert digests[str(p)] == hashlib.sha256(p.read_bytes()).hexdigest()
    written = {o["path"]: o["sha256"] for o in prov["outputs"]}
    for name in ("counts.tsv", "counts.tsv.summary"):
        assert written[name] == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    import mtncrna.io._write as w

    real = w.to_tsv
    calls = []

    def failing(df, path, **kw):  # the summary is written, then the table fails half-way
        calls.append(path)
        if len(calls) == 2:
            Path(path).write_text("Geneid\tChr\n")
            raise OSError(28, "No space left on device")
        return real(df, path, **kw)

    monkeypatch.setattr("mtncrna.quant._counts.to_tsv", failing)
    code, _, err = run_cli("quant", "bam", *BAMS, "-a", GTF, "-o", out)
    assert code == 2 and "No space left on device" in err and len(err.strip().splitlines()) == 1
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# --------------------------------------------------------------------------------------------
# hand-made BAMs
# --------------------------------------------------------------------------------------------

TINY_GTF = (
    "\n".join(
        f'{c}\tt\texon\t{s}\t{e}\t.\t{st}\t.\tgene_id "{g}"; transcript_id "{g}.1";'
        for c, s, e, st, g in [
            ("chr1", 101, 200, "+", "A"),
            ("chr1", 181, 300, "-", "B"),  # overlaps A on 181-200, other strand
            ("chr1", 1001, 1100, "+", "C"),
            ("chr1", 1301, 1400, "+", "C"),
            ("chr1", 1150, 1250, "+", "D"),  # inside C's intron
            ("chr1", 2001, 2100, "+", "E"),
            ("chr1", 2111, 2114, "+", "F"),  # inside a deletion of one read
            ("MT", 1, 70, "+", "MT-TF"),
        ]
    )
    + "\n"
)


def sam_line(name, flag, chrom, pos, cigar, *, mapq=60, tags="NH:i:1"):
    qlen = sum(int(n) for n, op in re.findall(r"(\d+)([MIS=X])", cigar))
    seq = "ACGT" * (qlen // 4 + 1)
    fields = [name, str(flag), chrom, str(pos), str(mapq), cigar, "*", "0", "0", seq[:qlen], "*"]
    if flag & 4:
        fields[2:6] = ["*", "0", "0", "*"]
    return "\t".join(fields + ([tags] if tags else []))


def make_bam(path: Path, lines, refs=(("chr1", 5000), ("chr2", 5000), ("chrM", 16569))) -> Path:
    header = pysam.AlignmentHeader.from_dict(
        {"HD": {"VN": "1.6", "SO": "unsorted"}, "SQ": [{"SN": n, "LN": ln} for n, ln in refs]}
    )
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for line in lines:
            out.write(pysam.AlignedSegment.fromstring(line, header))
    return path


@pytest.fixture
def tiny(tmp_path):
    gtf = write(tmp_path / "tiny.gtf", TINY_GTF)
    reads = [
        sam_line("a1", 0, "chr1", 121, "50M"),  # A only
        sam_line("ab", 0, "chr1", 171, "30M"),  # A(+) and B(-): ambiguous unless stranded
        sam_line("b1", 16, "chr1", 251, "40M"),  # B only, reverse strand
        sam_line("c1", 0, "chr1", 1051, "50M200N50M"),  # C; its intron spans D
        sam_line("e1", 0, "chr1", 2091, "20M5D20M"),  # E; F (2111-2114) is inside the deletion
        sam_line("m1", 0, "chr1", 131, "40M", mapq=1, tags="NH:i:2\tHI:i:1"),  # A
        sam_line("m1", 256, "chr1", 1021, "40M", mapq=1, tags="NH:i:2\tHI:i:2"),  # C
        sam_line("mt", 0, "chrM", 11, "40M"),  # BAM chrM, GTF MT
        sam_line("ig", 0, "chr1", 3001, "40M"),  # intergenic
        sam_line("lq", 0, "chr1", 141, "40M", mapq=3),  # A, low MAPQ
        sam_line("un", 4, "*", 0, "*", tags=""),
    ]
    return make_bam(tmp_path / "tiny.bam", reads), gtf


def counts_of(result, sample="tiny"):
    return result.counts[sample].to_dict()


def test_tiny_defaults(tiny):
    bam, gtf = tiny
    r = count_bam(bam, gtf)
    assert counts_of(r) == {"A": 2, "B": 1, "C": 1, "D": 0, "E": 1, "F": 0, "MT-TF": 1}
    s = r.summary["tiny"]
    assert s["Assigned"] == 6
    assert s["Unassigned_Ambiguity"] == 1
    assert s["Unassigned_MultiMapping"] == 2  # both records of the NH:2 read
    assert s["Unassigned_NoFeatures"] == 1
    assert s["Unassigned_Unmapped"] == 1
    assert s["Unassigned_MappingQuality"] == 0


def test_tiny_strand_rules(tiny):
    bam, gtf = tiny
    fwd = count_bam(bam, gtf, strand="forward")
    # ab (+) now hits only A; b1 (-) matches B (-)
    assert counts_of(fwd) == {"A": 3, "B": 1, "C": 1, "D": 0, "E": 1, "F": 0, "MT-TF": 1}
    rev = count_bam(bam, gtf, strand="reverse")
    # ab (+) hits only B (-); b1 (-) needs a + gene: none; a1, lq, c1, e1, mt need - genes
    assert counts_of(rev) == {"A": 0, "B": 1, "C": 0, "D": 0, "E": 0, "F": 0, "MT-TF": 0}
    assert rev.summary.loc["Unassigned_NoFeatures", "tiny"] == 7


def test_tiny_multimappers(tiny):
    bam, gtf = tiny
    unique = counts_of(count_bam(bam, gtf, multimap="unique"))
    everything = counts_of(count_bam(bam, gtf, multimap="all"))
    frac = count_bam(bam, gtf, multimap="fraction")
    assert everything["A"] == unique["A"] + 1 and everything["C"] == unique["C"] + 1
    assert frac.counts.dtypes.iloc[0].kind == "f"
    assert counts_of(frac)["A"] == unique["A"] + 0.5
    assert counts_of(frac)["C"] == unique["C"] + 0.5
    assert frac.summary.loc["Assigned", "tiny"] == 8  # records, not fractions
    primary = count_bam(bam, gtf, multimap="all", primary_only=True)
    assert counts_of(primary)["C"] == unique["C"]
    assert primary.summary.loc["Unassigned_Secondary", "tiny"] == 1
    # MAPQ is checked before NH
    q = count_bam(bam, gtf, min_mapq=10)
    assert q.summary.loc["Unassigned_MappingQuality", "tiny"] == 3
    assert q.summary.loc["Unassigned_MultiMapping", "tiny"] == 0


def test_tiny_multi_overlap(tiny):
    bam, gtf = tiny
    r = count_bam(bam, gtf, allow_multi_overlap=True)
    assert counts_of(r)["A"] == 3 and counts_of(r)["B"] == 2
    assert r.summary.loc["Unassigned_Ambiguity", "tiny"] == 0
    f = count_bam(bam, gtf, allow_multi_overlap=True, multimap="fraction")
    assert counts_of(f)["A"] == 2 + 0.5 + 0.5 and counts_of(f)["B"] == 1.5


def test_collapsed_read_weights(tmp_path):
    gtf = write(tmp_path / "g.gtf", TINY_GTF)
    bam = make_bam(
        tmp_path / "collapsed.bam",
        [
            sam_line("seq_1_x5", 0, "chr1", 121, "22M"),  # seqcluster / miRDeep2
            sam_line("2-7", 0, "chr1", 131, "22M"),  # fastx_collapser
            sam_line("uniq;size=3;", 0, "chr1", 1011, "22M"),  # vsearch
            sam_line("seq_9_x4", 0, "chr1", 171, "22M"),  # ambiguous A/B
            sam_line("seq_8_x10", 0, "chr1", 121, "22M", tags="NH:i:2"),
            sam_line("seq_8_x10", 256, "chr1", 1011, "22M", tags="NH:i:2"),
        ],
    )
    r = count_bam(bam, gtf, weights_from_name=True)
    assert counts_of(r, "collapsed") == {
        "A": 12,
        "B": 0,
        "C": 3,
        "D": 0,
        "E": 0,
        "F": 0,
        "MT-TF": 0,
    }
    assert r.summary.loc["Assigned", "collapsed"] == 15
    assert r.summary.loc["Unassigned_Ambiguity", "collapsed"] == 4
    assert r.summary.loc["Unassigned_MultiMapping", "collapsed"] == 20
    f = count_bam(bam, gtf, weights_from_name=True, multimap="fraction")
    assert counts_of(f, "collapsed")["A"] == 17 and counts_of(f, "collapsed")["C"] == 8
    plain = count_bam(bam, gtf)
    assert counts_of(plain, "collapsed")["A"] == 2

    bad = make_bam(tmp_path / "plain.bam", [sam_line("read17", 0, "chr1", 121, "22M")])
    with pytest.raises(InputError, match=r"read name 'read17' carries no copy number"):
        count_bam(bad, gtf, weights_from_name=True)


def test_contig_names_chr_prefix_and_mt(tmp_path):
    gtf = write(
        tmp_path / "g.gtf",
        'chr1\tt\texon\t101\t200\t.\t+\t.\tgene_id "A";\n'
        'MT\tt\texon\t1\t70\t.\t+\t.\tgene_id "MT-TF";\n',
    )
    bam = make_bam(
        tmp_path / "x.bam",
        [sam_line("a", 0, "1", 121, "30M"), sam_line("m", 0, "chrM", 5, "30M")],
        refs=(("1", 1000), ("chrM", 16569)),
    )
    assert counts_of(count_bam(bam, gtf), "x") == {"A": 1, "MT-TF": 1}
    other = make_bam(
        tmp_path / "y.bam", [sam_line("a", 0, "scaffold", 5, "30M")], refs=(("scaffold", 100),)
    )
    with pytest.raises(InputError, match="none of its 1 reference sequences"):
        count_bam(other, gtf)


def test_annotation_formats_agree(tmp_path, tiny):
    bam, gtf = tiny
    saf = write(
        tmp_path / "g.saf",
        "GeneID\tChr\tStart\tEnd\tStrand\n"
        + "".join(
            f"{m.group(5)}\t{m.group(1)}\t{m.group(2)}\t{m.group(3)}\t{m.group(4)}\n"
            for m in re.finditer(
                r'(\S+)\tt\texon\t(\d+)\t(\d+)\t.\t(.)\t.\tgene_id "([^"]+)"', TINY_GTF
            )
        ),
    )
    gff_lines = ["##gff-version 3"]
    for m in re.finditer(r'(\S+)\tt\texon\t(\d+)\t(\d+)\t.\t(.)\t.\tgene_id "([^"]+)"', TINY_GTF):
        c, s, e, st, g = m.groups()
        gff_lines.append(f"{c}\tt\tgene\t{s}\t{e}\t.\t{st}\t.\tID=gene:{g};Name={g}-name")
        gff_lines.append(f"{c}\tt\tmRNA\t{s}\t{e}\t.\t{st}\t.\tID=tx:{g}:{s};Parent=gene:{g}")
        gff_lines.append(f"{c}\tt\texon\t{s}\t{e}\t.\t{st}\t.\tParent=tx:{g}:{s}")
    gff = write(tmp_path / "g.gff3.gz", "\n".join(gff_lines) + "\n", gz=True)
    exons = re.findall(r'(\S+)\tt\texon\t(\d+)\t(\d+)\t.\t(.)\t.\tgene_id "([^"]+)"', TINY_GTF)
    bed6 = write(
        tmp_path / "g.bed",
        'track name="genes"\n'
        + "".join(f"{c}\t{int(s) - 1}\t{e}\t{g}\t0\t{st}\n" for c, s, e, st, g in exons),
    )
    genes: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for c, s, e, st, g in exons:
        genes.setdefault((g, c, st), []).append((int(s) - 1, int(e)))
    bed12_lines = []
    for (g, c, st), blocks in genes.items():
        blocks.sort()
        lo, hi = blocks[0][0], max(e for _, e in blocks)
        sizes = ",".join(str(e - s) for s, e in blocks)
        starts = ",".join(str(s - lo) for s, _ in blocks)
        bed12_lines.append(
            f"{c}\t{lo}\t{hi}\t{g}\t0\t{st}\t{lo}\t{hi}\t0\t{len(blocks)}\t{sizes},\t{starts},"
        )
    bed12 = write(tmp_path / "g12.bed", "\n".join(bed12_lines) + "\n")
    expected = count_bam(bam, gtf).counts
    for path, fmt in ((saf, "saf"), (gff, "gff3"), (bed6, "bed"), (bed12, "bed")):
        ann = read_annotation(path)
        assert ann.format == fmt
        pd.testing.assert_frame_equal(count_bam(bam, ann).counts, expected)
    assert read_annotation(gff).var.loc["A", "gene_name"] == "A-name"


def test_sam_input_and_threads(tmp_path, tiny):
    bam, gtf = tiny
    sam = tmp_path / "tiny_sam.sam"
    with (
        pysam.AlignmentFile(str(bam)) as src,
        pysam.AlignmentFile(str(sam), "w", template=src) as dst,
    ):
        for rec in src.fetch(until_eof=True):
            dst.write(rec)
    r = count_bam([bam, sam], gtf, threads=2)
    assert (r.counts["tiny"] == r.counts["tiny_sam"]).all()
    assert (r.summary["tiny"] == r.summary["tiny_sam"]).all()


def test_cram_input(tmp_path):
    fasta = tmp_path / "genome.fa"
    shutil.copy(FORMATS / "world" / "genome.fa", fasta)
    pysam.faidx(str(fasta))
    cram = tmp_path / "S1.cram"
    with (
        pysam.AlignmentFile(str(BAMS[0])) as src,
        pysam.AlignmentFile(str(cram), "wc", template=src, reference_filename=str(fasta)) as dst,
    ):
        for rec in src.fetch(until_eof=True):
            dst.write(rec)
    expected = count_bam(BAMS[0], GTF)
    result = count_bam(cram, GTF, reference_fasta=fasta)
    pd.testing.assert_frame_equal(result.counts, expected.counts)
    pd.testing.assert_frame_equal(result.summary, expected.summary)


def pe_line(name, flag, chrom, pos, cigar, mchrom, mpos, *, mapq=60, tags="NH:i:1"):
    """A SAM line of a mate: ``flag`` gets 0x1; mate fields as given ("=" for the same contig)."""
    fields = sam_line(name, flag | 1, chrom, pos, cigar, mapq=mapq, tags=tags).split("\t")
    if flag & 4 and chrom != "*":  # an unmapped mate placed at its mapped mate, as aligners do
        fields[2:4] = [chrom, str(pos)]
    fields[6:8] = [mchrom, str(mpos)]
    return "\t".join(fields)


def pair(name, chrom, pos1, cigar1, pos2, cigar2, *, rev1=False, mapq=60):
    """Read 1 at ``pos1`` and read 2 at ``pos2`` (opposite strands), both mapped."""
    f1 = 64 | 2 | (16 if rev1 else 32)
    f2 = 128 | 2 | (32 if rev1 else 16)
    return [
        pe_line(name, f1, chrom, pos1, cigar1, "=", pos2, mapq=mapq),
        pe_line(name, f2, chrom, pos2, cigar2, "=", pos1, mapq=mapq),
    ]


@pytest.fixture
def tiny_pe(tmp_path):
    gtf = write(tmp_path / "tiny.gtf", TINY_GTF)
    reads = [
        *pair("aa", "chr1", 121, "30M", 161, "30M"),  # both mates in A: one fragment
        *pair("ac", "chr1", 121, "30M", 1061, "30M"),  # read 1 in A, read 2 in C: ambiguous
        *pair("ai", "chr1", 121, "30M", 3001, "30M"),  # one mate in A, the other intergenic
        *pair("ab", "chr1", 121, "40M", 181, "30M"),  # A by both mates, B (181-) by one: A
        *pair("bb", "chr1", 251, "30M", 261, "30M", rev1=True),  # read 1 reverse, in B (-)
        # singleton: read 1 in A, its mate unmapped (placed at read 1)
        pe_line("s1", 64 | 8 | 0, "chr1", 131, "30M", "=", 131),
        pe_line("s1", 128 | 4 | 0, "chr1", 131, "*", "=", 131, tags=""),
        # both mates unmapped: one unmapped fragment
        pe_line("uu", 64 | 4 | 8, "*", 0, "*", "*", 0, tags=""),
        pe_line("uu", 128 | 4 | 8, "*", 0, "*", "*", 0, tags=""),
        # mates on different contigs: read 1 in A, read 2 on chrM (MT-TF)
        pe_line("xc", 64 | 32, "chr1", 141, "30M", "chrM", 11),
        pe_line("xc", 128 | 16, "chrM", 11, "30M", "chr1", 141),
    ]
    return make_bam(tmp_path / "pe.bam", reads), gtf


def test_paired_end_fragments(tiny_pe):
    bam, gtf = tiny_pe
    r = count_bam(bam, gtf)  # paired=None: detected
    assert r.params["paired"] == [True]
    assert counts_of(r, "pe") == {"A": 4, "B": 1, "C": 0, "D": 0, "E": 0, "F": 0, "MT-TF": 0}
    s = r.summary["pe"]
    assert s["Assigned"] == 5  # aa, ai, ab, bb, s1
    assert s["Unassigned_Ambiguity"] == 2  # ac (A and C), xc (A and MT-TF)
    assert s["Unassigned_Unmapped"] == 1
    assert s["Unassigned_NoFeatures"] == 0
    assert s.sum() == 8  # fragments, not records
    assert (count_bam(bam, gtf, paired=True).counts == r.counts).all().all()
    with pytest.raises(MtncrnaError, match=r"paired-end reads .* paired=False"):
        count_bam(bam, gtf, paired=False)


def test_paired_end_strand_from_read1(tiny_pe):
    bam, gtf = tiny_pe
    fwd = count_bam(bam, gtf, strand="forward")
    # read 1 forward (read 2 reverse, flipped) is the + strand: A; ab now hits only A;
    # bb's read 1 is reverse: B (-); xc: read 1 + in A, read 2 reverse flipped to + in MT-TF (+)
    assert counts_of(fwd, "pe") == {"A": 4, "B": 1, "C": 0, "D": 0, "E": 0, "F": 0, "MT-TF": 0}
    assert fwd.summary.loc["Unassigned_Ambiguity", "pe"] == 2
    rev = count_bam(bam, gtf, strand="reverse")
    # each mate must be on the other strand than the gene (read 2 flipped): read 2 of aa and of
    # ab (reverse, so + as a fragment) reaches into B (-); nothing else fits
    assert counts_of(rev, "pe") == {"A": 0, "B": 2, "C": 0, "D": 0, "E": 0, "F": 0, "MT-TF": 0}
    assert rev.summary.loc["Assigned", "pe"] == 2
    assert rev.summary.loc["Unassigned_NoFeatures", "pe"] == 5
    # read 2 alone decides where read 1 is unmapped: the same mate as read 1 flips strand
    only2 = make_bam(
        bam.with_name("r2.bam"),
        [
            pe_line("r2", 64 | 4, "chr1", 121, "*", "=", 121, tags=""),
            pe_line("r2", 128 | 8 | 16, "chr1", 121, "30M", "=", 121),
        ],
    )
    assert count_bam(only2, gtf, strand="forward").counts.loc["A", "r2"] == 1
    assert count_bam(only2, gtf, strand="reverse").counts.loc["A", "r2"] == 0


def test_paired_end_mates_pair_by_name_and_hi(tmp_path, tiny_pe):
    """As featureCounts' pairer: a mate whose HI tag differs from its mate's (or is missing on
    one side only) is a fragment of its own; here the unmapped one has no features."""
    _, gtf = tiny_pe
    for tags, fragments in (("", 1), ("HI:i:1", 1), ("HI:i:2", 2)):
        bam = make_bam(
            tmp_path / f"hi{fragments}{len(tags)}.bam",
            [
                pe_line("s", 64 | 8, "chr1", 131, "30M", "=", 131, tags="HI:i:1" if tags else ""),
                pe_line("s", 128 | 4, "chr1", 131, "*", "=", 131, tags=tags),
            ],
        )
        r = count_bam(bam, gtf)
        s = r.summary.iloc[:, 0]
        assert r.counts.iloc[:, 0]["A"] == 1
        assert s.sum() == fragments
        assert s["Unassigned_NoFeatures"] == fragments - 1


# --------------------------------------------------------------------------------------------
# bad inputs: one clear line each
# --------------------------------------------------------------------------------------------


def test_not_a_bam(tmp_path):
    with pytest.raises(InputError, match=r"genes\.gtf: is not a BAM, SAM or CRAM file"):
        count_bam(GTF, GTF)
    empty = write(tmp_path / "e.bam", "")
    with pytest.raises(InputError, match="is empty"):
        count_bam(empty, GTF)
    gz = write(tmp_path / "g.bam", "hello\n", gz=True)
    with pytest.raises(InputError, match="gzip-compressed but not BGZF"):
        count_bam(gz, GTF)


def test_truncated_bam(tmp_path):
    raw = BAMS[1].read_bytes()
    cut = tmp_path / "cut.bam"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match=r"cut\.bam: is truncated: the BGZF end-of-file marker"):
        count_bam([BAMS[0], cut], GTF)
    # blocks cut out of the middle, end-of-file marker kept
    holed = tmp_path / "holed.bam"
    holed.write_bytes(raw[: len(raw) // 2] + raw[-28:])
    with pytest.raises(InputError, match=r"holed\.bam: (is truncated|corrupt)"):
        count_bam(holed, GTF)


def test_bam_missing_and_duplicate_samples(tmp_path):
    with pytest.raises(InputError, match="alignment file not found"):
        count_bam(tmp_path / "nope.bam", GTF)
    (tmp_path / "x").mkdir()
    shutil.copy(BAMS[0], tmp_path / "x" / "S1.bam")
    with pytest.raises(MtncrnaError, match="both give the sample name 'S1'"):
        count_bam([BAMS[0], tmp_path / "x" / "S1.bam"], GTF)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'chr1\tt\texon\t100\t200\t.\t+\tgene_id "X";',
            r"line 2: GTF lines need 9 tab-separated columns, found 8",
        ),
        (
            'chr1\tt\texon\t1OO\t200\t.\t+\t.\tgene_id "X";',
            r"line 2: start and end must be whole numbers, found '1OO'",
        ),
        (
            'chr1\tt\texon\t300\t200\t.\t+\t.\tgene_id "X";',
            r"line 2: feature chr1:300-200 has start 300 > end 200",
        ),
        (
            'chr1\tt\texon\t100\t200\t.\t+\t.\tgene_name "X";',
            r"line 2: exon line has no 'gene_id' attribute; found gene_name",
        ),
    ],
)
def test_bad_gtf_line(tmp_path, line, message):
    good = 'chr1\tt\texon\t1\t50\t.\t+\t.\tgene_id "A";'
    gtf = write(tmp_path / "bad.gtf", f"{good}\n{line}\n{good}\n")
    with pytest.raises(InputError, match=message):
        read_annotation(gtf)


def test_gtf_fast_reader_agrees_with_line_reader(tmp_path, monkeypatch):
    from mtncrna.quant import _annotation

    text = (
        "\ufeff#!genome-build x\r\n"
        '1\tt\texon\t10\t20\t.\t+\t.\tgene_ids "no"; gene_id "A"; gene_name "a";\r\n'
        "\r\n"
        "## comment\n"
        "1\tt\tgene\t5\t900\t.\t-\t.\tgene_id B;\n"
        '1\tt\texon\t30\t40\t.\t - \t.\txgene_id "no";gene_id B ; gene_type "lnc"\n'
        '2\tt\texon\t 7 \t8\t.\t?\t.\tgene_id "A"\n'
        '1\tt\texon\t50\t60\t.\t+\t.\tgene_id "C;D"; note "x"'  # no final newline
    )
    path = write(tmp_path / "tricky.gtf.gz", text, gz=True)
    monkeypatch.setattr(_annotation, "_TEXT_CHUNK", 64)  # records cut across chunks
    fast = _annotation._read_gtf_fast(path, "exon", "gene_id")
    slow = _annotation._read_lines(path, "gtf", "exon", "gene_id")
    assert fast is not None
    for a, b in zip(fast[:5], slow[:5], strict=True):
        assert [str(x) for x in a] == [str(x) for x in b]
    assert fast[5] == slow[5] == {"A": {"gene_name": "a"}, "B": {"gene_biotype": "lnc"}, "C;D": {}}
    ann = read_annotation(path)
    assert ann.features == ["A", "B", "C;D"]
    assert ann.exons["strand"].tolist() == ["+", "-", ".", "+"]
    assert ann.var.loc["A", "Chr"] == "1;2" and ann.var.loc["A", "Length"] == 13


def test_bad_saf_and_empty_annotation(tmp_path):
    saf = write(
        tmp_path / "bad.saf",
        "GeneID\tChr\tStart\tEnd\tStrand\nA\tchr1\t1\t50\t+\nB\tchr1\tx\t9\t+\n",
    )
    with pytest.raises(InputError, match=r"bad\.saf, line 3: start and end must be whole numbers"):
        read_annotation(saf)
    gtf = write(tmp_path / "genes_only.gtf", 'chr1\tt\tgene\t1\t50\t.\t+\t.\tgene_id "A";\n')
    with pytest.raises(InputError, match="has no 'exon' lines"):
        read_annotation(gtf)
    assert len(read_annotation(gtf, feature_type="gene")) == 1


def test_bad_options(tiny):
    bam, gtf = tiny
    with pytest.raises(MtncrnaError, match="strand must be one of"):
        count_bam(bam, gtf, strand="yes")
    with pytest.raises(MtncrnaError, match="multimap must be one of"):
        count_bam(bam, gtf, multimap="some")


# --------------------------------------------------------------------------------------------
# against the real featureCounts, where it is installed
# --------------------------------------------------------------------------------------------

CIGARS = [
    "50M",
    "50M",
    "50M",
    "20M5D30M",
    "10M2I38M",
    "25M300N25M",
    "5S45M",
    "45M5S",
    "10M1I2D39M",
    "4M1D4M1D4M1D4M1D4M1D4M1D4M1D4M1D4M1D4M1D4M1D6M",
    "20M2N30M",
    "30M100N10M100N10M",
    "3N47M",
    "25=25X",
    "50M",
]


def random_world(tmp_path: Path, n_reads: int = 3000, seed: int = 7) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    lines = []
    g = 0
    for chrom, length in (("chr1", 20000), ("chr2", 8000), ("chrM", 16569)):
        pos = 50
        while pos < length - 800:
            g += 1
            strand = rng.choice(["+", "-", "+", "-", "."])
            s = pos
            for _ in range(int(rng.integers(1, 4))):
                e = s + int(rng.integers(20, 250))
                lines.append(f'{chrom}\tt\texon\t{s}\t{e}\t.\t{strand}\t.\tgene_id "g{g}";')
                s = e + 1 + int(rng.integers(0, 150))  # bookended exons too
            # overlap the next gene now and then
            pos = (
                s - int(rng.integers(0, 120))
                if rng.random() < 0.4
                else s + int(rng.integers(1, 300))
            )
    gtf = write(tmp_path / "random.gtf", "\n".join(lines) + "\n")
    reads = []
    for i in range(n_reads):
        chrom = rng.choice(["chr1", "chr2", "chrM"], p=[0.6, 0.3, 0.1])
        length = {"chr1": 20000, "chr2": 8000, "chrM": 16569}[chrom]
        pos = int(rng.integers(1, length - 700))
        cigar = rng.choice(CIGARS)
        flag = 16 if rng.random() < 0.5 else 0
        mapq = int(rng.choice([0, 1, 3, 10, 30, 60, 255]))
        u = rng.random()
        if u < 0.03:
            reads.append(sam_line(f"r{i}", 4, "*", 0, "*", tags=""))
        elif u < 0.15:
            nh = int(rng.integers(2, 5))
            for h in range(nh):
                p = pos if h == 0 else int(rng.integers(1, 7000))
                reads.append(
                    sam_line(
                        f"r{i}",
                        flag | (256 if h else 0),
                        chrom if h == 0 else "chr2",
                        p,
                        cigar,
                        mapq=mapq,
                        tags=f"NH:i:{nh}\tHI:i:{h + 1}",
                    )
                )
        elif u < 0.2:
            reads.append(sam_line(f"r{i}", flag | 2048, chrom, pos, cigar, mapq=mapq, tags=""))
        else:
            reads.append(sam_line(f"r{i}", flag, chrom, pos, cigar, mapq=mapq))
    return make_bam(tmp_path / "random.bam", reads), gtf


@pytest.mark.skipif(shutil.which("featureCounts") is None, reason="featureCounts not installed")
@pytest.mark.parametrize(
    ("fc_args", "kwargs"),
    [
        ([], {}),
        (["-s", "1"], {"strand": "forward"}),
        (["-s", "2"], {"strand": "reverse"}),
        (["-M"], {"multimap": "all"}),
        (["-M", "--fraction"], {"multimap": "fraction"}),
        (["-O"], {"allow_multi_overlap": True}),
        (
            ["-O", "-M", "--fraction", "-s", "1"],
            {"allow_multi_overlap": True, "multimap": "fraction", "strand": "forward"},
        ),
        (["-Q", "10", "-M"], {"min_mapq": 10, "multimap": "all"}),
        (["-M", "--primary", "--fraction"], {"multimap": "fraction", "primary_only": True}),
    ],
)
def test_against_featurecounts(tmp_path, fc_args, kwargs):
    bam, gtf = random_world(tmp_path)
    out = tmp_path / "fc.txt"
    subprocess.run(
        ["featureCounts", *fc_args, "-a", str(gtf), "-o", str(out), str(bam)],
        check=True,
        capture_output=True,
    )
    _, expected, summary = read_fc(out)
    result = count_bam(bam, gtf, **kwargs)
    ours = result.counts["random"]
    if kwargs.get("multimap") == "fraction":
        np.testing.assert_array_equal(np.round(ours.to_numpy(), 2), expected["random"].to_numpy())
    else:
        np.testing.assert_array_equal(ours.to_numpy(), expected["random"].to_numpy())
    pd.testing.assert_series_equal(result.summary["random"], summary["random"], check_names=False)
    assert result.summary.loc["Assigned", "random"] > 500


WORLD = FORMATS / "world"
MATE_CIGARS = ["50M", "50M", "50M", "20M5D30M", "10M2I38M", "25M300N25M", "5S45M", "45M5S"]


def contig_lengths(fasta: Path) -> dict[str, int]:
    lengths: dict[str, int] = {}
    name = ""
    for line in fasta.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            lengths[name] = 0
        else:
            lengths[name] += len(line.strip())
    return lengths


def random_pairs(tmp_path: Path, n_pairs: int = 2000, seed: int = 11) -> Path:
    """Simulated paired-end alignments over the tiny world genome, coordinate-sorted."""
    rng = np.random.default_rng(seed)
    lengths = contig_lengths(WORLD / "genome.fa")
    contigs = list(lengths)
    header = ["@HD\tVN:1.6\tSO:unsorted"] + [f"@SQ\tSN:{c}\tLN:{n}" for c, n in lengths.items()]
    lines: list[str] = []

    def place(contig: str) -> int:
        return int(rng.integers(1, lengths[contig] - 800))

    def mates(name, c1, p1, c2, p2, *, rev1, rev2, nh=1, hi=1, secondary=False, m1=True, m2=True):
        cig1, cig2 = rng.choice(MATE_CIGARS), rng.choice(MATE_CIGARS)
        tags = f"NH:i:{nh}\tHI:i:{hi}"
        extra = 256 if secondary else 0
        f1 = 64 | extra | (16 if rev1 else 0) | (32 if rev2 else 0)
        f2 = 128 | extra | (16 if rev2 else 0) | (32 if rev1 else 0)
        q1, q2 = (int(rng.choice([0, 3, 10, 60, 255])) for _ in range(2))
        if not m1:  # read 1 unmapped, placed at read 2
            f1, f2, c1, p1 = f1 | 4, f2 | 8, c2, p2
        if not m2:
            f2, f1, c2, p2 = f2 | 4, f1 | 8, c1, p1
        if m1 and m2:
            f1, f2 = f1 | 2, f2 | 2
        # an unmapped mate carries the tags as STAR writes them, or none (then featureCounts,
        # which pairs by name and HI, counts the mates apart)
        t1 = tags if m1 or rng.random() < 0.6 else ""
        t2 = tags if m2 or rng.random() < 0.6 else ""
        r1, r2 = ("=", "=") if c1 == c2 else (c2, c1)
        lines.append(pe_line(name, f1, c1, p1, cig1 if m1 else "*", r1, p2, mapq=q1, tags=t1))
        lines.append(pe_line(name, f2, c2, p2, cig2 if m2 else "*", r2, p1, mapq=q2, tags=t2))

    for i in range(n_pairs):
        name = f"p{i}"
        c = str(rng.choice(contigs))
        p1 = place(c)
        p2 = p1 + int(rng.integers(0, 350))
        rev1 = bool(rng.random() < 0.5)
        if rng.random() < 0.5:  # read 2 upstream of read 1 now and then
            p1, p2 = p2, p1
        u = rng.random()
        if u < 0.04:  # both unmapped
            for flag in (64 | 4 | 8, 128 | 4 | 8):
                lines.append(pe_line(name, flag, "*", 0, "*", "*", 0, tags=""))
        elif u < 0.10:  # singleton, either mate unmapped
            first = bool(rng.random() < 0.5)
            mates(name, c, p1, c, p2, rev1=rev1, rev2=not rev1, m1=first, m2=not first)
        elif u < 0.14:  # mates on different contigs
            c2 = str(rng.choice([x for x in contigs if x != c]))
            mates(name, c, p1, c2, place(c2), rev1=rev1, rev2=bool(rng.random() < 0.5))
        elif u < 0.22:  # multi-mapping pair: primary and one secondary placement
            mates(name, c, p1, c, p2, rev1=rev1, rev2=not rev1, nh=2, hi=1)
            c2 = str(rng.choice(contigs))
            q = place(c2)
            mates(name, c2, q, c2, q + 200, rev1=not rev1, rev2=rev1, nh=2, hi=2, secondary=True)
        elif u < 0.27:  # both mates on one strand
            mates(name, c, p1, c, p2, rev1=rev1, rev2=rev1)
        else:
            mates(name, c, p1, c, p2, rev1=rev1, rev2=not rev1)
    sam = write(tmp_path / "pe.sam", "\n".join(header + lines) + "\n")
    bam = tmp_path / "pe.bam"
    pysam.sort("-o", str(bam), str(sam))
    return bam


@pytest.mark.skipif(shutil.which("featureCounts") is None, reason="featureCounts not installed")
@pytest.mark.parametrize(
    ("fc_args", "kwargs"),
    [
        ([], {}),
        (["-s", "1"], {"strand": "forward"}),
        (["-s", "2"], {"strand": "reverse"}),
        (["-M"], {"multimap": "all"}),
        (["-Q", "10"], {"min_mapq": 10}),
        (["-O"], {"allow_multi_overlap": True}),
        (
            ["-O", "-M", "--fraction", "-s", "2"],
            {"allow_multi_overlap": True, "multimap": "fraction", "strand": "reverse"},
        ),
        (["-M", "--primary"], {"multimap": "all", "primary_only": True}),
    ],
)
def test_paired_end_against_featurecounts(tmp_path, fc_args, kwargs):
    bam = random_pairs(tmp_path)
    gtf = WORLD / "genes.gtf"
    out = tmp_path / "fc.txt"
    subprocess.run(
        [
            "featureCounts",
            "-p",
            "--countReadPairs",
            *fc_args,
            "-a",
            str(gtf),
            "-o",
            str(out),
            str(bam),
        ],
        check=True,
        capture_output=True,
    )
    _, expected, summary = read_fc(out)
    result = count_bam(bam, gtf, **kwargs)
    assert result.params["paired"] == [True]
    ours = result.counts["pe"].to_numpy()
    if kwargs.get("multimap") == "fraction":
        ours = np.round(ours, 2)
    np.testing.assert_array_equal(ours, expected["pe"].to_numpy())
    pd.testing.assert_series_equal(result.summary["pe"], summary["pe"], check_names=False)
    assert result.summary.loc["Assigned", "pe"] > 300


def test_paired_end_across_chunks_sam_and_name_order(tmp_path, monkeypatch):
    """Mates in different chunks, a full record table, SAM and name-sorted input: same counts."""
    from mtncrna.quant import _bam, _bam_input

    bam = random_pairs(tmp_path, n_pairs=300)
    gtf = WORLD / "genes.gtf"
    expected = count_bam(bam, gtf, multimap="fraction", allow_multi_overlap=True)
    assert expected.summary["pe"].sum() > 300
    by_name = tmp_path / "by_name.bam"
    pysam.sort("-n", "-o", str(by_name), str(bam))
    sam = tmp_path / "as_sam.sam"
    pysam.view("-h", "-o", str(sam), str(bam), catch_stdout=False)
    with pysam.BGZFile(str(bam), "rb") as fh:
        small = tmp_path / "small.bam"
        small.write_bytes(bgzf(fh.read(), 97))
    monkeypatch.setattr(_bam_input, "_CHUNK", 300)
    monkeypatch.setattr(_bam._Pairs, "_SLOTS", 2)
    for path in (small, by_name, sam):
        for threads in (1, 2):
            result = count_bam(
                path, gtf, multimap="fraction", allow_multi_overlap=True, threads=threads
            )
            np.testing.assert_array_equal(
                result.counts.iloc[:, 0].to_numpy(), expected.counts["pe"].to_numpy()
            )
            np.testing.assert_array_equal(
                result.summary.iloc[:, 0].to_numpy(), expected.summary["pe"].to_numpy()
            )


# --------------------------------------------------------------------------------------------
# the parsed-annotation cache
# --------------------------------------------------------------------------------------------


def _cache_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.mtncrna-annotation"))


def test_annotation_cache_round_trip_edit_and_damage(tmp_path, monkeypatch):
    """Parsed once, loaded after (same annotation, same counts); an edited file or a damaged
    cache is never trusted."""
    from mtncrna.quant import _annotation, _annotation_cache

    monkeypatch.setattr(_annotation_cache, "MIN_BYTES", 0)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    gtf = tmp_path / "genes.gtf"
    shutil.copy(GTF, gtf)
    first = read_annotation(gtf)
    (cache,) = _cache_files(tmp_path)
    assert cache.stat().st_mode & 0o044  # readable by others, as a normal file

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again")

    with monkeypatch.context() as m:
        m.setattr(_annotation, "_read_gtf_fast", no_parsing)
        m.setattr(_annotation, "_read_lines", no_parsing)
        again = read_annotation(gtf)
    assert again.features == first.features and again.format == first.format
    pd.testing.assert_frame_equal(again.exons, first.exons)
    pd.testing.assert_frame_equal(again.var, first.var)
    expected = count_bam(BAMS, GTF)
    got = count_bam(BAMS, again)
    pd.testing.assert_frame_equal(got.counts, expected.counts)
    pd.testing.assert_frame_equal(got.summary, expected.summary)

    # other options: another cache entry, not the first one's
    by_name = read_annotation(gtf, attribute="gene_name")
    assert by_name.features != first.features

    # an edited annotation (same size even) gets a new key; its old caches are removed
    text = gtf.read_text()
    gtf.write_text(text.replace("exon", "EXON", 1))
    edited = read_annotation(gtf)
    assert len(edited.exons) == len(first.exons) - 1
    assert len(_cache_files(tmp_path)) == 1 and _cache_files(tmp_path)[0] != cache

    # a damaged cache (cut short, or garbage) is ignored and replaced
    (cache,) = _cache_files(tmp_path)
    for damage in (cache.read_bytes()[: cache.stat().st_size // 2], b"not a cache"):
        cache.write_bytes(damage)
        again = read_annotation(gtf)
        pd.testing.assert_frame_equal(again.exons, edited.exons)
        assert _cache_files(tmp_path) == [cache] and cache.stat().st_size > 100

    # a cache holding the right arrays for other content (a copied file) is refused
    other = tmp_path / "other.gtf"
    shutil.copy(GTF, other)
    read_annotation(other)
    (other_cache,) = [c for c in _cache_files(tmp_path) if c.name.startswith(".other.gtf.")]
    shutil.copy(other_cache, cache)
    again = read_annotation(gtf)
    pd.testing.assert_frame_equal(again.exons, edited.exons)

    # small files are not cached by default; cache=False never writes
    monkeypatch.undo()
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(GTF, fresh / "genes.gtf")
    read_annotation(fresh / "genes.gtf")
    assert _cache_files(fresh) == []
    monkeypatch.setattr(_annotation_cache, "MIN_BYTES", 0)
    read_annotation(fresh / "genes.gtf", cache=False)
    assert _cache_files(fresh) == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("chr1\t100\t100\tA\t0\t+", "empty or negative"),
        ("chr1\t10\t500\tA\t0\t+\t10\t500\t0\t2\t50,\t0,", "blockCount 2 but 1 sizes"),
        ("chr1\t10\t500\tA\t0\t+\t10\t500\t0\t1\t50,\t480,", "lies outside"),
        ("chr1\t10\t500\tA\t0\t+\t10\t500\t0\t1\tx,\t0,", "whole numbers"),
    ],
)
def test_bad_bed_line(tmp_path, line, message):
    path = write(tmp_path / "bad.bed", f"chr1\t0\t50\tok\t0\t+\n{line}\n")
    with pytest.raises(InputError, match=message) as err:
        read_annotation(path)
    assert "line 2" in str(err.value)
