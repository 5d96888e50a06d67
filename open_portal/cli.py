"""The ``pds`` command line: one entry point, each package adds its own commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

CommandHandler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A user error on the command line: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """Assemble the parser from the commands each package registers."""
    from audit import cli as audit_cli
    from desensitize import cli as desensitize_cli
    from open_portal import commands as portal_commands

    parser = argparse.ArgumentParser(prog="pds", description="Public Data Sandbox / 公共数据沙箱")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    portal_commands.register(sub)
    desensitize_cli.register(sub)
    audit_cli.register(sub)
    return parser


def _fail(message: str, code: int = 2) -> NoReturn:
    print(f"pds: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> None:
    """Run one command; user errors print one line on stderr and exit non-zero."""
    from open_portal.errors import user_error_types

    parser = build_parser()
    args = parser.parse_args(argv)
    handler: CommandHandler = args.handler
    try:
        code = handler(args)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        raise SystemExit(0) from None
    except user_error_types() as exc:
        _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
