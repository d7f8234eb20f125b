"""The endpoint's short way through the middleware stack.

A sender of payloads has no session, no CSRF token and reads no HTML: of the 19 middlewares a
console page passes, the endpoint needs the outer ones (``SecurityMiddleware``'s headers, the 405 for
an unknown method, the 503 while Hub starts, the credentials redaction), which sit before this one
in ``settings.MIDDLEWARE``. This middleware answers ``POST /api/v1/gateway/<id>/artifacts`` itself,
calling the view without URL resolution and without sessions, CSRF, authentication, messages, CSP,
CORS, HTMX or axes, whose work for this URL was to decide nothing (the view is CSRF-exempt and needs
no signed-in user; ``DatabaseInUseMiddleware`` passes anonymous requests through). What it keeps of
them: the host is checked against ``ALLOWED_HOSTS`` (400 otherwise, as ``CommonMiddleware`` does), and
the log level is kept current (``LogLevelMiddleware``). Every other path goes on down the stack.
"""

from __future__ import annotations

import re

ENDPOINT = re.compile(r"^/api/v1/gateway/(\d+)/artifacts$")


class GatewayMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = ENDPOINT.match(request.path_info)
        if found is None:
            return self.get_response(request)
        from hub.logconfig import apply_current_level
        from integrations.views.gateway_endpoint import receive

        request.get_host()  # DisallowedHost → 400, as the rest of the stack would answer
        apply_current_level()
        return receive(request, int(found.group(1)))
