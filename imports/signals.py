"""Signals sent inside the transaction that ends an import, for apps that subscribe (webhooks:
`import.completed`, `import.failed`). Receivers must not do I/O: they write their own rows and
queue work with transaction.on_commit. kwargs: import_run (the Import, as it ended)."""

from django.dispatch import Signal

import_completed = Signal()
import_failed = Signal()
