from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtncrna.cli import cli

DATA = Path(__file__).parent / "data"
FORMATS = DATA / "formats"


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The demo's output folder (mtncrna demo = mtncrna run on the bundled example study)."""
    from mtncrna.demo import run_demo

    out = tmp_path_factory.mktemp("demo") / "out"
    run_demo(out)
    return out


@pytest.fixture(scope="session")
def reference():
    import mtncrna as mt

    return mt.load_reference()


@pytest.fixture
def run_cli():
    """Run the CLI in-process; returns (exit_code, stdout, stderr)."""

    def _run(*args: str):
        try:
            runner = CliRunner(mix_stderr=False)  # click < 8.2
        except TypeError:
            runner = CliRunner()  # click >= 8.2 keeps stderr apart by default
        result = runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return _run


def write(path: Path, text: str, *, encoding: str = "utf-8", gz: bool = False) -> Path:
    data = text.encode(encoding)
    if gz:
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


SHEET = (
    "sample,condition,fraction,cell_line,drug,batch,pair\n"
    "S1,parental,mito,CAL-27,cisplatin,b1,p1\n"
    "S2,parental,cytosol,CAL-27,cisplatin,b1,p1\n"
    "S3,resistant,mito,CAL-27-CisR,cisplatin,b1,p2\n"
    "S4,resistant,cytosol,CAL-27-CisR,cisplatin,b1,p2\n"
)
COUNTS = (
    "miRNA\tS1\tS2\tS3\tS4\n"
    "hsa-miR-2392\t10\t2\t30\t4\n"
    "hsa-miR-5787\t8\t9\t1\t2\n"
    "hsa-let-7a-5p\t100\t120\t90\t110\n"
    "hsa-miR-21-5p\t50\t60\t70\t80\n"
)


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    return write(tmp_path / "samples.csv", SHEET)


@pytest.fixture
def counts(tmp_path: Path) -> Path:
    return write(tmp_path / "counts.tsv", COUNTS)
