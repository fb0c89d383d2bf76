"""A Tornado app for `arbiterd -k tornado` (Tornado's own HTTP server)."""
import tornado.web


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("hello from tornado\n")


class Echo(tornado.web.RequestHandler):
    def post(self):
        self.write({"size": len(self.request.body)})


def make_app():
    return tornado.web.Application([(r"/", Hello), (r"/echo", Echo)])


application = make_app()
