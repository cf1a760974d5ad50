"""Build reference/human_genes.tsv.gz from Bioconductor's org.Hs.eg.db SQLite (Debian package).

    apt-get install -y r-bioc-org.hs.eg.db
    python reference/build/build_gene_map.py \
        /usr/lib/R/site-library/org.Hs.eg.db/extdata/org.Hs.eg.sqlite reference/human_genes.tsv.gz

One row per NCBI (Entrez) gene of Homo sapiens: ``entrez_id``, ``symbol`` (NCBI official symbol),
``gene_type`` (NCBI), ``ensembl_gene_id`` (';'-separated, NCBI gene2ensembl as packaged),
``ensembl_transcript_id`` (';'), ``aliases`` (';', NCBI synonyms and previous symbols, the
official symbol excluded). Rows are sorted by Entrez id; gzip is written with mtime 0 so that
the same database always gives the same bytes (and the same sha256 in MANIFEST.tsv).
Run at build time only: mtncrna never reads the SQLite file itself.
"""

from __future__ import annotations

import gzip
import io
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path


def _many(con: sqlite3.Connection, table: str, column: str) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for _id, value in con.execute(f"SELECT _id, {column} FROM {table} ORDER BY _id, {column}"):
        if value not in out[_id]:
            out[_id].append(value)
    return out


def build(db: Path, dest: Path) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    meta = dict(con.execute("SELECT name, value FROM metadata"))
    genes = con.execute(
        "SELECT g._id, g.gene_id, i.symbol FROM genes g JOIN gene_info i ON g._id = i._id"
    ).fetchall()
    gtype = dict(con.execute("SELECT _id, gene_type FROM genetype"))
    ens = _many(con, "ensembl", "ensembl_id")
    trans = _many(con, "ensembl_trans", "trans_id")
    alias = _many(con, "alias", "alias_symbol")
    buf = io.StringIO()
    buf.write(
        f"# NCBI Gene {meta.get('EGSOURCEDATE', '?')} and Ensembl {meta.get('ENSOURCEDATE', '?')} "
        "via Bioconductor org.Hs.eg.db (Debian r-bioc-org.hs.eg.db); "
        "built by reference/build/build_gene_map.py\n"
    )
    buf.write("entrez_id\tsymbol\tgene_type\tensembl_gene_id\tensembl_transcript_id\taliases\n")
    n = 0
    for _id, entrez, symbol in sorted(genes, key=lambda r: int(r[1])):
        aliases = [a for a in alias.get(_id, []) if a != symbol]
        buf.write(
            "\t".join(
                [
                    entrez,
                    symbol,
                    gtype.get(_id, ""),
                    ";".join(ens.get(_id, [])),
                    ";".join(trans.get(_id, [])),
                    ";".join(aliases),
                ]
            )
            + "\n"
        )
        n += 1
    raw = buf.getvalue().encode()
    part = dest.with_name(dest.name + ".part")
    with part.open("wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw)
    part.replace(dest)
    return n


if __name__ == "__main__":
    n = build(Path(sys.argv[1]), Path(sys.argv[2]))
    sys.stderr.write(f"{sys.argv[2]}: {n} genes\n")
