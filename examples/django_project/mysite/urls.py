from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("hello", views.hello, name="hello"),
    path("greet", views.greet, name="greet"),
    path("api/info", views.api_info, name="api_info"),
    path("api/echo", views.api_echo, name="api_echo"),
]
