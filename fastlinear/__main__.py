"""``python -m fastlinear``: the same as the ``fastlinear`` console script."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
