"""wf's benchmark harness: ``python -m bench WORKLOAD``; see bench/README.md."""

import os

# Before grpc loads: the bench forks (pg_ctl, `wf server`, the worker) while gRPC threads run, and
# gRPC's fork handlers only matter to children that go on using gRPC after fork(), which ours never do.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
