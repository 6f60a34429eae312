"""`manage.py sweep_jobs`: sends again background work whose message was lost (the same sweeps
the workers send themselves every minute). For cron, for operators after a broker outage, and
for drills."""

import dramatiq
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = (
        "Re-sends PENDING invoice and refund jobs (and their e-mails) overdue by more than "
        "JOBS_SWEEP_GRACE_SECONDS. Sweeps here, unless --enqueue asks the workers to."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--grace",
            type=float,
            default=None,
            help="Seconds overdue before work counts as lost (default: JOBS_SWEEP_GRACE_SECONDS).",
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="Send the sweep actors to the workers instead."
        )

    def handle(self, *args, grace: float | None, enqueue: bool, **options) -> None:
        for actor_name, function in settings.JOBS_SWEEPS.items():
            if enqueue:
                dramatiq.get_broker().get_actor(actor_name).send(grace)
                self.stdout.write(f"{actor_name}: sent to the workers")
            else:
                sent = import_string(function)(grace_seconds=grace)
                self.stdout.write(f"{actor_name}: {sent} sent again")
