"""Stand-ins for the chat services other than Slack: one server per service,
answering its incoming webhooks the way the real server's source does.

    with ChatStandIn("mattermost").start() as mm:      # POST /hooks/<id>
        url = mm.hook_url("xyz")
    ChatStandIn("rocketchat")                          # POST /hooks/<id>/<token>
    ChatStandIn("teams")                               # POST /workflows/<id>/triggers/manual/paths/invoke

Everything SlackStandIn offers (recording, script(), set_mode(), waits) works
the same; only the default answers differ, and each is cited below.

    mm.locked_hooks.add("/hooks/xyz")   a hook locked to its channel
    rc.override_allowed = True          the integration allows overriding the channel
    rc.rate_limit = (10, 60000)         N calls per window (ms), as Rocket.Chat's
                                        API rate limiter counts them
"""

import threading
import time

from tests.lab.slack import SlackStandIn

SERVICES = ("mattermost", "rocketchat", "teams")


class ChatStandIn(SlackStandIn):
    def __init__(self, service, host="127.0.0.1", port=0, hang_seconds=600):
        if service not in SERVICES:
            raise ValueError("unknown service %r (one of %s)" % (service, ", ".join(SERVICES)))
        super().__init__(host, port, hang_seconds)
        self.service = service
        self.locked_hooks = set()
        self.override_allowed = False
        self.rate_limit = None
        self._window = None             # (start ms, calls) of the rate limiter
        self._rate_lock = threading.Lock()

    def hook_url(self, name):
        if self.service == "teams":
            return "%s/workflows/%s/triggers/manual/paths/invoke?api-version=1" % (
                self.url, name)
        return "%s/hooks/%s" % (self.url, name)

    def _default_answer(self, path, req):
        if self.service == "mattermost":
            return self._mattermost(path, req)
        if self.service == "rocketchat":
            return self._rocketchat(path, req)
        return self._teams(path, req)

    # ------------------------------------------------------------ Mattermost
    @staticmethod
    def _app_error(status, error_id, message):
        # model.AppError as JSON (server/public/model/utils.go, AppError.ToJSON)
        return (status, {}, {"id": error_id, "message": message, "detailed_error": "",
                             "request_id": "standinrequestid", "status_code": status})

    def _mattermost(self, path, req):
        # server/channels/web/webhook.go: InitWebhooks routes POST
        # /hooks/{id:[A-Za-z0-9]+}; incomingWebhook answers text/plain "ok".
        parts = path.split("/")
        if len(parts) != 3 or parts[1] != "hooks" or not parts[2].isalnum():
            return (404, {"Content-Type": "text/plain"}, "404 page not found")
        body = req.json if isinstance(req.json, dict) else None
        if body is None:
            # model.IncomingWebhookRequestFromJSON fails: 400
            return self._app_error(400, "api.webhook.incoming.error",
                                   "Unable to parse incoming data.")
        # server/channels/app/webhook.go, HandleIncomingWebhook: a channel
        # other than the hook's own on a locked hook is refused with 403
        # "web.incoming_webhook.channel_locked.app_error".
        if body.get("channel") and path in self.locked_hooks:
            return self._app_error(403, "web.incoming_webhook.channel_locked.app_error",
                                   "This webhook is not permitted to post to the "
                                   "requested channel.")
        if not body.get("text") and not body.get("attachments"):
            return self._app_error(400, "web.incoming_webhook.text.app_error",
                                   "No text specified.")
        return (200, {"Content-Type": "text/plain"}, "ok")

    # ----------------------------------------------------------- Rocket.Chat
    def _rate_check(self):
        """Rocket.Chat's limiter (apps/meteor/app/api/server/ApiClass.ts,
        enforceRateLimit): every answer carries X-RateLimit-Limit,
        -Remaining and -Reset (ms since the epoch, the window's end); over
        the limit it throws error-too-many-requests, answered 429 with no
        Retry-After."""
        if self.rate_limit is None:
            return None, {}
        allowed, window_ms = self.rate_limit
        now = int(time.time() * 1000)
        with self._rate_lock:
            if self._window is None or now >= self._window[0] + window_ms:
                self._window = [now, 0]
            self._window[1] += 1
            start, calls = self._window
        reset = start + window_ms
        headers = {"X-RateLimit-Limit": str(allowed),
                   "X-RateLimit-Remaining": str(max(0, allowed - calls)),
                   "X-RateLimit-Reset": str(reset)}
        if calls <= allowed:
            return None, headers
        seconds = -(-(reset - now) // 1000)
        return (429, headers, {
            "success": False,
            "error": "Error, too many requests. Please slow down. You must wait %d seconds "
                     "before trying this endpoint again. [error-too-many-requests]" % seconds,
            "errorType": "error-too-many-requests"}), headers

    def _rocketchat(self, path, req):
        # apps/meteor/app/integrations/server/api/api.ts: routes
        # hooks/:integrationId/:token (and /:userId/:token).
        parts = path.split("/")
        if len(parts) not in (4, 5) or parts[1] != "hooks":
            return (404, {}, {"success": False, "error": "Not found"})
        limited, headers = self._rate_check()
        if limited is not None:
            return limited
        body = req.json if isinstance(req.json, dict) else {}
        # executeIntegrationRest: since 6.3.0, "channel" or "roomId" in the
        # body is refused unless overrideDestinationChannelEnabled;
        # API.v1.failure is 400 {"success": false, "error": ...}.
        if (body.get("channel") or body.get("roomId")) and not self.override_allowed:
            return (400, headers, {"success": False, "error": "overriding destination "
                                   "channel is disabled for this integration"})
        # API.v1.success() is 200 {"success": true}
        return (200, headers, {"success": True})

    # ----------------------------------------------------------------- Teams
    def _teams(self, path, req):
        # A Power Automate "When a Teams webhook request is received" flow
        # (https://learn.microsoft.com/en-us/connectors/teams/#microsoft-teams-webhook):
        # POST .../workflows/<id>/triggers/manual/paths/invoke, answered 202
        # Accepted with no body; a body its "Post card" step cannot use
        # fails the trigger with 400 {"error": {"code", "message"}}.
        if not (path.startswith("/workflows/") and
                path.endswith("/triggers/manual/paths/invoke")):
            return (404, {}, {"error": {"code": "WorkflowNotFound",
                                        "message": "The workflow was not found."}})
        body = req.json if isinstance(req.json, dict) else None
        atts = (body or {}).get("attachments")
        if (body is None or body.get("type") != "message" or not isinstance(atts, list)
                or not atts or not all(isinstance(a, dict) and a.get("contentType") ==
                                       "application/vnd.microsoft.card.adaptive"
                                       and isinstance(a.get("content"), dict)
                                       and a["content"].get("type") == "AdaptiveCard"
                                       for a in atts)):
            return (400, {}, {"error": {"code": "TriggerInputSchemaMismatch",
                                        "message": "The input body for trigger 'manual' of "
                                                   "type 'Request' did not match its schema "
                                                   "definition."}})
        return (202, {}, b"")
