#!/usr/bin/env Rscript
## DESeq2 result tables as R users save them, for tests/test_study_variants.py.
##   Rscript tests/data/formats/deseq2_results/make.R
## R 4.2.2 / DESeq2 1.38.3 (Debian 12). Input: the first 400 miRNAs of the thyroid miRNA golden
## data (tests/data/golden/thyroid_mirna), design ~ pair + condition, tumour vs normal.
suppressPackageStartupMessages(library(DESeq2))
out <- "tests/data/formats/deseq2_results"
g <- "tests/data/golden/thyroid_mirna"
counts <- as.matrix(read.delim(gzfile(file.path(g, "counts.tsv.gz")), row.names = 1, check.names = FALSE))
coldata <- read.delim(file.path(g, "coldata.tsv"), row.names = 1, stringsAsFactors = TRUE)
counts <- counts[1:400, rownames(coldata)]
dds <- DESeqDataSetFromMatrix(counts, coldata, design = ~ pair + condition)
dds <- DESeq(dds, quiet = TRUE)
res <- results(dds)
write.csv(as.data.frame(res), file.path(out, "write_csv.csv"))            # "" first header cell
write.table(as.data.frame(res), file.path(out, "write_table.txt"))         # header one field short
write.table(as.data.frame(res), file.path(out, "write_table_tab.tsv"), sep = "\t", quote = FALSE)
write.csv(results(dds, tidy = TRUE), file.path(out, "tidy.csv"), row.names = FALSE)  # "row" column
writeLines(c(sprintf("DESeq2 %s, %s", packageVersion("DESeq2"), R.version.string),
             paste("contrast:", paste(resultsNames(dds), collapse = " "))), file.path(out, "README.txt"))
