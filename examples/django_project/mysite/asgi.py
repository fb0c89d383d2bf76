"""ASGI entry point: `arbiterd -k asgi --chdir examples/django_project mysite.asgi:application`."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
application = get_asgi_application()
