"""Helpers for the conversation tests (channels, messages, notifications).

The conversation test modules each run their own server (start_server) so
that they can register the handful of users they need without touching the
suite-wide registration budget, and so their database holds only their
own rows (the EXPLAIN QUERY PLAN checks read it).
"""

import pg_util
import urllib.parse

from helpers import Api, make_user

CONV_CONF = "register_addr_limit = 1000\nlogin_addr_limit = 100000\nlogin_user_limit = 100000\n"


class Conv:
    """A server plus named users."""

    def __init__(self, srv, names):
        self.srv = srv
        self.api = Api(srv.base)
        self.users = {n: make_user(self.api, n[:6]) for n in names}

    def __getattr__(self, name):
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)

    # thin wrappers over Api.request
    def req(self, method, path, user=None, body=None, **kw):
        token = user.token if user is not None else None
        return self.api.request(method, path, token=token, json_body=body, **kw)

    def channel(self, owner, **body):
        return self.api.create_channel(owner.token, **body)

    def send(self, user, channel_id, content, **extra):
        return self.api.send(user.token, channel_id, content, **extra)


def emoji_path(mid, emoji):
    return "/api/messages/%d/reactions/%s" % (mid, urllib.parse.quote(emoji, safe=""))


def ro_db(path):
    return pg_util.connect(path, timeout=5)
