"""`manage.py rundramatiq` consuming only this deployment's queues (settings.JOBS_QUEUES, with
JOBS_QUEUE_PREFIX). django_dramatiq's own command would also consume the unprefixed `default`
queue (its `delete_old_tasks` actor lives there), so two deployments sharing a RabbitMQ would
take each other's messages from it."""

from django.conf import settings
from django_dramatiq.management.commands.rundramatiq import Command as DramatiqCommand


class Command(DramatiqCommand):
    def handle(self, *args, queues=None, **options):
        return super().handle(
            *args, queues=queues or list(settings.JOBS_QUEUES.values()), **options
        )
