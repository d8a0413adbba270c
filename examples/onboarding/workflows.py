"""The onboarding example: welcome a new user, wait until their account is active, send tips.

The account check shows activity retries doing the waiting: ``check_account_status`` fails with an
``ApplicationError`` while the account is not active yet, and its retry policy tries it again, with
back-off, until it succeeds or the attempts run out.
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


@dataclass
class OnboardingSummary:
    user_id: str
    emails_sent: list[str] = field(default_factory=list)
    # The attempt of ``check_account_status`` that found the account active.
    status_checks: int = 0


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
    @workflow.run
    async def run(self, input: OnboardingInput) -> OnboardingSummary:
        user = input.user
        summary = OnboardingSummary(user_id=user.id)

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

        # The product waits three days here before the tips: `await workflow.sleep(timedelta(days=3))`,
        # a durable timer that survives restarts. That wait lands with durable timers in workflow code,
        # in a later release of wf; until then the tips go out as soon as the account is active.

        summary.emails_sent.append(
            await workflow.execute_activity(send_tips_email, user, start_to_close_timeout=timedelta(seconds=30))
        )
        return summary
