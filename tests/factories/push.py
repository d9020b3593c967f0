"""A fake Web Push service (the test double for Google FCM, Mozilla autopush, Apple): the true
edge of the world for notifications, so it is a real HTTP server on loopback that checks every
request exactly as a real push service would (RFC 8030 push, RFC 8292 VAPID, RFC 8291/8188
aes128gcm payloads) and refuses with the status a real one uses.

`FakeSubscriber` is a browser's side: it holds the P-256 key pair and auth secret that only the
browser knows, so an accepted message really was encrypted for it. Tests drive the service's
bad days with `fail_next` (5xx, 429 with Retry-After), `gone` (410, the user revoked
permission) and `delay` (a slow answer: the message is accepted at once and the answer held
back, so a test can kill a sender that the service has already taken the message from).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = ["MAX_PUSH_BODY", "FakePushService", "FakeSubscriber", "PushMessage"]

MAX_PUSH_BODY = 4096  # RFC 8030 §7.2: services must accept at least 4096 bytes; FCM takes no more
MAX_VAPID_LIFETIME = 24 * 3600  # RFC 8292 §2: exp no more than 24 hours ahead
URGENCIES = frozenset({"very-low", "low", "normal", "high"})  # RFC 8030 §5.3
TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")  # RFC 8030 §5.4: ≤ 32 base64url characters
NON_NEGATIVE_INT = re.compile(r"[0-9]+")


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    """Strict base64url, padding optional (browsers and py_vapid leave it off)."""
    text = text.rstrip("=")
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(eq=False)
class FakeSubscriber:
    """A browser's push subscription: a P-256 key pair and a 16-byte auth secret, and the
    endpoint URL the fake service handed out."""

    id: str
    endpoint: str  # f"{service.url}/push/{id}"
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    auth_secret: bytes = field(repr=False)

    @property
    def p256dh(self) -> str:
        """base64url (no padding) of the uncompressed public point (65 bytes)."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return _b64url_encode(point)

    @property
    def auth(self) -> str:
        """base64url (no padding) of the 16-byte auth secret."""
        return _b64url_encode(self.auth_secret)

    def subscription_info(self) -> dict[str, Any]:
        """What pywebpush takes: {"endpoint": ..., "keys": {"p256dh": ..., "auth": ...}}."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    def as_request(self) -> dict[str, Any]:
        """What a browser POSTs to subscribe: `JSON.stringify(subscription)`, which is
        `PushSubscription.toJSON()` and so carries `"expirationTime": null` as well."""
        return {**self.subscription_info(), "expirationTime": None}


@dataclass
class PushMessage:
    """One message the service accepted and decrypted."""

    subscriber_id: str
    payload: bytes  # decrypted plaintext
    headers: dict[str, str]  # the request's headers, lower-case names (ttl, urgency, topic, ...)
    claims: dict[str, Any]  # the verified VAPID JWT claims (aud, exp, sub)
    received_at: float  # time.perf_counter() when accepted

    def json(self) -> Any:
        return json.loads(self.payload)


class _Refused(Exception):
    """A request the service turns down: the status, a reason for `refused`, extra headers."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}


