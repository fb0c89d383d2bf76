import json

from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.html import escape
from django.views.decorators.http import require_GET, require_POST

FORM = """<!doctype html>
<title>greenfork + Django</title>
<h1>Hello from Django</h1>
<p>Served by {server} through gworker.</p>
<form method="post" action="greet"><input name="name"> <button>Greet</button></form>
"""


@require_GET
def index(request):
    return HttpResponse(FORM.format(server=escape(request.META.get("SERVER_SOFTWARE", "?"))))


@require_GET
def hello(request):
    return HttpResponse("Hello, World!\n", content_type="text/plain; charset=utf-8")


@require_POST
def greet(request):
    name = request.POST.get("name", "").strip()
    if not name:
        return HttpResponseBadRequest("name is required\n")
    return HttpResponse("<p>Hello, %s!</p>" % escape(name))


@require_GET
def api_info(request):
    return JsonResponse({"method": request.method, "path": request.path,
                         "script_name": request.META.get("SCRIPT_NAME", ""),
                         "query": request.GET.dict()})


@require_POST
def api_echo(request):
    try:
        data = json.loads(request.body)
    except ValueError:
        return JsonResponse({"error": "expected a JSON body"}, status=400)
    return JsonResponse({"received": data})
