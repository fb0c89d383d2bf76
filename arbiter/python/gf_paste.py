"""Gunicorn's --paste for gworker: the WSGI app of a PasteDeploy ini file
(python3-pastedeploy), loaded as Gunicorn's pasterapp.get_wsgi_app does.

arbiterd turns `--paste app.ini[#name]` into the gworker APP
`gf_paste:load_app('config:/abs/app.ini#name', {...})` and puts this file's
directory on gworker's --pythonpath.
"""
import os


def load_app(config_uri, global_conf=None):
    from paste.deploy import loadapp

    if ":" not in config_uri:
        config_uri = "config:%s" % config_uri
    return loadapp(config_uri, relative_to=os.getcwd(), global_conf=global_conf or None)