class FakePushService:
    """A Web Push service on a real loopback HTTP server (aiohttp.web), in the caller's event
    loop. `async with FakePushService() as push:` starts and stops it.

    Only POST {url}/push/{id} exists. A request must pass, in order: the outage queue
    (`fail_next`), a known (404) and live (410) endpoint, VAPID (401; 403 when `k` is not the
    pinned `vapid_public_key`), TTL, Urgency and Topic (400), aes128gcm (400) within 4096 bytes
    (413), and decryption with the subscriber's keys (400). It then answers 201 with Location.
    """

    def __init__(self, *, vapid_public_key: str | None = None) -> None:
        self.vapid_public_key = vapid_public_key
        self._pinned_key = None if vapid_public_key is None else _b64url_decode(vapid_public_key)
        self.received: list[PushMessage] = []
        self.refused: list[tuple[int, str]] = []
        self.requests = 0
        self.delay = 0.0
        self._subscribers: dict[str, FakeSubscriber] = {}
        self._gone: set[str] = set()
        self._failures: deque[tuple[int, str | None]] = deque()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._stopping = asyncio.Event()

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """ "http://127.0.0.1:<port>", the origin VAPID's `aud` must name."""
        if self._url is None:
            raise RuntimeError("FakePushService is not started: use `async with` or start()")
        return self._url

    async def start(self) -> None:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/push/{id}", self._push)
        app.router.add_post("/{tail:.*}", self._no_such_endpoint)
        # A delayed answer is released at once on stop(), so shutting down never waits long.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self._url = f"http://{host}:{port}"
        self._stopping.clear()

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._stopping.set()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- what tests arrange ------------------------------------------------------------------

    def subscriber(self) -> FakeSubscriber:
        """A new browser subscription: fresh keys, and an endpoint on this service."""
        sub_id = secrets.token_urlsafe(24)
        subscriber = FakeSubscriber(
            id=sub_id,
            endpoint=f"{self.url}/push/{sub_id}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
        )
        self._subscribers[sub_id] = subscriber
        return subscriber

    def fail_next(self, count: int, status: int = 503, *, retry_after: str | None = None) -> None:
        """The next `count` requests (to any endpoint) answer `status`, with Retry-After when
        given, and nothing is accepted. Calls queue up: fail_next(1, 429); fail_next(1, 500)."""
        self._failures.extend([(status, retry_after)] * count)

    def gone(self, subscriber: FakeSubscriber) -> None:
        """That endpoint answers 410 Gone from now on (the user revoked permission)."""
        self._gone.add(subscriber.id)

    # --- what tests look at ------------------------------------------------------------------

    async def wait_for(
        self,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109  # the assertion's deadline, not a cancel scope
    ) -> list[PushMessage]:
        """Wait until at least `count` messages were accepted; return them all (in order).
        Fails with an AssertionError naming how many came (and the last refusals) otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.received) < count:
            if loop.time() >= deadline:
                raise AssertionError(
                    f"push service accepted {len(self.received)} of {count} expected messages "
                    f"within {timeout}s ({self.requests} requests; refused: {self.refused[-5:]})"
                )
            await asyncio.sleep(0.005)
        return list(self.received)

    def messages_for(self, subscriber: FakeSubscriber) -> list[PushMessage]:
        return [m for m in self.received if m.subscriber_id == subscriber.id]

    # --- the service -------------------------------------------------------------------------

    async def _push(self, request: web.Request) -> web.Response:
        return await self._answer(request, request.match_info["id"])

    async def _no_such_endpoint(self, request: web.Request) -> web.Response:
        return await self._answer(request, None)

    async def _answer(self, request: web.Request, sub_id: str | None) -> web.Response:
        self.requests += 1
        try:
            body = await request.read()  # the whole request first, as a real front end does
            message = self._accept(request, sub_id, body)
        except web.HTTPRequestEntityTooLarge:
            response = self._refuse(_Refused(413, f"body over {MAX_PUSH_BODY} bytes"))
        except _Refused as refusal:
            response = self._refuse(refusal)
        else:
            self.received.append(message)
            location = f"{self.url}/m/{secrets.token_urlsafe(16)}"
            ttl = message.headers["ttl"]
            response = web.Response(status=201, headers={"Location": location, "TTL": ttl})
        if self.delay > 0:  # accepted already: only the answer is late
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.delay)
        return response

    def _refuse(self, refusal: _Refused) -> web.Response:
        self.refused.append((refusal.status, refusal.reason))
        return web.Response(status=refusal.status, text=refusal.reason, headers=refusal.headers)

    def _accept(self, request: web.Request, sub_id: str | None, body: bytes) -> PushMessage:
        if self._failures:
            status, retry_after = self._failures.popleft()
            headers = {} if retry_after is None else {"Retry-After": retry_after}
            raise _Refused(status, f"fail_next: {status}", headers)
        subscriber = None if sub_id is None else self._subscribers.get(sub_id)
        if subscriber is None:
            raise _Refused(404, f"no such subscription: {request.path}")
        if subscriber.id in self._gone:
            raise _Refused(410, "subscription gone: the user revoked permission")
        claims = self._verify_vapid(request.headers.get("Authorization", ""))
        self._check_headers(request, body)
        try:
            payload = http_ece.decrypt(
                body,
                private_key=subscriber.private_key,
                auth_secret=subscriber.auth_secret,
                version="aes128gcm",
            )
        except Exception as exc:  # http_ece raises ECEException, InvalidTag, ValueError, ...
            raise _Refused(400, f"payload does not decrypt for this subscription: {exc!r}") from exc
        return PushMessage(
            subscriber_id=subscriber.id,
            payload=payload,
            headers={name.lower(): value for name, value in request.headers.items()},
            claims=claims,
            received_at=time.perf_counter(),
        )

    def _verify_vapid(self, authorization: str) -> dict[str, Any]:
        """RFC 8292: `Authorization: vapid t=<JWT>, k=<key>`, the JWT ES256-signed by k."""
        scheme, _, rest = authorization.strip().partition(" ")
        if scheme.lower() == "webpush":
            raise _Refused(401, "vapid: draft 'WebPush <jwt>' + Crypto-Key scheme; send RFC 8292")
        if scheme.lower() != "vapid":
            raise _Refused(401, "vapid: no 'Authorization: vapid t=..., k=...' header")
        params: dict[str, str] = {}
        for part in rest.split(","):
            name, _, value = part.strip().partition("=")
            params[name.strip().lower()] = value.strip()
        token, key_text = params.get("t", ""), params.get("k", "")
        if not token or not key_text:
            raise _Refused(401, "vapid: Authorization needs both t= and k=")
        try:
            key_raw = _b64url_decode(key_text)
            if len(key_raw) != 65 or key_raw[0] != 4:
                raise ValueError("not an uncompressed point")
            public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key_raw)
        except (ValueError, binascii.Error) as exc:
            raise _Refused(401, f"vapid: k= is not a P-256 public key ({exc})") from exc
        claims = self._verify_jwt(token, public_key)
        now = time.time()
        aud, exp, sub = claims.get("aud"), claims.get("exp"), claims.get("sub")
        if aud != self.url:
            raise _Refused(401, f"vapid: aud {aud!r} is not this service's origin {self.url!r}")
        if not isinstance(exp, int) or isinstance(exp, bool):
            raise _Refused(401, f"vapid: exp {exp!r} is not an integer")
        if exp <= now:
            raise _Refused(401, f"vapid: JWT expired {now - exp:.0f}s ago")
        if exp > now + MAX_VAPID_LIFETIME:
            raise _Refused(401, "vapid: exp more than 24 hours ahead")
        if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
            raise _Refused(401, f"vapid: sub {sub!r} is neither mailto: nor https:")
        if self._pinned_key is not None and key_raw != self._pinned_key:
            raise _Refused(403, "vapid: k= is not the key this subscription was created with")
        return claims

    @staticmethod
    def _verify_jwt(token: str, public_key: ec.EllipticCurvePublicKey) -> dict[str, Any]:
        parts = token.split(".")
        if len(parts) != 3:
            raise _Refused(401, "vapid: t= is not a JWS compact token")
        try:
            header = json.loads(_b64url_decode(parts[0]))
            claims = json.loads(_b64url_decode(parts[1]))
            signature = _b64url_decode(parts[2])
        except (ValueError, binascii.Error) as exc:
            raise _Refused(401, f"vapid: JWT does not decode ({exc})") from exc
        if not isinstance(header, dict) or header.get("alg") != "ES256":
            raise _Refused(401, f"vapid: JWT alg must be ES256, not {header!r}")
        if not isinstance(claims, dict):
            raise _Refused(401, "vapid: JWT claims are not an object")
        if len(signature) != 64:
            raise _Refused(401, "vapid: ES256 signature must be 64 bytes (r||s)")
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            public_key.verify(
                der, f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256())
            )
        except InvalidSignature as exc:
            raise _Refused(401, "vapid: JWT signature does not match k=") from exc
        return claims

    @staticmethod
    def _check_headers(request: web.Request, body: bytes) -> None:
        ttl = request.headers.get("TTL")
        if ttl is None or not NON_NEGATIVE_INT.fullmatch(ttl.strip()):
            raise _Refused(400, f"TTL header missing or not a non-negative integer: {ttl!r}")
        urgency = request.headers.get("Urgency")
        if urgency is not None and urgency.strip() not in URGENCIES:
            raise _Refused(400, f"Urgency {urgency!r} is not one of {sorted(URGENCIES)}")
        topic = request.headers.get("Topic")
        if topic is not None and not TOPIC.fullmatch(topic.strip()):
            raise _Refused(400, f"Topic {topic!r} is not ≤ 32 base64url characters")
        encoding = request.headers.get("Content-Encoding", "")
        if encoding.strip().lower() != "aes128gcm":
            raise _Refused(400, f"Content-Encoding {encoding!r} is not aes128gcm (RFC 8291)")
        if len(body) > MAX_PUSH_BODY:
            raise _Refused(413, f"body of {len(body)} bytes is over {MAX_PUSH_BODY}")
