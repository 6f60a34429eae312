from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for newcomers (`manage.py bootstrap_demo`); never run by production settings."""

    name = "demo"
