"""Botocore's data loader without its walk over every service folder, for the container's session.

To check that a service exists before it loads its model, botocore lists every service it knows: for
each of the ~440 folders of its data (and boto3's), a ``listdir`` of the folder and a ``stat`` per API
version, ~2,700 system calls for each kind of file asked for. A cold start asks three kinds (the
service model, its endpoint rules and, for a resource, boto3's resource model): ~25 ms of CPU, about
a sixth of ``import boto3``, measured on the built layers with CPython 3.12. ``ServiceFolderLoader``
answers the same question from one directory scan per search path: every folder is a service. It
loads the same files by the same rules; only a folder that lacks the kind of file asked for now
fails with botocore's ``DataNotFoundError`` rather than ``UnknownServiceError`` (a misspelt service
name still gets ``UnknownServiceError``).
"""

from __future__ import annotations

import os

import botocore.session
from botocore.loaders import Loader, instance_cache


class ServiceFolderLoader(Loader):
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
