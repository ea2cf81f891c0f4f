# Run with `python manage.py shell`: create or update the local break-glass superuser from env.
import os

from django.apps import apps

User = apps.get_model("users", "User")
name = os.environ["ITSTACK_LOCAL_ADMIN"]
user = User.objects.filter(username=name).first()
if user is None:
    user = User(username=name, email=os.environ["ITSTACK_LOCAL_ADMIN_EMAIL"], full_name="IT-Stack local admin")
user.is_active = True
user.is_superuser = True
user.is_staff = True
user.set_password(os.environ["ITSTACK_LOCAL_ADMIN_PASSWORD"])
user.save()
print(f"local admin {name} ready")
