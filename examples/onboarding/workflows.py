"""The onboarding example: welcome a new user, wait until their account is active, wait three
days, wait for a person to approve the tips email (or give up after a day), send it.

The account check shows activity retries doing the waiting: ``check_account_status`` fails with an
``ApplicationError`` while the account is not active yet, and its retry policy tries it again, with
back-off, until it succeeds or the attempts run out. The three days are a durable timer and the
approval a signal with a timeout; ``status`` answers queries at any time and ``change_email`` is an
update with a validator. All of it survives restarts of the server and the workers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from worker_sdk import RetryPolicy, activity, workflow
from worker_sdk.errors import ActivityError, ApplicationError

TASK_QUEUE = "onboarding"

# Stands in for the account service: an account becomes active on this attempt of the check.
ACTIVE_ON_ATTEMPT = 3

log = logging.getLogger(__name__)


@dataclass
class User:
    id: str
    email: str
    name: str


@dataclass
class OnboardingInput:
    user: User
    # How ``check_account_status`` is retried while the account is not active yet.
    status_retry_interval: timedelta = timedelta(seconds=1)
    status_max_attempts: int = 5
    # How long to wait before the tips email, and how long for its approval.
    wait_before_tips: timedelta = timedelta(days=3)
    approval_timeout: timedelta = timedelta(days=1)


@dataclass
class OnboardingSummary:
    user_id: str
    emails_sent: list[str] = field(default_factory=list)
    # The attempt of ``check_account_status`` that found the account active.
    status_checks: int = 0
    # Who approved the tips email ("" when nobody did in time and it was not sent).
    approved_by: str = ""


@activity.defn
async def send_welcome_email(user: User) -> str:
    """Send the welcome email; returns the message id."""
    log.info("sending welcome email to %s", user.email)
    return f"welcome-{user.id}"


@activity.defn
async def check_account_status(user: User) -> int:
    """Succeed once the account is active (returning the attempt that saw it); fail until then."""
    attempt = activity.info().attempt
    if attempt < ACTIVE_ON_ATTEMPT:
        raise ApplicationError(f"account {user.id} is not active yet", type="AccountNotActive")
    return attempt


@activity.defn
def send_tips_email(user: User) -> str:
    """Send the tips email; returns the message id. A plain ``def``: it runs in a thread."""
    log.info("sending tips email to %s", user.email)
    return f"tips-{user.id}"


@workflow.defn
class Onboarding:
    def __init__(self) -> None:
        self.stage = "starting"
        self.approved_by = ""
        self.email = ""

    @workflow.run
    async def run(self, input: OnboardingInput) -> OnboardingSummary:
        user = input.user
        self.email = user.email
        summary = OnboardingSummary(user_id=user.id)
        self.stage = "welcoming"

        summary.emails_sent.append(
            await workflow.execute_activity(
                send_welcome_email, user, start_to_close_timeout=timedelta(seconds=30)
            )
        )

        try:
            summary.status_checks = await workflow.execute_activity(
                check_account_status,
                user,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(
                    initial_interval=input.status_retry_interval,
                    backoff_coefficient=1.0,
                    maximum_attempts=input.status_max_attempts,
                ),
            )
        except ActivityError as exc:
            # The retries ran out: fail the workflow with a reason a person can read; the
            # activity's own error stays reachable as the cause.
            raise ApplicationError(f"account {user.id} did not become active", type="AccountNeverActive") from exc
        workflow.logger.info("account %s is active after %d checks", user.id, summary.status_checks)

        self.stage = "waiting before tips"
        await workflow.sleep(input.wait_before_tips)

        self.stage = "waiting for approval"
        try:
            await workflow.wait_condition(lambda: bool(self.approved_by), timeout=input.approval_timeout)
        except TimeoutError:
            self.stage = "done: tips not approved in time"
            return summary
        summary.approved_by = self.approved_by

        self.stage = "sending tips"
        tips_for = User(user.id, self.email, user.name)
        summary.emails_sent.append(
            await workflow.execute_activity(send_tips_email, tips_for, start_to_close_timeout=timedelta(seconds=30))
        )
        self.stage = "done"
        return summary

    @workflow.signal
    def approve(self, approver: str) -> None:
        self.approved_by = approver

    @workflow.query
    def status(self) -> str:
        return self.stage

    @workflow.update
    def change_email(self, email: str) -> str:
        previous, self.email = self.email, email
        return previous

    @change_email.validator
    def _valid_email(self, email: str) -> None:
        if "@" not in email:
            raise ValueError(f"not an email address: {email!r}")
