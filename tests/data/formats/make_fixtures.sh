#!/usr/bin/env bash
# Regenerate the count-format fixtures in this directory (see README.md).
#
#   bash make_fixtures.sh [SECTION ...]
#
# SECTION is any of: world featurecounts htseq smrnaseq mirge3 table star
# featurecounts_star rsem htseq_star mirdeep2 mirtop_multi mirge2 rtables
# (default: all of them, in that order;
# featurecounts, htseq, star and table need world, table needs featurecounts,
# featurecounts_star, rsem and htseq_star need star, so run those together).
#
# Tools are taken from PATH. Each can be overridden with a variable:
#   PYTHON=python3 SAMTOOLS=samtools FEATURECOUNTS=featureCounts
#   HTSEQ_COUNT=htseq-count BOWTIE=bowtie BOWTIE_BUILD=bowtie-build
#   SEQCLUSTER=seqcluster MIRTOP=mirtop MIRGE3=miRge3.0 STAR=STAR
# SMRNASEQ_BIN=/path/to/nf-core-smrnaseq/bin runs the pipeline's own R
# helpers (needs Rscript + edgeR, limma, statmod, gplots, data.table, tidyr,
# dplyr, vroom, optparse); if it is unset, smrnaseq_layout.py writes the
# same tables.
# OUT (default: this directory) receives the fixtures, WORK (default: a new
# temporary directory) the intermediate files.
# Everything is seeded; on the tool versions listed in README.md the output
# is byte-identical to the committed files.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$HERE}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/mtncrna-fixtures.XXXXXX")}
PYTHON=${PYTHON:-python3}
SAMTOOLS=${SAMTOOLS:-samtools}
FEATURECOUNTS=${FEATURECOUNTS:-featureCounts}
HTSEQ_COUNT=${HTSEQ_COUNT:-htseq-count}
BOWTIE=${BOWTIE:-bowtie}
BOWTIE_BUILD=${BOWTIE_BUILD:-bowtie-build}
SEQCLUSTER=${SEQCLUSTER:-seqcluster}
MIRTOP=${MIRTOP:-mirtop}
MIRGE3=${MIRGE3:-miRge3.0}
STAR=${STAR:-STAR}
SAMPLES=(S1 S2 S3 S4)
export LC_ALL=C

