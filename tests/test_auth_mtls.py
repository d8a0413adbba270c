"""Client certificates mapped to grants by ``--auth-subjects``, on a server with mutual TLS and
``--auth required``."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from tests.auth_helpers import auth_server
from tests.helpers import new_id, rpc_error, scratch_database, start_request
from tests.tls_certs import Issued, issue, make_pki
from wf.server.auth.subjects import load
from wf.v1 import auth_pb2, service_pb2
from worker_sdk import Client, TLSConfig
from worker_sdk.errors import RPCError

S = service_pb2


@pytest.mark.parametrize("multiplex", [False, True], ids=["rpc", "multiplex"])
async def test_a_mapped_certificate_holds_its_grants_and_an_unmapped_one_none(
    db_url: str, tmp_path: Path, multiplex: bool
) -> None:
    pki = make_pki(tmp_path)
    stranger = issue(pki.ca, tmp_path, "stranger", organization="wf tests", stem="stranger")
    subjects = tmp_path / "subjects.toml"
    subjects.write_text(f'[subjects]\n"{pki.client.subject}" = [["default", "reader"]]\n')
    tls = dict(tls_cert=str(pki.server.cert_path), tls_key=str(pki.server.key_path),
               tls_client_ca=str(pki.ca.cert_path), auth_subjects=str(subjects))
    ca = pki.ca.cert_path.read_bytes()

    async with scratch_database(db_url) as url, auth_server(url, **tls) as server:
        address = f"localhost:{server.port}"
        mapped = TLSConfig(server_root_ca_cert=ca, client_cert=pki.client.cert_path.read_bytes(),
                           client_private_key=pki.client.key_path.read_bytes())
        async with await Client.connect(address, tls=mapped, multiplex=multiplex) as client:
            me = await client.service.GetCallerIdentity(S.GetCallerIdentityRequest(namespace="default"), timeout=10)
            assert (me.principal, me.kind, me.role) == (
                pki.client.subject, auth_pb2.IDENTITY_KIND_CERTIFICATE, auth_pb2.ROLE_READER)
            assert await client.count_workflows("") is not None
            err = await rpc_error(client.service.StartWorkflowExecution(start_request(new_id(), "q"), timeout=10))
            assert (err.code(), err.details()) == (
                grpc.StatusCode.PERMISSION_DENIED, "StartWorkflowExecution needs role writer in namespace 'default'")

        unmapped = TLSConfig(server_root_ca_cert=ca, client_cert=stranger.cert_path.read_bytes(),
                             client_private_key=stranger.key_path.read_bytes())
        with pytest.raises(RPCError) as refused:
            await Client.connect(address, tls=unmapped, multiplex=multiplex)
        assert refused.value.status == grpc.StatusCode.UNAUTHENTICATED
        # An API key still works beside certificates, over the same mutual TLS.
        assert server.bootstrap_key is not None
        async with await Client.connect(address, tls=unmapped, api_key=server.bootstrap_key,
                                        multiplex=multiplex) as admin:
            me = await admin.service.GetCallerIdentity(S.GetCallerIdentityRequest(), timeout=10)
            assert (me.principal, me.kind) == ("bootstrap-admin", auth_pb2.IDENTITY_KIND_API_KEY)


async def test_a_certificate_whose_common_name_spells_a_mapped_subject_gets_nothing(
    db_url: str, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path)
    ops = "CN=ops,O=wf tests"  # mapped as a whole subject
    # Anyone who may choose the name on a certificate of the same CA can ask for these.
    spoof = issue(pki.ca, tmp_path, ops, organization="intruder", stem="spoof")
    plain = issue(pki.ca, tmp_path, "console", organization="wf tests", stem="console")
    subjects = tmp_path / "subjects.json"
    subjects.write_text(json.dumps({"subjects": {ops: [["", "cluster-admin"]], "console": [["default", "reader"]]}}))
    tls = dict(tls_cert=str(pki.server.cert_path), tls_key=str(pki.server.key_path),
               tls_client_ca=str(pki.ca.cert_path), auth_subjects=str(subjects))
    ca = pki.ca.cert_path.read_bytes()

    def holding(issued: Issued) -> TLSConfig:
        return TLSConfig(server_root_ca_cert=ca, client_cert=issued.cert_path.read_bytes(),
                         client_private_key=issued.key_path.read_bytes())

    async with scratch_database(db_url) as url, auth_server(url, **tls) as server:
        address = f"localhost:{server.port}"
        with pytest.raises(RPCError) as refused:
            await Client.connect(address, tls=holding(spoof), multiplex=False)
        assert refused.value.status == grpc.StatusCode.UNAUTHENTICATED
        # A common name mapped as one still holds its grants.
        async with await Client.connect(address, tls=holding(plain), multiplex=False) as client:
            me = await client.service.GetCallerIdentity(S.GetCallerIdentityRequest(namespace="default"), timeout=10)
            assert (me.principal, me.role) == ("console", auth_pb2.ROLE_READER)


def test_the_subjects_file_is_toml_or_json_and_a_wrong_one_is_named(tmp_path: Path) -> None:
    as_json = tmp_path / "s.json"
    as_json.write_text(json.dumps({"subjects": {"CN=ops": [["", "cluster-admin"]], "CN=w": [["a", "worker"]]}}))
    assert load(as_json) == {"CN=ops": (("", auth_pb2.ROLE_CLUSTER_ADMIN),), "CN=w": (("a", auth_pb2.ROLE_WORKER),)}
    bad = tmp_path / "bad.toml"
    bad.write_text('[subjects]\n"CN=x" = [["a", "owner"]]\n')
    with pytest.raises(ValueError, match="unknown role 'owner'"):
        load(bad)
    bad.write_text('[subjects]\n"CN=x" = [["a", "cluster-admin"]]\n')
    with pytest.raises(ValueError, match="cluster-admin"):
        load(bad)
