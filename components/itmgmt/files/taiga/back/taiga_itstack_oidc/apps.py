from django.apps import AppConfig


class ItstackOidcConfig(AppConfig):
    name = "taiga_itstack_oidc"
    verbose_name = "IT-Stack OpenID Connect login"

    def ready(self):
        from taiga.auth.services import register_auth_plugin

        from .services import login

        register_auth_plugin("itstack-oidc", login)
