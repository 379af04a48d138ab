"""Botocore's data loader, made cheaper at a cold start, for the container's session.

To check that a service exists before it loads its model, botocore lists every service it knows: for
each of the ~440 folders of its data (and boto3's), a ``listdir`` of the folder and a ``stat`` per API
version, ~2,700 system calls for each kind of file asked for. A cold start asks three kinds (the
service model, its endpoint rules and, for a resource, boto3's resource model): ~25 ms of CPU, about
a sixth of ``import boto3``, measured on the built layers with CPython 3.12. ``ServiceFolderLoader``
answers the same question from one directory scan per search path: every folder is a service. It
loads the same files by the same rules; only a folder that lacks the kind of file asked for now
fails with botocore's ``DataNotFoundError`` rather than ``UnknownServiceError`` (a misspelt service
name still gets ``UnknownServiceError``).

And it parses botocore's JSON into plain dicts, not ``OrderedDict`` (``DictJSONFileLoader``): the
hook costs a Python call per JSON object, ~11 ms of the 1.2 MB endpoints.json alone that every first
client reads, plus each service model. Dicts keep insertion order; botocore only iterates, looks up
and copies this data (none of ``OrderedDict``'s own methods or order-sensitive equality).
"""

from __future__ import annotations

import json
import os
from typing import Any

import botocore.session
from botocore.loaders import JSONFileLoader, Loader, instance_cache


class DictJSONFileLoader(JSONFileLoader):
    def _load_file(self, full_path: str, open_method: Any) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as file:
            return json.loads(file.read().decode("utf-8"))


class ServiceFolderLoader(Loader):
    FILE_LOADER_CLASS = DictJSONFileLoader

    @instance_cache
    def list_available_services(self, type_name: str) -> list[str]:
        services: set[str] = set()
        for path in self._potential_locations():
            with os.scandir(path) as entries:
                services.update(entry.name for entry in entries if entry.is_dir())
        return sorted(services)


def _loader(search_path_string: str | None) -> ServiceFolderLoader:
    """``botocore.loaders.create_loader``, with our loader: AWS_DATA_PATH is honoured as botocore does."""
    if search_path_string is None:
        return ServiceFolderLoader()
    paths = [os.path.expanduser(os.path.expandvars(p)) for p in search_path_string.split(os.pathsep)]
    return ServiceFolderLoader(extra_search_paths=paths)


def botocore_session() -> botocore.session.Session:
    """A botocore session whose data loader is ``ServiceFolderLoader`` (for ``boto3.Session``)."""
    session = botocore.session.Session()
    session.lazy_register_component("data_loader", lambda: _loader(session.get_config_variable("data_path")))
    return session
