"""The fake Rack's HTTP layer: request -> world model call -> JSON answer.

A rack guards every route with basic auth (`convox:<rack key>`); which key
it accepts at any moment, including during a key roll's update window, is
the model's decision (`World.rack_accepts`). Setting the `Password`
parameter through the rack's own API changes the key behind Console's back,
exactly as the FAQ warns.

A world's racks speak one API generation (``World.rack_api``), the CLI's:
the 2017 API (convox/rack 20171228145523, api/controllers) answers JSON
everywhere, ``GET /auth`` included, and refuses a key with a text page;
today's API answers ``GET /auth`` and ``PUT /system`` with stdapi's text ``ok``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from fakes.http.faults import FaultPlan
from fakes.http.journal import Journal
from fakes.http.listener import (
    HttpRequest,
    HttpResponse,
    basic_auth_password,
    error_response,
    json_response,
    text_response,
)
from fakes.http.recording import incoming_request_id, new_request_id
from fakes.model.world import API_2017, World, WorldError
from fakes.servers.world_server import WorldServer

#: The 2017 API's answer to a refused key (api/api.go), and the header it sent with it.
REFUSED_2017 = ("Unable to authenticate.\nPlease confirm your Rack API Key is correct.\n"
                "See https://convox.com/docs/api-keys/ for more information.")
#: The 2017 API's answer to a Console command sent straight to a rack (controllers/racks.go).
NOT_CONSOLE_2017 = ("Your CLI is pointing directly at a Rack. To log into Console instead, "
                    "run `convox login`")
SUCCESS_2017 = {"success": True}
#: The newest rack version the 2017 API can report: the classic CLI's own tag.
VERSION_2017 = "20171228145523"
#: How both APIs show the Password parameter: a NoEcho CloudFormation parameter, masked.
MASKED = "****"


class RackApp(WorldServer):
    """One rack (`ref` = "org/name") of one world."""

    def __init__(self, world: World, ref: str, journal: Journal, faults: FaultPlan) -> None:
        self.world = world
        self.ref = ref
        self.server = ref
        self.journal = journal
        self.faults = faults

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = incoming_request_id(request)
        hop = "proxy" if incoming else "cli"
        request_id = incoming or new_request_id()
        return self.answered(request, hop, request_id, lambda: self._answer(request))

    def _answer(self, request: HttpRequest) -> HttpResponse:
        try:
            key = basic_auth_password(request.headers)
            if not self.world.rack_accepts(self.ref, key):
                if self.world.rack_api == API_2017:
                    refused = text_response(401, REFUSED_2017)
                    refused.headers["WWW-Authenticate"] = 'Basic realm="Convox System"'
                    return refused
                # Today's API (pkg/api/api.go, stdapi): text, and no WWW-Authenticate.
                refused = text_response(401, "invalid authentication\n")
                refused.headers["Content-Type"] = "text/plain; charset=utf-8"
                return refused
            return self._route(request)
        except WorldError as exc:
            return error_response(exc.status, exc.message)

    def _route(self, request: HttpRequest) -> HttpResponse:
        method, path = request.method, request.path
        era_2017 = self.world.rack_api == API_2017
        if method == "GET" and path == "/auth":
            # Never an id. 2017: JSON, which the classic CLI insists on; today's rack API
            # (stdapi RenderOK): the text "ok".
            return json_response(200, SUCCESS_2017) if era_2017 else text_response(200, "ok\n")
        if era_2017 and (method, path) in (("GET", "/racks"), ("POST", "/switch")):
            return error_response(403, NOT_CONSOLE_2017)
        if method == "GET" and path == "/system":
            return json_response(200, self._system())
        if method == "GET" and path == "/apps":
            return json_response(200, self._apps())
        if method == "PUT" and path == "/system":
            return self._update_system(request)
        segments = path.split("/")
        if len(segments) == 4 and segments[1] == "apps" and segments[3] == "parameters":
            app = urllib.parse.unquote(segments[2])
            # The 2017 rack API the classic CLI speaks: GET lists, POST sets.
            if method == "GET":
                return self._app_parameters(app)
            if method == "POST":
                return self._update_app_parameters(app, request)
        return error_response(404, f"not found: {method} {path}")

    def _system(self) -> dict[str, Any]:
        """``GET /system`` in the world's generation (structs/system.go of each tag)."""
        system = self.world.rack_system(self.ref)
        system["parameters"] = {**system["parameters"], "Password": MASKED}
        system["domain"] = f"{self.ref.split('/', 1)[1]}.{system['region']}.convox.example"
        if self.world.rack_api == API_2017:
            system["version"] = min(system["version"], VERSION_2017)
        else:
            system.update({"provider": "aws", "rack-domain": system["domain"], "outputs": {}})
        return system

    def _apps(self) -> list[dict[str, Any]]:
        """``GET /apps``: today's apps carry locked, router and parameters too."""
        apps = self.world.rack_apps(self.ref)
        if self.world.rack_api != API_2017:
            apps = [{**app, "locked": False, "router": "", "parameters": {}} for app in apps]
        return apps

    def _update_system(self, request: HttpRequest) -> HttpResponse:
        """`convox rack params set`: `parameters` holds a form-encoded `Name=value` list.

        The 2017 API's SystemUpdate read only count, type and version, and
        answered the system as JSON: a Password there changes nothing.
        """
        if self.world.rack_api == API_2017:
            return json_response(200, self._system())
        encoded = _form(request).get("parameters", "")
        parameters = dict(urllib.parse.parse_qsl(encoded, keep_blank_values=True))
        if "Password" in parameters:
            self.world.set_rack_password(self.ref, parameters["Password"])
        # Like today's rack API (SystemUpdate ends in stdapi RenderOK): text, not JSON.
        return text_response(200, "ok\n")

    def _app_parameters(self, app: str) -> HttpResponse:
        """The parameters of the app named after the rack: the rack's own (Password aside)."""
        if app == self.ref.split("/", 1)[1]:
            return json_response(200, self._system()["parameters"])
        if app in {entry["name"] for entry in self.world.rack_apps(self.ref)}:
            return json_response(200, {})
        return error_response(404, f"no such app: {app}")

    def _update_app_parameters(self, app: str, request: HttpRequest) -> HttpResponse:
        """The classic CLI sets rack parameters on the app named after the rack."""
        if app == self.ref.split("/", 1)[1]:
            password = _form(request).get("Password")
            if password is not None:
                self.world.set_rack_password(self.ref, password)
            return json_response(200, SUCCESS_2017 if self.world.rack_api == API_2017 else {})
        if app in {entry["name"] for entry in self.world.rack_apps(self.ref)}:
            # The 2017 API answered success for any app's parameters (parameters.go).
            return json_response(200, SUCCESS_2017 if self.world.rack_api == API_2017 else {})
        return error_response(404, f"no such app: {app}")


def _form(request: HttpRequest) -> dict[str, str]:
    """The first value of each field of a form-encoded body."""
    text = request.body.decode("utf-8", errors="replace")
    fields: dict[str, str] = {}
    for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
        fields.setdefault(key, value)
    return fields
