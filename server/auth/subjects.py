"""``--auth-subjects FILE``: mutual-TLS client certificates mapped to grants, as API keys have them.

The file is TOML (``.toml``) or JSON (anything else): a table from a certificate's subject, as gRPC
gives it in the connection's ``x509_subject`` (e.g. ``"CN=worker-1,O=Acme"``), or from its common
name (``x509_common_name``; a name with "=" in it is a subject, never a common name), to a list of
``[namespace, role]`` pairs; role names are those of ``wf operator api-key create --role``
(``cluster-admin`` with the namespace ``""``)::

    [subjects]
    "CN=billing-worker,O=Acme" = [["billing", "worker"]]
    "ops-console" = [["", "cluster-admin"]]

JSON: ``{"subjects": {"CN=billing-worker,O=Acme": [["billing", "worker"]]}}``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from wf.server.auth.principal import Principal
from wf.server.auth.roles import BY_NAME, CLUSTER_ADMIN
from wf.v1 import auth_pb2

Grants = tuple[tuple[str, int], ...]


def parse(data: Mapping[str, Any], source: str = "the subjects file") -> dict[str, Grants]:
    """The subject → grants table of a parsed file; ValueError naming what is wrong."""
    table = data.get("subjects", data)
    if not isinstance(table, Mapping):
        raise ValueError(f"{source}: 'subjects' must be a table of subject → [[namespace, role], ...]")
    out: dict[str, Grants] = {}
    for subject, grants in table.items():
        if not isinstance(grants, Sequence) or isinstance(grants, str):
            raise ValueError(f"{source}: {subject!r} must map to a list of [namespace, role] pairs")
        parsed = []
        for grant in grants:
            if not (isinstance(grant, Sequence) and len(grant) == 2 and all(isinstance(x, str) for x in grant)):
                raise ValueError(f"{source}: {subject!r}: {grant!r} is not a [namespace, role] pair")
            namespace, role_name = grant
            role = BY_NAME.get(role_name)
            if role is None:
                raise ValueError(f"{source}: {subject!r}: unknown role {role_name!r} (one of {', '.join(BY_NAME)})")
            if (role == CLUSTER_ADMIN) != (namespace == ""):
                raise ValueError(f"{source}: {subject!r}: cluster-admin, and only it, has the namespace \"\"")
            parsed.append((namespace, role))
        out[str(subject)] = tuple(parsed)
    return out


def load(path: str | Path) -> dict[str, Grants]:
    """The subject → grants table of the file at ``path``."""
    p = Path(path)
    text = p.read_text()
    data = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
    if not isinstance(data, Mapping):
        raise ValueError(f"{p}: expected a table of subjects")
    return parse(data, str(p))


def _is_subject(name: str) -> bool:
    """Whether a key of the table is a whole subject (``CN=…,O=…``) rather than a common name."""
    return "=" in name


def principal_of(auth_context: Mapping[str, Iterable[bytes]], table: Mapping[str, Grants]) -> Principal | None:
    """The principal of a connection's client certificate, if its subject (or common name) is mapped.

    A subject is looked up among the table's subjects only, and a common name among its common names
    (those without "=") only: a certificate whose common name is the text of a mapped subject, which
    anyone who may choose the name of a certificate from the same CA could get, must not take that
    subject's grants.
    """
    for field, wanted in (("x509_subject", True), ("x509_common_name", False)):
        for value in auth_context.get(field, ()):
            name = value.decode(errors="replace")
            grants = table.get(name) if _is_subject(name) == wanted else None
            if grants is not None:
                return Principal(name, auth_pb2.IDENTITY_KIND_CERTIFICATE, grants)
    return None
