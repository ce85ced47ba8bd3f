"""``python -m fastlinear``: the same as the ``fastlinear`` console script.

Ctrl-C while the command module is still being imported ends the command
as Ctrl-C during its work does: one line on stderr and exit status 130, no
traceback.  The package itself (NumPy, SciPy and scikit-learn with it) is
imported before this module runs; Ctrl-C during that first second or so
(several on a busy machine) ends Python its own way: a traceback, and the
process killed by SIGINT (the shell reports status 130 too).
"""
import sys

try:
    from .cli import console
except KeyboardInterrupt:
    _command = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else ""
    print(" ".join(filter(None, ["fastlinear", _command])) + ": interrupted", file=sys.stderr)
    raise SystemExit(130) from None

if __name__ == "__main__":
    raise SystemExit(console())
