"""Executors: where the tiles of a big study run.

An executor has a ``name`` and one method, ``run(fn, shared, items)``: a generator of
``(k, fn(shared, items[k]))`` in the order the results arrive. ``shared`` is what every task
needs (the data); each item is one task's own part (a tile index). Closing the generator cancels
what has not run yet.

- :class:`InProcessExecutor` runs the tasks one after the other in this process (the kernels
  themselves use every core).
- :class:`DaskExecutor` runs them on a ``dask.distributed`` cluster: an embedded ``LocalCluster``
  of worker processes on this machine, or a running cluster given by its scheduler's address.
  ``shared`` travels once, as a task of its own, so a worker lost mid-way costs nothing but the
  recomputation of its tasks: the scheduler reruns them elsewhere, and since every task is a pure
  function of its inputs the results do not change.

:func:`make_executor` turns ``"local"``, ``"local:N"``, ``"inprocess"`` or a scheduler address
(``tcp://host:8786``) into one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Sequence
from typing import Any

Task = Callable[[Any, Any], Any]
Results = Generator[tuple[int, Any], None, None]


class ExecutorError(RuntimeError):
    """An executor that cannot start or reach its cluster; the message says why."""


class InProcessExecutor:
    """Tasks one after the other, in this process."""

    name = "in-process"

    def run(self, fn: Task, shared: Any, items: Sequence[Any]) -> Results:
        for k, item in enumerate(items):
            yield k, fn(shared, item)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> InProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _identity(value: Any) -> Any:
    return value


class DaskExecutor:
    """Tasks on a Dask cluster: ``address`` attaches to a running scheduler; without one, a
    ``LocalCluster`` of ``n_workers`` processes (default: one per core) is started and closed
    with this executor. Each local worker runs one task at a time with its share of the cores.
    """

    def __init__(
        self, address: str | None = None, n_workers: int | None = None, timeout_s: float = 10.0
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - a dependency
            raise ExecutorError(f"dask.distributed is not installed ({exc})") from None
        self._cluster = None
        cores = os.cpu_count() or 1
        try:
            if address:
                self.client = Client(address, timeout=timeout_s)
                self.name = f"Dask cluster at {address}"
            else:
                n = max(1, int(n_workers or cores))
                threads = max(1, cores // n)
                self._cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    memory_limit=0,
                    env={"NUMBA_NUM_THREADS": str(threads), "OMP_NUM_THREADS": "1"},
                )
                self.client = Client(self._cluster)
                self.name = f"Dask LocalCluster of {n} worker{'s' if n > 1 else ''}"
        except (OSError, TimeoutError, ValueError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            where = address or "a local cluster"
            raise ExecutorError(f"cannot start or reach {where}: {exc}") from None

    @property
    def n_workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def run(self, fn: Task, shared: Any, items: Sequence[Any]) -> Results:
        from distributed import as_completed

        data = self.client.submit(_identity, shared, pure=True)
        futures = [self.client.submit(fn, data, item, pure=True) for item in items]
        where = {f.key: k for k, f in enumerate(futures)}
        try:
            for future in as_completed(futures):
                yield where[future.key], future.result()
        finally:
            self.client.cancel([*futures, data])

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_executor(where: str | None) -> InProcessExecutor | DaskExecutor:
    """``None`` or ``"inprocess"``: this process; ``"local"`` or ``"local:N"``: a Dask
    LocalCluster (of N workers); anything else: the address of a running Dask scheduler."""
    if where is None or where == "inprocess":
        return InProcessExecutor()
    if where == "local" or where.startswith("local:"):
        count = where.partition(":")[2]
        if count and not (count.isdigit() and 1 <= int(count) <= 256):
            raise ExecutorError(f"local:N needs a number of workers from 1 to 256, got {count!r}")
        return DaskExecutor(n_workers=int(count) if count else None)
    if "://" not in where and ":" not in where:
        raise ExecutorError(
            f"{where!r} is neither local[:N] nor a scheduler address such as tcp://host:8786"
        )
    return DaskExecutor(address=where)
