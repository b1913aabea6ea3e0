from django.apps import AppConfig


class OrchestrateConfig(AppConfig):
    name = "orchestrate"
    verbose_name = "Orchestrate"

    def ready(self):
        from orchestrate import security
        from orchestrate.engine import actions

        actions.load_action_modules()
        security.connect_signals()
