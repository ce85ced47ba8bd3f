"""``python -m fastlinear``: the same as the ``fastlinear`` console script.

Ctrl-C while NumPy, SciPy and scikit-learn are still being imported (seconds
on a busy machine) ends the command as Ctrl-C during its work does: one line
on stderr and exit status 130, no traceback.
"""
import sys

try:
    from .cli import main
except KeyboardInterrupt:
    _command = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else ""
    print(" ".join(filter(None, ["fastlinear", _command])) + ": interrupted", file=sys.stderr)
    raise SystemExit(130) from None

if __name__ == "__main__":
    raise SystemExit(main())
