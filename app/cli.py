"""The `spinecase` command line: one subcommand per module in `app.commands`.

Each command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand modules, in the order `spinecase --help` lists them.
COMMAND_MODULES = [
    "app.commands.open",
    "app.commands.info",
    "app.commands.export",
    "app.commands.schema",
    "app.commands.bilsky_agreement",
    "app.commands.pacs",
    "app.commands.deidentify",
]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with ``command``, only that command's options are built (some imports
    are heavy: ``spinecase info`` need not load the export registry)."""
    parser = argparse.ArgumentParser(
        prog="spinecase",
        description="SpineCase: spine oncology imaging annotation (research software, not a diagnostic device).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command not written yet
                continue
            raise
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        if command is None or command == module.NAME:
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    command = next((w for w in words if not w.startswith("-")), None)  # options before it are the parser's own
    parser = build_parser(command)
    # A command may take a trailing positional after its options (``pacs pull NAME --study UID DEST``), which
    # argparse cannot place once it has matched the leading positionals; such a command sets
    # ``_trailing_positional`` and gets it here. Any other leftover is an error, as with parse_args.
    args, extra = parser.parse_known_args(argv)
    trailing = getattr(args, "_trailing_positional", None)
    if extra and trailing and getattr(args, trailing, None) is None and len(extra) == 1 \
            and not extra[0].startswith("-"):
        setattr(args, trailing, extra.pop())
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
