"""OAuth 1.0a user context: every X route here needs a signed request from a known access token."""

from __future__ import annotations

import hmac

from oauthlib.oauth1 import Client as OAuthClient
from oauthlib.oauth1.rfc5849 import signature, utils
from werkzeug.wrappers import Request

from x_emulator.problems import ProblemError
from x_emulator.world import User, World

# X serves the API on both hosts: tweepy signs for api.twitter.com, xdk (and the spec) for api.x.com.
SIGNED_HOSTS = ("https://api.twitter.com", "https://api.x.com")
OAUTH_PARAMS = {
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature",
    "oauth_nonce",
    "oauth_timestamp",
    "oauth_signature_method",
}


class Authenticator:
    def __init__(self, consumer_key: str, consumer_secret: str, *, verify_signatures: bool = True):
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.verify_signatures = verify_signatures

    def authenticate(self, request: Request, world: World) -> User:
        header = request.headers.get("Authorization", "")
        if not header.startswith("OAuth "):
            # No Authorization header, or a bearer token the emulator never issued: X's 401 is about:blank.
            # (The emulator has no app-only or OAuth 2.0 tokens; every route here is used with OAuth 1.0a.)
            raise ProblemError(401, "Unauthorized", "Unauthorized")
        params = {key: utils.unescape(value) for key, value in utils.parse_authorization_header(header)}
        missing = OAUTH_PARAMS - params.keys()
        if missing:
            raise ProblemError(401, "Unauthorized", f"OAuth header lacks {sorted(missing)}")
        user = world.user_by_token(params["oauth_token"])
        if params["oauth_consumer_key"] != self.consumer_key or user is None:
            raise ProblemError(401, "Unauthorized", "Unknown consumer key or access token.")
        if self.verify_signatures and not self._signature_valid(request, params, user):
            raise ProblemError(401, "Unauthorized", "Invalid OAuth signature.")
        return user

    def _signature_valid(self, request: Request, params: dict[str, str], user: User) -> bool:
        return any(self._signed_for(host, request, params, user) for host in SIGNED_HOSTS)

    def _signed_for(self, host: str, request: Request, params: dict[str, str], user: User) -> bool:
        query = request.query_string.decode()
        uri = host + request.path + (f"?{query}" if query else "")
        collected = signature.collect_parameters(
            uri_query=query,
            headers={"Authorization": request.headers["Authorization"]},
            exclude_oauth_signature=True,
        )
        base = signature.signature_base_string(
            request.method, signature.base_string_uri(uri), signature.normalize_parameters(collected)
        )
        signer = OAuthClient(
            self.consumer_key,
            client_secret=self.consumer_secret,
            resource_owner_secret=user.access_token_secret or "",
        )
        expected = signature.sign_hmac_sha1_with_client(base, signer)
        return hmac.compare_digest(expected, params["oauth_signature"])
