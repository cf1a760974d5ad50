# R DESeq2 on a benchmark table: prints fit time (DESeq() alone) in seconds.
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
d <- args[1]
cts <- as.matrix(read.delim(file.path(d, "counts.tsv"), row.names = 1, check.names = FALSE))
cd <- read.delim(file.path(d, "coldata.tsv"), row.names = 1)
cd$condition <- factor(cd$condition, levels = c("A", "B"))
dds <- DESeqDataSetFromMatrix(cts, cd, ~ condition)
t <- system.time(dds <- DESeq(dds, quiet = TRUE))[["elapsed"]]
res <- results(dds, contrast = c("condition", "B", "A"))
write.table(as.data.frame(res), file.path(d, "r_results.tsv"), sep = "\t", quote = FALSE)
cat(sprintf("fit_seconds %.3f\n", t))
