"""Generate the Python code for every proto under protos/ into gen/python/.

The one way generated code is produced; tests/unit/test_generated_code.py runs it into
a temporary folder and fails when the committed code is stale.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[1]
PROTOS = ROOT / "protos"
OUT = ROOT / "gen" / "python"


def generate(out: Path) -> None:
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    include = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        args = ["protoc", f"-I{PROTOS}", f"-I{include}", f"--python_out={tmp}", f"--pyi_out={tmp}",
                f"--grpc_python_out={tmp}", *sources]
        if protoc.main(args) != 0:
            sys.exit("protoc failed")
        for folder in [Path(tmp), *[p for p in Path(tmp).rglob("*") if p.is_dir()]]:
            (folder / "__init__.py").touch()
        (Path(tmp) / "__init__.py").unlink()
        produced = {p.relative_to(tmp) for p in Path(tmp).rglob("*") if p.is_file()}
        for rel in produced:  # file by file, so a concurrent import never sees an empty package
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists() or target.read_bytes() != (Path(tmp) / rel).read_bytes():
                shutil.copyfile(Path(tmp) / rel, target)
        for stale in [p for p in out.rglob("*") if p.is_file() and p.relative_to(out) not in produced]:
            stale.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="scripts/gen_protos.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    generate(parser.parse_args(argv).out)


if __name__ == "__main__":
    main()
