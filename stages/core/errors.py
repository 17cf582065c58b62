"""User-facing errors: one clear line, exit code 2, nothing half-written."""
import sys


class UserError(Exception):
    """A problem with the user's input or run directory that they can fix."""


def run_stage(main, argv=None):
    """Run a stage's main(argv); turn a UserError into one line on stderr and exit 2."""
    try:
        return main(sys.argv[1:] if argv is None else argv)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
