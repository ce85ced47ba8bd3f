"""pytest configuration of the benchmark suite (``pytest bench/ --benchmark-only``).

The project's ``python_files`` pattern is the default ``test_*.py``; the suite
lives in ``bench/bench_svm.py``, collected here explicitly.  Machine facts (CPU
model, usable cores, thread limits) go into pytest-benchmark's machine info.
"""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

BENCH_FILES = {"bench_svm.py"}


def pytest_collect_file(file_path, parent):
    if file_path.name in BENCH_FILES:
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def pytest_benchmark_update_machine_info(config, machine_info):
    from report import machine_info as report_machine_info

    machine_info["fastlinear_bench"] = report_machine_info()
    try:
        from threadpoolctl import threadpool_info

        machine_info["threadpools"] = [
            {k: v for k, v in d.items() if k in ("internal_api", "num_threads", "version")}
            for d in threadpool_info()
        ]
    except ImportError:
        pass
    machine_info["usable_cores"] = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
