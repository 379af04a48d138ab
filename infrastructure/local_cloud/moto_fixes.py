"""Where moto's DynamoDB behaves unlike DynamoDB in ways a run would notice; each patch puts back
what DynamoDB does. Active for the whole of a run (`LocalRun.deployed`)."""

from __future__ import annotations

import copy
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
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


class _IndexPartitions:
    """Which items each index hash key value holds, per table, kept up to date from the keys the
    writes name. moto answers a query on an index by sorting every item in the table and testing
    each: with a query per mention, ingest grows quadratically (an hour at 10,000 mentions)."""

    def __init__(self) -> None:
        self._tables: dict[int, Table] = {}
        self._written: dict[int, dict[Any, None]] = {}  # table -> keys written since last read
        # (table, attribute) -> value -> key -> item, and (table, attribute) -> key -> value
        self._filed: dict[tuple[int, str], dict[Any, dict[Any, Any]]] = {}
        self._value_of: dict[tuple[int, str], dict[Any, Any]] = {}

    def written(self, table: Table, hash_key: Any, range_key: Any) -> None:
        self._tables.setdefault(id(table), table)  # held, so its id is not reused
        self._written.setdefault(id(table), {})[(hash_key, range_key)] = None

    def items_with(self, table: Table, attribute: str, value: Any) -> list[Any]:
        index = (id(table), attribute)
        if index not in self._filed:
            self._tables.setdefault(id(table), table)
            self._filed[index], self._value_of[index] = {}, {}
            for item in Table.all_items(table):  # the class's: the instance's is this partition
                self._file(index, (item.hash_key, item.range_key), item)
        indexes = [filed for filed in self._filed if filed[0] == id(table)]
        for key in self._written.pop(id(table), {}):
            current = table.get_item(*key)
            for filed in indexes:
                self._file(filed, key, current)
        return list(self._filed[index].get((value.type, value.value), {}).values())

    def _file(self, index: tuple[int, str], key: Any, item: Any) -> None:
        previous = self._value_of[index].pop(key, None)
        if previous is not None:
            self._filed[index][previous].pop(key, None)
        value = item.attrs.get(index[1]) if item is not None else None
        if value is not None:
            self._value_of[index][key] = (value.type, value.value)
            self._filed[index].setdefault((value.type, value.value), {})[key] = item


def _serialised(original: Callable[..., Any], partitions: _IndexPartitions) -> Callable[..., Any]:
    """moto's writes are not thread-safe: a cancelled transaction restores a copy of the whole table
    taken when it began, erasing whatever another thread wrote meanwhile. DynamoDB's writes are
    atomic and isolated, so when two functions run at once (a schedule firing twice) moto's writes
    take turns; the functions' own race (both read the checkpoint, both write the same mention) is
    left as it is. Each write's key is noted for the index partitions."""

    signature = inspect.signature(original)

    def write(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _WRITES:
            try:
                return original(backend, *args, **kwargs)
            finally:
                arguments = signature.bind(backend, *args, **kwargs).arguments
                key = arguments.get("key") or arguments.get("item_attrs")
                table = backend.tables.get(arguments.get("table_name", ""))
                if table is not None and key is not None:
                    with suppress(Exception):  # a malformed key, refused by moto: nothing written
                        partitions.written(table, *backend.get_keys_value(table, key))

    return write


def _index_query_over_its_partition(
    original: Callable[..., Any], partitions: _IndexPartitions
) -> Callable[..., Any]:
    """A query on an index reads only the items whose index hash key matches: the same answer as
    moto's, without testing every item in the table."""

    signature = inspect.signature(original)

    def query(table: Table, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(table, *args, **kwargs).arguments
        conditions = list(arguments.get("hash_key_conditions") or [])
        if not arguments.get("index_name") or not conditions:
            return original(table, *args, **kwargs)

        with _WRITES:  # the partition is taken and read while no write changes it
            (name, expected), *others = conditions

            def partition() -> list[Any]:
                return [
                    item
                    for item in partitions.items_with(table, name, expected)
                    if all(
                        (value := item.attrs.get(other)) is not None
                        and (value.type, value.value) == (wanted.type, wanted.value)
                        for other, wanted in others
                    )
                ]

            table.all_items = partition  # type: ignore[method-assign]
            try:
                return original(table, *args, **kwargs)
            finally:
                del table.all_items

    return query


@contextmanager
def dynamodb_as_in_aws() -> Iterator[None]:
    partitions = _IndexPartitions()
    with ExitStack() as stack:
        for operation in ("put_item", "update_item", "delete_item"):
            original = getattr(DynamoDBBackend, operation)
            serialised = _serialised(original, partitions)
            stack.enter_context(mock.patch.object(DynamoDBBackend, operation, serialised))
        stack.enter_context(
            mock.patch.object(
                DynamoDBBackend,
                "transact_write_items",
                _serialised(_transaction_undone_in_place(DynamoDBBackend.transact_write_items), partitions),
            )
        )
        stack.enter_context(mock.patch.object(dynamodb_models, "copy", _TablesKeptInPlace))
        stack.enter_context(
            mock.patch.object(Table, "query", _index_query_over_its_partition(Table.query, partitions))
        )
        # moto hands every table write straight to the mapped function, synchronously, unfiltered
        # and one write at a time, and a transaction deep-copies the table with its mappings (and
        # through them much of moto). local_cloud.streams is the event source mapping here (the
        # template's filter, batches, retries), so the tables forget moto's.
        for table in _tables():
            mappings, table.lambda_event_source_mappings = table.lambda_event_source_mappings, {}
            stack.callback(setattr, table, "lambda_event_source_mappings", mappings)
        yield
