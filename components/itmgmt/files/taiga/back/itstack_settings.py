# IT-Stack settings for taiga-back: the image's docker settings plus our OIDC login app.
# Selected with DJANGO_SETTINGS_MODULE=settings.itstack; every value comes from the environment.
import os

from .config import *  # noqa: F401,F403  (the image's settings/config.py, driven by env)

if os.getenv("ITSTACK_OIDC_ENABLED", "False") == "True":
    INSTALLED_APPS += ["taiga_itstack_oidc"]  # noqa: F405
    ITSTACK_OIDC = {
        "client_id": os.environ["ITSTACK_OIDC_CLIENT_ID"],
        "client_secret": os.environ["ITSTACK_OIDC_CLIENT_SECRET"],
        "token_url": os.environ["ITSTACK_OIDC_TOKEN_URL"],
        "userinfo_url": os.environ["ITSTACK_OIDC_USERINFO_URL"],
        "redirect_uri": os.environ["ITSTACK_OIDC_REDIRECT_URI"],
        "user_role": os.environ["ITSTACK_OIDC_USER_ROLE"],
        "admin_role": os.environ["ITSTACK_OIDC_ADMIN_ROLE"],
        "roles_claim": os.getenv("ITSTACK_OIDC_ROLES_CLAIM", "roles"),
        "local_admin": os.getenv("ITSTACK_LOCAL_ADMIN", ""),
    }
