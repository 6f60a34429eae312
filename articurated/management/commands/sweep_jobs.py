"""`manage.py sweep_jobs`: sends again background work whose message was lost (the same sweeps
the workers send themselves every minute). For cron, for operators after a broker outage, and
for drills."""

import dramatiq
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = (
        "Re-sends every due PENDING invoice and refund job (and their e-mails): run by hand "
        "after an outage, all due work goes again at once (the jobs are safe to run twice). "
        "--with-grace or --grace leaves work overdue by less alone, as the workers' own sweep "
        "does. Sweeps here, unless --enqueue asks the workers to."
    )

    def add_arguments(self, parser) -> None:
        grace = parser.add_mutually_exclusive_group()
        grace.add_argument(
            "--grace",
            type=float,
            default=0.0,
            help="Seconds overdue before work counts as lost (default 0: all due work).",
        )
        grace.add_argument(
            "--with-grace",
            action="store_true",
            help="Use JOBS_SWEEP_GRACE_SECONDS, like the workers' periodic sweep.",
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="Send the sweep actors to the workers instead."
        )

    def handle(self, *args, grace: float, with_grace: bool, enqueue: bool, **options) -> None:
        if with_grace:
            grace = settings.JOBS_SWEEP_GRACE_SECONDS
        for actor_name, function in settings.JOBS_SWEEPS.items():
            if enqueue:
                dramatiq.get_broker().get_actor(actor_name).send(grace)
                self.stdout.write(f"{actor_name}: sent to the workers")
            else:
                sent = import_string(function)(grace_seconds=grace)
                self.stdout.write(f"{actor_name}: {sent} sent again")
