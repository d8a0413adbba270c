"""Every command and snippet in README.md is exercised, read from the README itself so the two cannot drift.

The fenced blocks are taken from README.md: ``sh`` blocks line by line (a command, then an optional
``# comment``), ``python`` blocks whole. Each must match one entry of :data:`EXERCISED`: either it is
run here, as written, against the session server (the example's worker, its starter, the ``wf``
commands, the "Writing workflows" snippet while the example's worker runs, the testing snippet), or
it is named with the test that runs it elsewhere, which must exist. A block added to the README with
no entry fails :func:`test_every_readme_command_and_snippet_is_exercised`.

The one change made to what the README says: ``localhost:7233`` becomes the session server's address
(``WF_ADDRESS`` for the scripts, which read it; in the snippet's text, which names it).
"""

from __future__ import annotations

import ast
import asyncio
import os
import re
import shlex
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from wf.server.app import Server

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    line: int

    def commands(self) -> list[tuple[str, str]]:
        """An ``sh`` block's commands, each with its trailing comment, ``#`` dropped (``prints: …``)."""
        out = []
        for raw in self.text.splitlines():
            if not raw.strip():
                continue
            command, _, comment = raw.partition("  #")
            out.append((command.strip(), comment.strip()))
        return out


def readme_blocks() -> list[Block]:
    text = (ROOT / "README.md").read_text()
    return [
        Block(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1)
        for m in re.finditer(r"^```(\w+)\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    ]


def python_block(first_line_pattern: str) -> Block:
    found = [b for b in readme_blocks() if b.lang == "python" and re.search(first_line_pattern, b.text, re.M)]
    assert len(found) == 1, f"README.md has {len(found)} python blocks matching {first_line_pattern!r}"
    return found[0]


def sh_command(pattern: str) -> tuple[str, str]:
    found = [c for b in readme_blocks() if b.lang == "sh" for c in b.commands() if re.fullmatch(pattern, c[0])]
    assert len(found) == 1, f"README.md has {len(found)} commands matching {pattern!r}"
    return found[0]


# What exercises each README command (by a pattern over the command) and snippet (by a pattern found in
# it): "here" for test_the_readme_runs_as_written below, or "tests/<file>.py::<test>" elsewhere.
HERE = "here"
EXERCISED: dict[tuple[str, str], str] = {
    ("sh", r"make run( PORT=\d+)?"): "tests/test_faults.py::test_start_dev_survives_sigkill_and_stops_cleanly",
    ("sh", r"make test"): "tests/test_packaging.py::test_ci_runs_the_readme_test_command",
    ("sh", r"wf server start --tls-cert \S+ --tls-key \S+ --tls-client-ca \S+"):
        "tests/test_tls_cli.py::test_a_mutual_tls_server_its_cli_clients_and_its_https_ui",
    ("sh", r"wf workflow list --tls-ca-path \S+ --tls-cert-path \S+ --tls-key-path \S+"):
        "tests/test_tls_cli.py::test_a_mutual_tls_server_its_cli_clients_and_its_https_ui",
    ("python", r"^async def connect_with_mutual_tls\("):
        "tests/test_tls.py::test_mutual_tls_gives_the_pipeline_the_client_subject",
    ("sh", r"wf ui --address \S+ --port \d+"):
        "tests/test_ui_cli.py::test_wf_ui_serves_a_running_server_and_stops_cleanly",
    ("sh", r"wf server start --ui-port \d+"):
        "tests/test_ui_cli.py::test_wf_server_start_serves_the_ui_only_when_given_a_port",
    ("sh", r"make proto"): "tests/test_proto.py::test_generated_modules_match_the_proto_files",
    ("sh", r"make lint"): "tests/test_readme.py::test_make_targets_in_the_readme_exist",
    ("sh", r"make clean"): "tests/test_readme.py::test_make_targets_in_the_readme_exist",
    ("sh", r"\.venv/bin/python examples/hello/worker\.py"): HERE,
    ("sh", r"\.venv/bin/python examples/hello/starter\.py"): HERE,
    ("sh", r"\.venv/bin/wf workflow execute .*"): HERE,
    ("sh", r"\.venv/bin/wf workflow show .*"): HERE,
    ("sh", r"export WF_DB_URL=.*"):
        "tests/test_db_password.py::test_a_password_in_wf_db_url_or_a_file_is_not_warned_about",
    ("sh", r"wf server start --db-password-file .*"):
        "tests/test_db_password.py::test_a_password_in_wf_db_url_or_a_file_is_not_warned_about",
    ("sh", r"grpcurl -plaintext localhost:7233 grpc\.health\.v1\.Health/Check"):
        "tests/test_health.py::test_health_follows_the_database",
    ("sh", r"grpcurl -plaintext localhost:7233 list"): "tests/test_health.py::test_reflection_lists_the_api",
    ("sh", r"docker-compose up"): "tests/test_packaging.py::test_docker_compose_config_is_valid",
    ("sh", r"wf db rotate-token-key --db URL"):
        "tests/test_tokens.py::test_after_a_rotation_tokens_issued_before_still_complete_and_new_ones_use_the_new_key",
    ("sh", r"wf activity complete --workflow-id .*"): "tests/test_async_activity.py::test_wf_activity_complete",
    ("sh", r"wf activity fail --workflow-id .*"):
        "tests/test_async_activity.py::test_wf_activity_fail_with_json_output",
    ("sh", r"wf workflow reset -w order-7 --type LastWorkflowTask .* --check"):
        "tests/test_reset.py::test_cli_reset_by_type_with_check_and_a_refused_point",
    ("sh", r"wf workflow reset -w order-7 --event-id 12 .*"):
        "tests/test_reset.py::test_cli_reset_by_type_with_check_and_a_refused_point",
    ("sh", r"wf workflow stack -w order-7"):
        "tests/test_stack.py::test_stack_shows_each_coroutine_at_its_line_of_workflow_code",
    ("python", r"^new_run = await client\.get_workflow_handle"):
        "tests/test_reset.py::test_reapply_none_drops_the_signals_after_the_point",
    ("sh", r"wf operator search-attribute (create|list).*"):
        "tests/test_visibility.py::test_the_cli_registers_starts_lists_and_counts",
    ("sh", r"wf workflow list -q .* ORDER BY StateTransitionCount DESC\" --limit 10 -o json"):
        "tests/test_cost.py::test_the_costliest_runs_of_a_type_in_one_cli_query",
    ("sh", r"wf workflow (list|count) -q .*"):
        "tests/test_visibility.py::test_the_cli_registers_starts_lists_and_counts",
    ("python", r"^await client\.add_search_attributes\("):
        "tests/test_visibility.py::test_start_keeps_typed_values_that_describe_and_list_return",
    ("sh", r"wf workflow terminate -q .* --yes"):
        "tests/test_retention.py::test_batch_terminate_by_query_with_yes_prints_the_count",
    ("sh", r"wf operator namespace (create|describe|list|update|delete)\b.*"):
        "tests/test_namespaces.py::test_wf_operator_namespace_create_describe_list_update_delete",
    ("python", r"^async def ask_for_approval\("):
        "tests/test_async_activity.py::test_complete_by_token_is_the_workflow_result_and_a_second_answer_is_refused",
    ("python", r"^async def main\(\) -> None:"): HERE,
    ("python", r"^async def test_greeting\(\):"): HERE,
    ("python", r"^other = workflow.get_external_workflow_handle"):
        "tests/test_external.py::test_a_workflow_signals_another_and_both_histories_record_it",
    ("python", r"^class Order:"): "tests/test_children.py::test_the_readme_child_workflow_snippet_runs_as_written",
    ("python", r"^class DailyReport:"):
        "tests/test_schedules_sdk.py::test_the_readme_schedule_snippet_runs_as_written",
    ("sh", r"wf schedule .*"): "tests/test_schedules_cli.py::test_schedule_commands",
    ("sh", r"wf operator audit list\b.*"): "tests/test_audit.py::test_cli_lists_the_namespace_s_lines",
    ("sh", r"wf server start --db \S+ --auth required"):
        "tests/test_auth_cli.py::test_wf_server_start_with_auth_required_prints_the_first_key_once",
    ("sh", r"wf operator api-key (create|list|revoke)\b.*"):
        "tests/test_auth_cli.py::test_the_first_admin_key_from_the_database_then_keys_made_listed_used_and_revoked",
    ("python", r"^from worker_sdk\.codecs import EncryptionCodec"):
        "tests/test_codec.py::test_the_readme_encryption_snippet_connects_with_the_codec",
    ("sh", r"wf (codec-server|ui|workflow show) .*--codec-auth .*"):
        "tests/test_codec.py::test_with_encryption_no_plaintext_reaches_the_database_and_decoders_show_it",
    ("python", r"^class Counter:"):
        "tests/test_continue_as_new.py::test_a_chain_of_100_runs_carries_its_state_and_result_follows_it",
}


def _entry(lang: str, text: str) -> str | None:
    for (kind, pattern), where in EXERCISED.items():
        if kind != lang:
            continue
        if (lang == "sh" and re.fullmatch(pattern, text)) or (lang == "python" and re.search(pattern, text, re.M)):
            return where
    return None


def test_every_readme_command_and_snippet_is_exercised() -> None:
    missing = []
    for block in readme_blocks():
        items = [c for c, _ in block.commands()] if block.lang == "sh" else [block.text]
        for item in items:
            where = _entry(block.lang, item)
            if where is None:
                missing.append(f"README.md:{block.line}: {item.splitlines()[0]!r}")
                continue
            if where != HERE:
                path, _, name = where.partition("::")
                source = (ROOT / path).read_text()
                assert re.search(rf"^(async )?def {name}\(", source, re.M), f"{where} is gone (README.md:{block.line})"
    assert not missing, "README commands and snippets no test exercises (add them to EXERCISED):\n" + "\n".join(missing)


def test_the_readme_python_snippets_are_valid_python() -> None:
    for block in readme_blocks():
        if block.lang == "python":
            ast.parse(block.text, f"README.md:{block.line}")


def test_make_targets_in_the_readme_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for block in readme_blocks():
        for command, _ in block.commands() if block.lang == "sh" else []:
            if command.startswith("make "):
                target = command.split()[1]
                assert re.search(rf"^{target}:", makefile, re.M), f"make {target}: no such target"


# -- running the README as written --------------------------------------------------------------


def _argv(command: str) -> list[str]:
    """A README command's argv, ``.venv/bin/…`` being this interpreter's environment."""
    argv = shlex.split(command)
    if argv[0].startswith(".venv/bin/"):
        argv[0] = str(BIN / argv[0].removeprefix(".venv/bin/"))
    return argv


async def _run(argv: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest_asyncio.fixture(loop_scope="session")
async def example_worker(server: Server) -> AsyncIterator[dict[str, str]]:
    """The README's hello worker, started as the README says, on the session server; the environment
    the README's other commands run in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WF_")} | {"WF_ADDRESS": server.address}
    command, _ = sh_command(r"\.venv/bin/python examples/hello/worker\.py")
    proc = await asyncio.create_subprocess_exec(
        *_argv(command), cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert b"worker polling task queue 'hello'" in line, line
        yield env
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def test_the_readme_runs_as_written(server: Server, example_worker: dict[str, str], tmp_path: Path) -> None:
    env = example_worker

    command, comment = sh_command(r"\.venv/bin/python examples/hello/starter\.py")
    code, out, err = await _run(_argv(command), env)
    assert code == 0, err
    assert out.strip() == comment.removeprefix("prints:").strip() == "Hello, world!"

    command, _ = sh_command(r"\.venv/bin/wf workflow execute .*")
    code, out, err = await _run(_argv(command), env)
    assert code == 0, err
    assert '"Hello, world!"' in out

    command, _ = sh_command(r"\.venv/bin/wf workflow show .*")
    code, out, err = await _run(_argv(command), env)
    assert code == 0, err
    assert "WorkflowExecutionCompleted" in out

    # The "Writing workflows" snippet, saved as a file and run while the example's worker polls 'hello':
    # it brings its own worker, task queue and workflow id, and prints the update's result and the query's.
    snippet = python_block(r"^async def main\(\) -> None:").text
    assert snippet.count('"localhost:7233"') == 1
    script = tmp_path / "greeting.py"
    script.write_text(snippet.replace('"localhost:7233"', repr(server.address)))
    for _ in range(2):  # runs again as is: it terminates its run, so its id is free
        code, out, err = await _run([sys.executable, str(script)], env)
        assert code == 0, err
        assert out.strip() == "renamed to Ada True"

    # The testing snippet, run as pytest runs it: on the snippet above, with WF_DB_URL naming the
    # session's database (as the README says start_local() uses it).
    testing = python_block(r"^async def test_greeting\(\):").text
    test_file = tmp_path / "test_greeting.py"
    test_file.write_text(
        snippet.split('\n\nasync def main()')[0] + "\n\n" + testing
        + "\n\nif __name__ == '__main__':\n    import asyncio\n    asyncio.run(test_greeting())\n"
    )
    code, out, err = await _run([sys.executable, str(test_file)], env | {"WF_DB_URL": server.config.db_url}, 120)
    assert code == 0, err


pytestmark = pytest.mark.timeout(300)