SECTIONS=("$@")
[ ${#SECTIONS[@]} -eq 0 ] && SECTIONS=(world featurecounts htseq smrnaseq mirge3 table star featurecounts_star rsem htseq_star mirdeep2 mirtop_multi mirge2 rtables)

log() { echo "[make_fixtures] $*" >&2; }
need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || { log "missing tool: $t"; exit 1; }
    done
}

# ------------------------------------------------------------------ world
# Simulated genome, GTF, alignments (-> sorted, indexed BAM), small-RNA
# reads and miRNA references.
world() {
    need "$PYTHON" "$SAMTOOLS"
    "$PYTHON" "$HERE/simulate_reads.py" "$WORK"
    mkdir -p "$WORK/rna/bam" "$OUT/world" "$OUT/bam"
    cp "$WORK/world/genes.gtf" "$WORK/rna/genes.gtf"
    local s
    for s in "${SAMPLES[@]}"; do
        "$SAMTOOLS" sort --no-PG -o "$WORK/rna/bam/$s.sorted.bam" "$WORK/sam/$s.sam"
        "$SAMTOOLS" index "$WORK/rna/bam/$s.sorted.bam"
        cp "$WORK/rna/bam/$s.sorted.bam" "$WORK/rna/bam/$s.sorted.bam.bai" "$OUT/bam/"
    done
    cp "$WORK/world/genome.fa" "$WORK/world/genes.gtf" "$OUT/world/"
}

BAMS=(bam/S1.sorted.bam bam/S2.sorted.bam bam/S3.sorted.bam bam/S4.sorted.bam)

# ----------------------------------------------------------- featureCounts
featurecounts() {
    need "$FEATURECOUNTS"
    mkdir -p "$OUT/featurecounts"
    (
        cd "$WORK/rna"
        "$FEATURECOUNTS" -a genes.gtf -o counts.txt "${BAMS[@]}" 2> featurecounts.log
        "$FEATURECOUNTS" -Q 10 --extraAttributes gene_name,gene_biotype \
            -a genes.gtf -o counts_q10_extra.txt "${BAMS[@]}" 2>> featurecounts.log
        cp counts.txt counts.txt.summary counts_q10_extra.txt counts_q10_extra.txt.summary \
            "$OUT/featurecounts/"
    )
}

# ----------------------------------------------------------- htseq-count
htseq() {
    need "$HTSEQ_COUNT"
    mkdir -p "$OUT/htseq"
    (
        cd "$WORK/rna"
        local s
        for s in "${SAMPLES[@]}"; do
            "$HTSEQ_COUNT" -f bam -r pos -s no "bam/$s.sorted.bam" genes.gtf \
                > "$OUT/htseq/$s.txt" 2> "htseq_$s.log"
        done
        "$HTSEQ_COUNT" -f bam -r pos -s no "${BAMS[@]}" genes.gtf \
            > "$OUT/htseq/multi.tsv" 2> htseq_multi.log
        "$HTSEQ_COUNT" --with-header -f bam -r pos -s no "${BAMS[@]}" genes.gtf \
            > "$OUT/htseq/multi_with_header.tsv" 2> htseq_multi_with_header.log
    )
}

# miRBase FASTA -> what nf-core/smrnaseq's PARSE/FORMAT_FASTA_MIRNA make of
# it: name up to the first blank, U -> T, one line per sequence.
format_mirbase_fasta() {
    sed 's/[[:space:]].*//' "$1" |
        awk '/^>/ { if (s != "") print s; print; s = ""; next } { s = s $0 } END { if (s != "") print s }' |
        sed '/^>/!y/Uu/Tt/' > "$2"
}

BOWTIE_SMRNASEQ_ARGS=(-t -k 50 --best --strata -e 99999 --chunkmbs 2048)

# --------------------------------------------------------- nf-core/smrnaseq
# The mirna_quant steps of nf-core/smrnaseq 2.4.1, run by hand with the same
# tools and arguments (see README.md).
smrnaseq() {
    need "$BOWTIE" "$BOWTIE_BUILD" "$SAMTOOLS" "$SEQCLUSTER" "$MIRTOP" gzip
    local d=$WORK/smrnaseq s
    mkdir -p "$d" "$OUT/smrnaseq"
    (
        cd "$d"
        format_mirbase_fasta "$WORK/mirna/mature.fa" mature_idx.fa
        format_mirbase_fasta "$WORK/mirna/hairpin.fa" hairpin_idx.fa
        "$BOWTIE_BUILD" -q mature_idx.fa mature_idx
        "$BOWTIE_BUILD" -q hairpin_idx.fa hairpin_idx
        cp "$WORK/mirna/mirna.gff3" hsa.gff3
        for s in "${SAMPLES[@]}"; do
            # BOWTIE_MAP_MATURE -> BAM_STATS_MATURE (meta.id = S1_mature)
            "$BOWTIE" --threads 1 --sam -x mature_idx -q --un "${s}_mature.unmapped.fastq" \
                "${BOWTIE_SMRNASEQ_ARGS[@]}" "$WORK/mirna/$s.fastq" 2> "${s}_mature.out" |
                "$SAMTOOLS" view -bS -o "${s}_mature.bam" -
            "$SAMTOOLS" sort -o "${s}_mature.sorted.bam" "${s}_mature.bam"
            "$SAMTOOLS" index "${s}_mature.sorted.bam"
            "$SAMTOOLS" idxstats "${s}_mature.sorted.bam" > "${s}_mature.sorted.idxstats"
            # BOWTIE_MAP_HAIRPIN on what did not map to mature (meta.id = S1_mature_hairpin)
            "$BOWTIE" --threads 1 --sam -x hairpin_idx -q "${BOWTIE_SMRNASEQ_ARGS[@]}" \
                "${s}_mature.unmapped.fastq" 2> "${s}_mature_hairpin.out" |
                "$SAMTOOLS" view -bS -o "${s}_mature_hairpin.bam" -
            "$SAMTOOLS" sort -o "${s}_mature_hairpin.sorted.bam" "${s}_mature_hairpin.bam"
            "$SAMTOOLS" index "${s}_mature_hairpin.sorted.bam"
            "$SAMTOOLS" idxstats "${s}_mature_hairpin.sorted.bam" > "${s}_mature_hairpin.sorted.idxstats"
            # SEQCLUSTER_COLLAPSE -> BOWTIE_MAP_SEQCLUSTER (BAM named after meta.id = S1)
            gzip -n -c "$WORK/mirna/$s.fastq" > "$s.fastq.gz"
            rm -rf collapsed
            "$SEQCLUSTER" collapse -m 1 --min_size 15 -f "$s.fastq.gz" -o collapsed > "seqcluster_$s.log" 2>&1
            gzip -n collapsed/*_trimmed.fastq
            mv collapsed/*_trimmed.fastq.gz "${s}_seqcluster.fastq.gz"
            "$BOWTIE" --threads 1 --sam -x hairpin_idx -q "${BOWTIE_SMRNASEQ_ARGS[@]}" \
                "${s}_seqcluster.fastq.gz" 2> "$s.out" |
                "$SAMTOOLS" view -bS -o "$s.bam" -
            # MIRTOP_GFF, MIRTOP_COUNTS (ext.args --add-extra)
            rm -rf mirtop
            "$MIRTOP" gff --sps hsa --hairpin hairpin_idx.fa --gtf hsa.gff3 -o mirtop "$s.bam" > "mirtop_gff_$s.log" 2>&1
            mv mirtop/mirtop.gff "${s}_mirtop.gff"
            "$MIRTOP" counts --add-extra --hairpin hairpin_idx.fa --gtf hsa.gff3 --sps hsa \
                --gff "${s}_mirtop.gff" -o counts > "mirtop_counts_$s.log" 2>&1
        done
        local idx=() tsv=()
        for s in "${SAMPLES[@]}"; do idx+=("${s}_mature.sorted.idxstats"); done
        for s in "${SAMPLES[@]}"; do idx+=("${s}_mature_hairpin.sorted.idxstats"); done
        for s in "${SAMPLES[@]}"; do tsv+=("counts/${s}_mirtop.tsv"); done
        mkdir -p edger merge
        if [ -n "${SMRNASEQ_BIN:-}" ]; then
            # EDGER_QC
            (cd edger && cp "${idx[@]/#/../}" . && Rscript "$SMRNASEQ_BIN/edgeR_miRBase.r" "${idx[@]}" > edger.log 2>&1)
            # PIVOT_LONGER, PIVOT_WIDER, DATATABLE_MERGE
            (
                cd merge
                for s in "${SAMPLES[@]}"; do
                    Rscript "$SMRNASEQ_BIN/pivot_longer.R" --input "../counts/${s}_mirtop.tsv" \
                        --output "${s}_long.csv" > "pivot_longer_$s.log" 2>&1
                done
                awk 'NR == 1 || FNR > 1' S1_long.csv S2_long.csv S3_long.csv S4_long.csv > final_long_results_temp.csv
                Rscript "$SMRNASEQ_BIN/pivot_wider.R" --input final_long_results_temp.csv \
                    --output Long_Files_concatenated_temp.csv > pivot_wider.log 2>&1
                sort -t$'\t' -k1,1 Long_Files_concatenated_temp.csv > joined_samples_mirtop.tsv
                Rscript "$SMRNASEQ_BIN/collapse_mirtop.r" joined_samples_mirtop.tsv > collapse.log 2>&1
            )
        else
            log "SMRNASEQ_BIN unset: writing the smrnaseq tables with smrnaseq_layout.py"
            "$PYTHON" "$HERE/smrnaseq_layout.py" mature-counts edger/mature_counts.csv "${idx[@]}"
            "$PYTHON" "$HERE/smrnaseq_layout.py" mirtop-join merge "${tsv[@]}"
        fi
        cp edger/mature_counts.csv merge/joined_samples_mirtop.tsv merge/mirna.tsv "$OUT/smrnaseq/"
    )
}

# ------------------------------------------------------------------ miRge3
mirge3() {
    need "$MIRGE3" "$BOWTIE" "$BOWTIE_BUILD" "$SAMTOOLS" gzip
    local d=$WORK/mirge3 s c
    mkdir -p "$d" "$OUT/mirge3"
    (
        cd "$d"
        # a miRge3 library (-lib) holding only the simulated world
        local lib=lib/human
        rm -rf lib out && mkdir -p "$lib/index.Libs" "$lib/annotation.Libs" "$lib/fasta.Libs" out fastq bin
        format_mirbase_fasta "$WORK/mirna/mature.fa" "$lib/fasta.Libs/human_mirna_miRBase.fa"
        format_mirbase_fasta "$WORK/mirna/hairpin.fa" hairpin.fa
        "$BOWTIE_BUILD" -q "$lib/fasta.Libs/human_mirna_miRBase.fa" "$lib/index.Libs/human_mirna_miRBase"
        "$BOWTIE_BUILD" -q hairpin.fa "$lib/index.Libs/human_hairpin_miRBase"
        for c in mature_trna pre_trna snorna rrna ncrna_others mrna; do
            "$BOWTIE_BUILD" -q "$WORK/mirna/other_small_rna/$c.fa" "$lib/index.Libs/human_$c"
        done
        # miRBase miRNAs with one mature sequence, reported as one row
        printf '%s\n' 'hsa-let-7a-5p/7c-5p,hsa-let-7a-5p,hsa-let-7c-5p' \
            'hsa-miR-27a-3p/27b-3p,hsa-miR-27a-3p,hsa-miR-27b-3p' > "$lib/annotation.Libs/human_merges_miRBase.csv"
        for s in "${SAMPLES[@]}"; do gzip -n -c "$WORK/mirna/$s.fastq" > "fastq/$s.fastq.gz"; done
        # miRge3 reads `samtools --version` as UTF-8; Debian's build prints
        # Latin-1 bytes in its build flags. Hand it the first two lines only.
        local real_samtools
        real_samtools=$(command -v "$SAMTOOLS")
        printf '#!/bin/sh\nif [ "$1" = "--version" ]; then "%s" --version | head -n 2; else exec "%s" "$@"; fi\n' \
            "$real_samtools" "$real_samtools" > bin/samtools
        chmod +x bin/samtools
        # miRge3 asks `cutadapt --version` but trims with the cutadapt module
        # it imports: put its own environment's bin/ first so both agree
        local mirge_bin
        mirge_bin=$(dirname "$(command -v "$MIRGE3")")
        PATH="$d/bin:$mirge_bin:$PATH" "$MIRGE3" -s fastq/S1.fastq.gz,fastq/S2.fastq.gz,fastq/S3.fastq.gz,fastq/S4.fastq.gz \
            -lib lib -on human -db miRBase -a illumina -cpu 1 -o out > mirge3.log 2>&1
        local run
        run=$(ls -d out/miRge.* | tail -n 1)
        cp "$run/miR.Counts.csv" "$run/miR.RPM.csv" "$OUT/mirge3/"
    )
}

# ------------------------------------------------------------------ mirtop
# mirtop 0.4.30 run once on the four samples: reads collapsed as seqcluster
# names them (seq_<n>_x<count>), bowtie to the hairpins with nf-core/smrnaseq's
# arguments, `mirtop gff` on the four BAMs (one mirGFF3 with an Expression
# column per sample), then `mirtop counts` with and without --add-extra.
# mirtop reuses <bam>_sort.bam if present: start from an empty folder.
mirtop_multi() {
    need "$BOWTIE" "$BOWTIE_BUILD" "$SAMTOOLS" "$MIRTOP"
    local d=$WORK/mirtop s
    rm -rf "$d" && mkdir -p "$d" "$OUT/mirtop"
    (
        cd "$d"
        format_mirbase_fasta "$WORK/mirna/hairpin.fa" hairpin_idx.fa
        "$BOWTIE_BUILD" -q hairpin_idx.fa hairpin_idx
        for s in "${SAMPLES[@]}"; do
            awk 'NR % 4 == 2' "$WORK/mirna/$s.fastq" | sort | uniq -c | sort -k1,1nr -k2,2 |
                awk '{ n++; q = $2; gsub(/./, "I", q); printf "@seq_%d_x%d\n%s\n+\n%s\n", n, $1, $2, q }' \
                > "${s}_collapsed.fastq"
            "$BOWTIE" --threads 1 --sam -q "${BOWTIE_SMRNASEQ_ARGS[@]}" hairpin_idx "${s}_collapsed.fastq" \
                2> "bowtie_$s.log" | "$SAMTOOLS" view -bS -o "$s.bam" -
        done
        "$MIRTOP" gff --sps hsa --hairpin hairpin_idx.fa --gtf "$WORK/mirna/mirna.gff3" -o gff \
            S1.bam S2.bam S3.bam S4.bam > mirtop_gff.log 2>&1
        "$MIRTOP" counts --hairpin hairpin_idx.fa --gtf "$WORK/mirna/mirna.gff3" --sps hsa \
            --gff gff/mirtop.gff -o counts > mirtop_counts.log 2>&1
        "$MIRTOP" counts --add-extra --hairpin hairpin_idx.fa --gtf "$WORK/mirna/mirna.gff3" --sps hsa \
            --gff gff/mirtop.gff -o counts_extra >> mirtop_counts.log 2>&1
        cp gff/mirtop.gff "$OUT/mirtop/mirtop.gff"
        cp counts/mirtop.tsv "$OUT/mirtop/mirtop.tsv"
        cp counts_extra/mirtop.tsv "$OUT/mirtop/mirtop_add_extra.tsv"
    )
}

# ---------------------------------------------------------------- miRDeep2
# quantifier.pl's miRNAs_expressed_all_samples_<time>.csv, written by
# mirdeep2_layout.py (miRDeep2's quantifier steps with bowtie; see its
# docstring): the four samples as codes s01..s04 (one run with a config), and
# S1 alone under quantifier's default code "seq" (-y S1).
mirdeep2() {
    need "$PYTHON" "$BOWTIE" "$BOWTIE_BUILD"
    local d=$WORK/mirdeep2
    mkdir -p "$d" "$OUT/mirdeep2"
    "$PYTHON" "$HERE/mirdeep2_layout.py" "$d/all" "$WORK/mirna/hairpin.fa" "$WORK/mirna/mature.fa" \
        s01="$WORK/mirna/S1.fastq" s02="$WORK/mirna/S2.fastq" s03="$WORK/mirna/S3.fastq" \
        s04="$WORK/mirna/S4.fastq" "$OUT/mirdeep2/miRNAs_expressed_all_samples_1700000000.csv"
    "$PYTHON" "$HERE/mirdeep2_layout.py" "$d/s1" "$WORK/mirna/hairpin.fa" "$WORK/mirna/mature.fa" \
        seq="$WORK/mirna/S1.fastq" "$OUT/mirdeep2/miRNAs_expressed_all_samples_S1.csv"
}

# ----------------------------------------------------------- miRge1/miRge2
# miRge2.0 (Python 2) and miRge1 (Perl) are not installable today; their
# miR.Counts.csv is written here from miRge3's counts in the layout of their
# writers (mhalushka/miRge: miRge2.0 `mirCountsFile` block, miRge1 Perl
# `$mirCountsFile` block): header `miRNA` then the FASTQ file names, a
# `miRNAtotal` row (mirnaReadsFiltered: here the column sums), then one row
# per miRNA sorted by name, integers; miRge1 separates fields with ", ".
mirge2() {
    need "$PYTHON"
    mkdir -p "$OUT/mirge2"
    "$PYTHON" - "$OUT/mirge3/miR.Counts.csv" "$OUT/mirge2" <<'PY'
import csv, os, sys
src, out = sys.argv[1], sys.argv[2]
rows = list(csv.reader(open(src)))
head, body = rows[0], rows[1:]
files = [h + ".fastq" for h in head[1:]]
counts = {r[0]: [int(float(x)) for x in r[1:]] for r in body}
total = [sum(c[j] for c in counts.values()) for j in range(len(files))]
for name, sep in (("miR.Counts.csv", ","), ("miRge1.miR.Counts.csv", ", ")):
    with open(os.path.join(out, name), "w") as fh:
        fh.write(sep.join(["miRNA", *files]) + "\n")
        fh.write(sep.join(["miRNAtotal", *map(str, total)]) + "\n")
        for k in sorted(counts):
            fh.write(sep.join([k, *map(str, counts[k])]) + "\n")
PY
}

# ------------------------------------------------------ R and Excel tables
# The featureCounts gene x sample table and a sample sheet saved the ways R
# and Excel users save them: R's write.table defaults (space-separated,
# quoted, header one short), write.csv (row names, "" first header cell),
# openxlsx::write.xlsx workbooks, Excel's "Unicode Text" (UTF-16LE with BOM,
# tabs, CRLF; made with iconv) and a CSV with trailing empty columns.
rtables() {
    need Rscript iconv
    mkdir -p "$OUT/rtables"
    Rscript - "$OUT/table/counts.tsv" "$OUT/rtables" <<'R'
args <- commandArgs(trailingOnly = TRUE)
out <- args[2]
counts <- read.delim(args[1], row.names = 1, check.names = FALSE)
write.table(counts, file.path(out, "counts_write_table.txt"))
write.csv(counts, file.path(out, "counts_write_csv.csv"))
openxlsx::write.xlsx(cbind(gene_id = rownames(counts), counts), file.path(out, "counts.xlsx"))
sheet <- data.frame(
    sample = c("S1", "S2", "S3", "S4"),
    condition = c("parental", "parental", "resistant", "resistant"),
    fraction = c("cytosol", "mito", "cytosol", "mito"),
    dose = c(0, 0, 1.5, 3)
)
write.csv(sheet, file.path(out, "samples_write_csv.csv"))
rownames(sheet) <- sheet$sample
write.csv(sheet[, -1], file.path(out, "samples_rownames.csv"))
openxlsx::write.xlsx(sheet, file.path(out, "samples.xlsx"), rowNames = FALSE)
trailing <- cbind(sheet, V1 = "", V2 = "")
names(trailing)[5:6] <- ""
write.csv(trailing, file.path(out, "samples_trailing_empty.csv"), row.names = FALSE, quote = FALSE)
R
    # openxlsx stamps the workbook with the time: fix it for byte-identical reruns
    (
        cd "$OUT/rtables"
        for x in counts.xlsx samples.xlsx; do
            rm -rf x && mkdir x && (cd x && unzip -q "../$x" &&
                sed -i 's|<dcterms:created xsi:type="dcterms:W3CDTF">[^<]*</dcterms:created>|<dcterms:created xsi:type="dcterms:W3CDTF">2024-01-01T00:00:00Z</dcterms:created>|' docProps/core.xml &&
                rm "../$x" && TZ=UTC touch -t 202401010000 $(find . -type f) && find . -type f | LC_ALL=C sort | zip -q -X -D "../$x" -@)
            rm -rf x
        done
    )
    sed 's/$/\r/' "$OUT/table/counts.tsv" | iconv -f UTF-8 -t UTF-16 > "$OUT/rtables/counts_unicode_text.txt"
    printf 'sample\tcondition\tfraction\nS1\tparental\tcytosol\nS2\tparental\tmito\nS3\tresistant\tcytosol\nS4\tresistant\tmito\n' |
        sed 's/$/\r/' | iconv -f UTF-8 -t UTF-16 > "$OUT/rtables/samples_unicode_text.txt"
}

# ------------------------------------------------------------ plain tables
# Gene x sample integer tables derived from featureCounts' counts.txt.
table() {
    need "$PYTHON" gzip
    mkdir -p "$OUT/table"
    "$PYTHON" - "$OUT/featurecounts/counts.txt" "$OUT/table" <<'PY'
import os, sys
src, out = sys.argv[1], sys.argv[2]
rows = [l.rstrip("\n").split("\t") for l in open(src) if not l.startswith("#")]
head, body = rows[0], rows[1:]
samples = [os.path.basename(h).split(".")[0] for h in head[6:]]
table = [[r[0]] + r[6:] for r in body]
with open(os.path.join(out, "counts.tsv"), "w", newline="") as fh:
    fh.write("\t".join(["gene_id"] + samples) + "\n")
    for r in table:
        fh.write("\t".join(r) + "\n")
with open(os.path.join(out, "counts_crlf_bom.csv"), "w", newline="", encoding="utf-8-sig") as fh:
    fh.write(",".join('"%s"' % h for h in ["gene_id"] + samples) + "\r\n")
    for r in table:
        fh.write(",".join(r) + "\r\n")
PY
    gzip -n -9 -c "$OUT/table/counts.tsv" > "$OUT/table/counts.tsv.gz"
}

# ------------------------------------------------------------------- STAR
# STAR --quantMode GeneCounts on the simulated reads, as three libraries:
# unstranded (the SAM's random orientation), forward and reverse stranded
# (stranded_fastq.py). Output prefix star_<mode>/S1/ (STAR's own layout) and,
# for the reverse library, also nf-core/rnaseq's star_salmon/S1. prefix.
star() {
    need "$STAR" "$PYTHON"
    local d=$WORK/star s m
    mkdir -p "$d/index"
    (
        cd "$d"
        "$STAR" --runMode genomeGenerate --runThreadN 1 --genomeDir index \
            --genomeFastaFiles "$WORK/world/genome.fa" --sjdbGTFfile "$WORK/world/genes.gtf" \
            --sjdbOverhang 49 --genomeSAindexNbases 4 --outFileNamePrefix index/ > genome.log
        for m in unstranded forward reverse; do
            for s in "${SAMPLES[@]}"; do
                "$PYTHON" "$HERE/stranded_fastq.py" "$WORK/sam/$s.sam" "$m" "${s}_$m.fastq"
                mkdir -p "star_$m/$s" "$OUT/star/star_$m/$s"
                "$STAR" --runThreadN 1 --genomeDir index --readFilesIn "${s}_$m.fastq" \
                    --quantMode GeneCounts --outSAMtype BAM SortedByCoordinate \
                    --outFileNamePrefix "star_$m/$s/" > "star_${m}_$s.log"
                cp "star_$m/$s/ReadsPerGene.out.tab" "$OUT/star/star_$m/$s/"
            done
        done
        mkdir -p "$OUT/star/star_salmon"
        for s in "${SAMPLES[@]}"; do
            cp "star_reverse/$s/ReadsPerGene.out.tab" "$OUT/star/star_salmon/$s.ReadsPerGene.out.tab"
        done
        # a user's `cut`: STAR's reverse column only (N_* lines kept)
        cut -f1,4 star_reverse/S1/ReadsPerGene.out.tab > "$OUT/star/S1.reverse.cut.tab"
    )
}

# --------------------------------------- featureCounts on STAR BAMs, GENCODE
# The GTF with the numeric attributes of Ensembl (gene_version "5") and
# GENCODE (level 2, unquoted) added to every line; featureCounts -s 2 on the
# reverse library's STAR BAMs, given as absolute paths in STAR's layout.
featurecounts_star() {
    need "$FEATURECOUNTS"
    local d=$WORK/star
    mkdir -p "$OUT/featurecounts"
    (
        cd "$d"
        sed '/^#/!s/$/ gene_version "5"; level 2;/' "$WORK/world/genes.gtf" > genes_versioned.gtf
        local bams=() s
        for s in "${SAMPLES[@]}"; do bams+=("$d/star_reverse/$s/Aligned.sortedByCoord.out.bam"); done
        "$FEATURECOUNTS" -s 2 --extraAttributes gene_name,gene_version,level -a genes_versioned.gtf \
            -o counts_star_extra.txt "${bams[@]}" 2> featurecounts_star.log
        # exon level (-f): one row per exon, gene ids repeated
        cp "$WORK/world/genes.gtf" genes.gtf
        "$FEATURECOUNTS" -f -s 2 -a genes.gtf -o counts_exons.txt \
            star_reverse/S1/Aligned.sortedByCoord.out.bam star_reverse/S2/Aligned.sortedByCoord.out.bam \
            2>> featurecounts_star.log
        cp counts_exons.txt "$OUT/featurecounts/"
        # the absolute paths name this run's temporary folder: make them stable
        sed "s|$d/|/data/run/|g" counts_star_extra.txt > "$OUT/featurecounts/counts_star_extra.txt"
        sed "s|$d/|/data/run/|g" counts_star_extra.txt.summary \
            > "$OUT/featurecounts/counts_star_extra.txt.summary"
    )
}

# ---------------------------------------------------- nf-core/rnaseq RSEM
# nf-core/rnaseq's star_rsem route by hand: STAR --quantMode TranscriptomeSAM,
# rsem-calculate-expression --alignments, then RSEM_MERGE_COUNTS' own shell
# (modules/local/rsem_merge_counts/main.nf) to make the merged tables.
rsem() {
    need "$STAR" rsem-prepare-reference rsem-calculate-expression
    local d=$WORK/star s
    mkdir -p "$OUT/rsem"
    (
        cd "$d"
        mkdir -p rsem_ref rsem/genes rsem/isoforms
        rsem-prepare-reference --gtf "$WORK/world/genes.gtf" "$WORK/world/genome.fa" rsem_ref/world > rsem_ref.log 2>&1
        for s in "${SAMPLES[@]}"; do
            mkdir -p "rsem_star/$s"
            "$STAR" --runThreadN 1 --genomeDir index --readFilesIn "${s}_reverse.fastq" \
                --quantMode TranscriptomeSAM --outSAMtype BAM Unsorted \
                --outFileNamePrefix "rsem_star/$s/" > "rsem_star_$s.log"
            rsem-calculate-expression --alignments --strandedness reverse -p 1 --seed 1 \
                "rsem_star/$s/Aligned.toTranscriptome.out.bam" rsem_ref/world "rsem/$s" > "rsem_$s.log" 2>&1
            cp "rsem/$s.genes.results" rsem/genes/
            cp "rsem/$s.isoforms.results" rsem/isoforms/
        done
        cd rsem
        mkdir -p tmp/genes tmp/isoforms
        cut -f 1,2 $(ls ./genes/* | head -n 1) > gene_ids.txt
        for fileid in $(ls ./genes/*); do
            samplename=$(basename "$fileid" | sed 's/\.genes.results$//g')
            echo "$samplename" > "tmp/genes/$samplename.counts.txt"
            cut -f 5 "$fileid" | tail -n+2 >> "tmp/genes/$samplename.counts.txt"
        done
        cut -f 1,2 $(ls ./isoforms/* | head -n 1) > transcript_ids.txt
        for fileid in $(ls ./isoforms/*); do
            samplename=$(basename "$fileid" | sed 's/\.isoforms.results$//g')
            echo "$samplename" > "tmp/isoforms/$samplename.counts.txt"
            cut -f 5 "$fileid" | tail -n+2 >> "tmp/isoforms/$samplename.counts.txt"
        done
        paste gene_ids.txt tmp/genes/*.counts.txt > "$OUT/rsem/rsem.merged.gene_counts.tsv"
        paste transcript_ids.txt tmp/isoforms/*.counts.txt > "$OUT/rsem/rsem.merged.transcript_counts.tsv"
        cp genes/S1.genes.results "$OUT/rsem/"
    )
}

# ------------------------------------------------- htseq-count on STAR BAMs
# htseq-count run once on the four STAR BAMs of the reverse-stranded library
# (paths in STAR's layout): no header; --with-header; --additional-attr; and
# its -c output as .h5ad (needs anndata in htseq's environment).
htseq_star() {
    need "$HTSEQ_COUNT"
    local d=$WORK/star
    mkdir -p "$OUT/htseq_star"
    (
        cd "$d"
        local bams=() s
        for s in "${SAMPLES[@]}"; do bams+=("star_reverse/$s/Aligned.sortedByCoord.out.bam"); done
        "$HTSEQ_COUNT" -f bam -r pos -s reverse "${bams[@]}" "$WORK/world/genes.gtf" \
            > "$OUT/htseq_star/multi.tsv" 2> htseq_star.log
        "$HTSEQ_COUNT" --with-header -f bam -r pos -s reverse "${bams[@]}" "$WORK/world/genes.gtf" \
            > "$OUT/htseq_star/multi_with_header.tsv" 2>> htseq_star.log
        "$HTSEQ_COUNT" -f bam -r pos -s reverse --additional-attr gene_name \
            --additional-attr gene_biotype "${bams[@]}" "$WORK/world/genes.gtf" \
            > "$OUT/htseq_star/multi_additional_attr.tsv" 2>> htseq_star.log
        "$HTSEQ_COUNT" --with-header -f bam -r pos -s reverse --additional-attr gene_name \
            "${bams[@]}" "$WORK/world/genes.gtf" \
            > "$OUT/htseq_star/multi_with_header_attr.tsv" 2>> htseq_star.log
        rm -f "$OUT/htseq_star/counts.h5ad"
        "$HTSEQ_COUNT" -f bam -r pos -s reverse -c "$OUT/htseq_star/counts.h5ad" \
            "${bams[@]}" "$WORK/world/genes.gtf" 2>> htseq_star.log
        # htseq output without its __ lines (a headerless two-column file)
        grep -v '^__' "$OUT/htseq/S1.txt" > "$OUT/htseq_star/S1.no_counters.txt"
    )
}

log "work directory: $WORK"
for section in "${SECTIONS[@]}"; do
    case $section in
        world | featurecounts | htseq | smrnaseq | mirge3 | table | star | featurecounts_star | rsem | htseq_star | mirdeep2 | mirtop_multi | mirge2 | rtables)
            log "$section"
            if [ "$section" != world ] && [ "$section" != table ] && [ ! -d "$WORK/mirna" ]; then
                log "no world in $WORK: run the world section first (or set WORK)"
                exit 1
            fi
            "$section"
            ;;
        *) log "unknown section: $section"; exit 2 ;;
    esac
done
log "done"
