from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from articurated.admin_nav import RECORDS, NavLink, nav_register

        def audit_links(request) -> list[NavLink]:
            from django.urls import reverse

            if not request.user.has_perm("audit.view_auditrecord"):
                return []
            return [NavLink("Audit trail", reverse("admin:audit_auditrecord_changelist"), "policy")]

        nav_register(RECORDS, audit_links, position=90)
