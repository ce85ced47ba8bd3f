"""A plain-text progress bar for long searches (``verbose`` of the CV estimators)."""
import sys
import threading
import time

__all__ = ["ProgressBar"]


class ProgressBar:
    """A plain-text progress bar on a stream (stderr by default), thread-safe.

    Parameters
    ----------
    total : int
        Number of steps.
    label : str, default=""
        Text before the bar.
    stream : file-like, default=None
        Where to write; ``None`` means ``sys.stderr``.
    width : int, default=30
        Number of characters of the bar.
    """

    def __init__(self, total, label="", stream=None, width=30):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.done = 0
        self._lock = threading.Lock()
        self._start = time.perf_counter()

    def update(self, n=1, note=""):
        """Advance by ``n`` steps and redraw the line.

        On a terminal the line is redrawn in place at every step; on a file
        or pipe only the finished bar is written, as one line.
        """
        with self._lock:
            self.done = min(self.done + n, self.total)
            interactive = getattr(self.stream, "isatty", lambda: False)()
            if not interactive and self.done < self.total:
                return
            filled = int(round(self.width * self.done / self.total))
            bar = "#" * filled + "-" * (self.width - filled)
            elapsed = time.perf_counter() - self._start
            self.stream.write(
                ("\r" if interactive else "")
                + f"{self.label}[{bar}] {self.done}/{self.total} "
                f"{elapsed:5.1f}s {note}".rstrip()
                + " "
            )
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()
