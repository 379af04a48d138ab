"""Meters for `make bench`: DynamoDB request units counted the way on-demand billing counts them
(moto keeps no meter), and the CPU moto spends inside our invocations.

Only calls made from inside a Lambda invocation count (the runner's own observing scans are not
the system's cost). Units follow the on-demand rules: a write is 1 unit per started KB of the item
(2 inside a transaction); a read is 1 unit per started 4 KB for a strongly consistent read, half
that when eventually consistent (2 inside a transaction). GetItem is counted as strongly consistent
(the store always asks for ConsistentRead, and moto's backend does not pass the flag on).
"""

from __future__ import annotations

import gc
import inspect
import json
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from moto.dynamodb.models import DynamoDBBackend

from local_cloud.runtime import current_function


def _write_units(size: int, *, transactional: bool = False) -> float:
    return max(1, math.ceil(size / 1024)) * (2 if transactional else 1)


def _read_units(size: int, *, consistent: bool = True) -> float:
    return max(1, math.ceil(size / 4096)) * (1 if consistent else 0.5)


def _item_size(item: Any) -> int:
    return int(item.size()) if item is not None else 0


@dataclass
class DynamoDBMeter:
    write_units: float = 0.0
    read_units: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)  # "function operation" -> calls

    @contextmanager
    def active(self) -> Iterator[DynamoDBMeter]:
        """Meter the DynamoDB calls made while this is active (patches moto's backend)."""
        meter = self

        def metered(operation: str, units: Callable[[Any, dict[str, Any]], tuple[float, float]]) -> Any:
            original = getattr(DynamoDBBackend, operation)
            signature = inspect.signature(original)

            def call(backend: Any, *args: Any, **kwargs: Any) -> Any:
                result = original(backend, *args, **kwargs)
                function = current_function()
                if function:
                    reads, writes = units(result, signature.bind(backend, *args, **kwargs).arguments)
                    meter.calls[f"{function} {operation}"] += 1
                    meter.read_units += reads
                    meter.write_units += writes
                return result

            return mock.patch.object(DynamoDBBackend, operation, call)

        def transaction(result: Any, arguments: dict[str, Any]) -> tuple[float, float]:
            sizes = [
                len(json.dumps(operation.get("Item") or operation.get("Key") or {}))
                for item in arguments["transact_items"]
                for operation in item.values()
            ]
            return 0.0, sum(_write_units(size, transactional=True) for size in sizes)

        def query_or_scan(result: Any, arguments: dict[str, Any]) -> tuple[float, float]:
            size = sum(_item_size(item) for item in result[0])
            return _read_units(size, consistent=bool(arguments.get("consistent_read"))), 0.0

        patches: dict[str, Callable[[Any, dict[str, Any]], tuple[float, float]]] = {
            "get_item": lambda result, _: (_read_units(_item_size(result)), 0.0),
            "put_item": lambda result, _: (0.0, _write_units(_item_size(result))),
            "update_item": lambda result, _: (0.0, _write_units(_item_size(result))),
            "delete_item": lambda result, _: (0.0, _write_units(_item_size(result))),
            "query": query_or_scan,
            "scan": query_or_scan,
            "transact_write_items": transaction,
        }
        with ExitStack() as stack:
            for operation, units in patches.items():
                stack.enter_context(metered(operation, units))
            yield self


@dataclass
class MotoCpu:
    """CPU that moto spends answering AWS calls made inside Lambda invocations, by function: what
    `make bench` subtracts from an invocation's CPU to leave our own (the X emulator serves from its
    own threads, so it never shows in an invocation's thread time)."""

    ms: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)  # AWS calls made, by function

    @contextmanager
    def active(self) -> Iterator[MotoCpu]:
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.__call__
        meter = self

        def timed(stubber: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            _moto_call.depth = getattr(_moto_call, "depth", 0) + 1
            try:
                return original(stubber, *args, **kwargs)
            finally:
                _moto_call.depth -= 1
                function = current_function()
                if function:
                    meter.ms[function] += (time.thread_time() - started) * 1000
                    meter.calls[function] += 1

        with mock.patch.object(BotocoreStubber, "__call__", timed):
            yield self


_moto_call = threading.local()  # set while moto answers a call on this thread (MotoCpu)


def inside_moto() -> bool:
    return bool(getattr(_moto_call, "depth", 0))


@dataclass
class GcCpu:
    """Thread CPU of the garbage collector's passes inside Lambda invocations, by function and
    generation, apart from those that ran while moto answered a call (MotoCpu already counts them).

    A full (generation 2) collection walks every tracked object in the process: here that is mostly
    the fake cloud's own data (moto's tables and stream records, the emulator's posts), which a Lambda
    process never holds, so `make bench` reports it apart from our CPU. Generations 0 and 1 only walk
    recent allocations, which are ours, and stay counted as ours."""

    ms: defaultdict[tuple[str, int], float] = field(default_factory=lambda: defaultdict(float))
    _started: float = 0.0

    def full_ms(self, functions: set[str] | None = None) -> float:
        return sum(
            ms
            for (function, generation), ms in self.ms.items()
            if generation == 2 and (functions is None or function in functions)
        )

    @contextmanager
    def active(self) -> Iterator[GcCpu]:
        def callback(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                self._started = time.thread_time()
                return
            function = current_function()
            if function and not inside_moto():
                self.ms[(function, int(info["generation"]))] += (time.thread_time() - self._started) * 1000

        gc.callbacks.append(callback)
        try:
            yield self
        finally:
            gc.callbacks.remove(callback)
