"""Argument parsing shared by every command (`python -m services...`, `scripts/*.py`).

Every command parses its arguments before it connects to anything: `--help` prints the
usage and exits 0 without touching Kafka, Elasticsearch or S3, and an unknown argument
exits 2 with the usage instead of being ignored while the job runs anyway.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn, Sequence

# Exit status of a command whose input (a file, a row) is wrong; argparse uses 2 for bad arguments.
INPUT_ERROR = 1


def parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """A parser whose help is the module docstring: first line as description, the rest as epilog."""
    lines = (doc or "").strip().splitlines()
    first = lines[0] if lines else ""
    if first.startswith("`") and "`: " in first:  # "`python -m x`: what it does" -> "what it does"
        first = first.split("`: ", 1)[1]
    return argparse.ArgumentParser(
        prog=prog,
        description=first or None,
        epilog="\n".join(lines[1:]).strip() or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def parse_no_arguments(prog: str, doc: str | None, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """For commands configured only through COLLATERAL_* variables: accept --help and nothing else."""
    command = parser(prog, doc)
    command.epilog = ((command.epilog or "") + "\n\nConfigured through the COLLATERAL_* environment variables "
                      "(README, Configuration).").strip()
    return command.parse_args(argv)


def positive_int(text: str) -> int:
    """argparse type for counts and sizes: a whole number of at least 1, else exit 2 naming the value."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def fail(message: str) -> NoReturn:
    """Stop a command on bad input: the message on stderr, no traceback, exit status 1."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(INPUT_ERROR)


class InputFileError(Exception):
    """An input file (metadata, outcomes) that cannot be used at all; the message names file and line."""


def read_text_file(path: Path, save_as: str) -> str:
    """The file as UTF-8 text, or InputFileError.

    A spreadsheet or other binary file saved under .csv fails here with its line, instead
    of parsing as zero rows and "succeeding". `save_as` tells the user what to export,
    e.g. "the outcomes as CSV in UTF-8".
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputFileError(f"{path}: line {line}: not UTF-8 text (binary file? save {save_as})") from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise InputFileError(f"{path}: line {line}: contains NUL bytes (binary file? save {save_as})")
    return text
