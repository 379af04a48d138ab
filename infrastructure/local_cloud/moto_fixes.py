"""Where moto's DynamoDB behaves unlike DynamoDB in ways a run would notice; each patch puts back
what DynamoDB does. Active for the whole of a run (`LocalRun.deployed`)."""

from __future__ import annotations

import copy
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table


def _tables() -> list[Any]:
    return [
        table
        for regions in dynamodb_backends.values()
        for backend in regions.values()
        for table in backend.tables.values()
    ]


class _TablesKeptInPlace:
    """Stands in for the `copy` module inside moto's DynamoDB backend, where a transaction begins by
    deep-copying every table it names (items and stream records, ever growing) to restore if it is
    cancelled: quadratic in a long run, and the restored copy's stream shard is one no open iterator
    reads, so the stream goes silent. Here a table "copies" as itself, and
    `_transaction_undone_in_place` puts back just the items the cancelled transaction touched."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _transaction_undone_in_place(original: Callable[..., Any]) -> Callable[..., Any]:
    """A cancelled transaction leaves its items as they were and nothing of itself on the stream,
    as in DynamoDB."""

    def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        before: list[tuple[Table, Any, Any, Any]] = []  # table, hash key, range key, item or None
        streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            operation: dict[str, Any] = next(iter(entry.values()), {})
            table = backend.tables.get(operation.get("TableName", ""))
            if table is None:
                continue
            try:
                hash_key, range_key = backend.get_keys_value(table, operation.get("Key") or operation["Item"])
            except Exception:  # moto refuses the malformed operation itself, before writing
                continue
            before.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
            if table.stream_shard is not None:
                streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        try:
            return original(backend, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(before):
                rows = table.items[hash_key] if range_key is not None else table.items
                key = range_key if range_key is not None else hash_key
                if item is None:
                    rows.pop(key, None)
                else:
                    rows[key] = item
            for shard, length in streams.values():
                del shard.items[length:]
            raise

    return transact_write_items


_WRITES = threading.RLock()


def _serialised(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's writes are not thread-safe: a cancelled transaction restores a copy of the whole table
    taken when it began, erasing whatever another thread wrote meanwhile. DynamoDB's writes are
    atomic and isolated, so when two functions run at once (a schedule firing twice) moto's writes
    take turns; the functions' own race (both read the checkpoint, both write the same mention) is
    left as it is."""

    def write(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _WRITES:
            return original(backend, *args, **kwargs)

    return write


def _index_query_over_its_partition(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto answers a query on an index by sorting every item in the table, then testing each: a
    query per mention makes ingest quadratic (an hour at 10,000 mentions). The same query over just
    the items whose index hash key matches gives the same answer."""

    signature = inspect.signature(original)

    def query(table: Table, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(table, *args, **kwargs).arguments
        conditions = arguments.get("hash_key_conditions")
        if not arguments.get("index_name") or not conditions:
            return original(table, *args, **kwargs)

        def partition() -> list[Any]:
            items: list[Any] = [
                item
                for rows in table.items.values()
                for item in (rows.values() if table.range_key_attr else [rows])
            ]
            return [
                item
                for item in items
                if all(
                    (value := item.attrs.get(name)) is not None
                    and (value.type, value.value) == (expected.type, expected.value)
                    for name, expected in conditions
                )
            ]

        with _WRITES:  # the partition is taken and read while no write changes it
            table.all_items = partition  # type: ignore[method-assign]
            try:
                return original(table, *args, **kwargs)
            finally:
                del table.all_items

    return query


@contextmanager
def dynamodb_as_in_aws() -> Iterator[None]:
    with ExitStack() as stack:
        for operation in ("put_item", "update_item", "delete_item"):
            original = getattr(DynamoDBBackend, operation)
            stack.enter_context(mock.patch.object(DynamoDBBackend, operation, _serialised(original)))
        stack.enter_context(
            mock.patch.object(
                DynamoDBBackend,
                "transact_write_items",
                _serialised(_transaction_undone_in_place(DynamoDBBackend.transact_write_items)),
            )
        )
        stack.enter_context(mock.patch.object(dynamodb_models, "copy", _TablesKeptInPlace))
        stack.enter_context(mock.patch.object(Table, "query", _index_query_over_its_partition(Table.query)))
        # moto hands every table write straight to the mapped function, synchronously, unfiltered
        # and one write at a time, and a transaction deep-copies the table with its mappings (and
        # through them much of moto). local_cloud.streams is the event source mapping here (the
        # template's filter, batches, retries), so the tables forget moto's.
        for table in _tables():
            mappings, table.lambda_event_source_mappings = table.lambda_event_source_mappings, {}
            stack.callback(setattr, table, "lambda_event_source_mappings", mappings)
        yield
