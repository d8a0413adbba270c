"""Who makes a call, as the authentication link decides it and every later link reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from wf.v1 import auth_pb2


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one call: a key's name, a certificate's subject, or "anonymous".

    ``kind`` is a ``wf.v1.IdentityKind``; ``grants`` are (namespace, ``wf.v1.Role``) pairs, with the
    empty namespace for ``ROLE_CLUSTER_ADMIN``. Frozen and small, so links may share it freely.
    """

    name: str
    kind: int  # wf.v1 IdentityKind
    grants: tuple[tuple[str, int], ...]  # (namespace, Role); "" namespace for ROLE_CLUSTER_ADMIN


ANONYMOUS_NAME: Final = "anonymous"

# With --auth off every caller may do everything, as before security existed.
ANONYMOUS_ADMIN: Final = Principal(
    ANONYMOUS_NAME, auth_pb2.IDENTITY_KIND_ANONYMOUS, (("", auth_pb2.ROLE_CLUSTER_ADMIN),)
)
# With --auth required a caller without credentials holds nothing.
ANONYMOUS: Final = Principal(ANONYMOUS_NAME, auth_pb2.IDENTITY_KIND_ANONYMOUS, ())
