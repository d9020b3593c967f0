"""Proves the fake push service (tests/factories/push.py) trustworthy before anything is tested
against it. Over real HTTP on loopback, pywebpush's own async path gets a message accepted and
decrypted back to the same bytes. Every way a real service turns a request down (bad VAPID, TTL,
Urgency, Topic, encoding, size, encryption, outages, revoked subscriptions) is refused with the
real status and nothing recorded. The knobs tests lean on (`fail_next`, `gone`, `delay`,
`wait_for`) do what they say.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import time
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from py_vapid import Vapid, Vapid01, Vapid02
from py_vapid.utils import b64urldecode, b64urlencode
from pywebpush import WebPusher, WebPushException, webpush_async

from tests.factories.push import MAX_PUSH_BODY, FakePushService, FakeSubscriber

pytestmark = pytest.mark.slow  # a real HTTP server per test

TIMEOUT = aiohttp.ClientTimeout(total=5)
SUB = "mailto:ops@fieldloop.test"
Headers = dict[str, str]


def new_vapid() -> Vapid:
    key = Vapid()
    key.generate_keys()
    return key


def public_key_of(vapid: Vapid) -> str:
    """The applicationServerKey a browser subscribes with: the uncompressed point, base64url."""
    point = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64urlencode(point)


def claims(push: FakePushService, **changes: Any) -> dict[str, Any]:
    """Fresh VAPID claims for this service (pywebpush mutates the dict it is given)."""
    return {"sub": SUB, "aud": push.url, "exp": int(time.time()) + 3600, **changes}


def jwt(private_key: ec.EllipticCurvePrivateKey, header: dict, body: dict) -> str:
    """A JWS signed by hand (not by py_vapid), with any header and claims."""
    signing_input = ".".join(b64urlencode(json.dumps(part).encode()) for part in (header, body))
    der = private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{b64urlencode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def encrypted(subscriber: FakeSubscriber, data: bytes) -> bytes:
    return WebPusher(subscriber.subscription_info()).encode(data)["body"]


@dataclass
class Sender:
    """The application server's side, through pywebpush's own async path."""

    push: FakePushService
    session: aiohttp.ClientSession
    vapid: Vapid

    def sign(self, **changes: Any) -> Headers:
        return self.vapid.sign(claims(self.push, **changes))

    async def send(
        self,
        to: FakeSubscriber | dict[str, Any],
        data: bytes = b"hi",
        headers: Headers | None = None,
        **options: Any,  # ttl, content_encoding
    ) -> aiohttp.ClientResponse:
        """`WebPusher.send_async`, which has read the answer's body when it returns."""
        info = to.subscription_info() if isinstance(to, FakeSubscriber) else to
        pusher = WebPusher(info, aiohttp_session=self.session)
        response = await pusher.send_async(
            data, self.sign() if headers is None else headers, timeout=TIMEOUT, **options
        )
        assert isinstance(response, aiohttp.ClientResponse)
        return response

    async def webpush(self, to: FakeSubscriber) -> tuple[int, str | None]:
        """`webpush_async`, the one-call helper: (status, Retry-After)."""
        options: dict[str, Any] = {"ttl": 60, "aiohttp_session": self.session}
        try:
            response = await webpush_async(
                to.subscription_info(), "hi", self.vapid, {"sub": SUB}, **options
            )
        except WebPushException as failure:
            return failure.status_code or 0, failure.retry_after
        assert isinstance(response, aiohttp.ClientResponse)
        return response.status, response.headers.get("Retry-After")

    async def raw_post(self, url: str, body: bytes, headers: Headers) -> int:
        """A hand-made request, for what pywebpush never sends (no TTL, a bad Topic...)."""
        async with self.session.post(url, data=body, headers=headers, timeout=TIMEOUT) as resp:
            await resp.read()
            return resp.status


@pytest.fixture
async def push() -> AsyncIterator[FakePushService]:
    async with FakePushService() as service:
        yield service


@pytest.fixture
async def sender(push: FakePushService) -> AsyncIterator[Sender]:
    async with aiohttp.ClientSession() as session:
        yield Sender(push, session, new_vapid())


# --- the subscription a browser holds, the Authorization pywebpush sends ----------------------


async def test_subscriber_looks_like_a_browser_subscription(push: FakePushService) -> None:
    one, other = push.subscriber(), push.subscriber()
    assert one.endpoint == f"{push.url}/push/{one.id}"
    assert push.url.startswith("http://127.0.0.1:")
    point, secret = b64urldecode(one.p256dh.encode()), b64urldecode(one.auth.encode())
    assert len(point) == 65 and point[0] == 4 and len(secret) == 16
    assert "=" not in one.p256dh + one.auth
    info = {"endpoint": one.endpoint, "keys": {"p256dh": one.p256dh, "auth": one.auth}}
    assert one.subscription_info() == info
    assert one.as_request() == {**info, "expirationTime": None}  # PushSubscription.toJSON()
    assert (one.id, one.p256dh, one.auth) != (other.id, other.p256dh, other.auth)
    with pytest.raises(RuntimeError, match="not started"):
        _ = FakePushService().url


# --- accepted ---------------------------------------------------------------------------------


async def test_accepted_and_decrypted(push: FakePushService, sender: Sender) -> None:
    subscriber = push.subscriber()
    data = json.dumps({"kind": "work_completed", "case": "C-0001", "text": "Fixed ✓"}).encode()
    sent_claims = claims(push)
    headers = {**sender.vapid.sign(sent_claims), "Urgency": "high", "Topic": "case-C-0001"}
    before = time.perf_counter()
    response = await sender.send(subscriber, data, headers, ttl=3600)
    assert response.status == 201, await response.text()
    assert response.headers["Location"].startswith(f"{push.url}/m/")
    [message] = push.received
    assert message.subscriber_id == subscriber.id
    assert message.payload == data and message.json()["text"] == "Fixed ✓"
    names = ("ttl", "urgency", "topic", "content-encoding")
    assert [message.headers[n] for n in names] == ["3600", "high", "case-C-0001", "aes128gcm"]
    # pywebpush 2.5 (py_vapid's Vapid is Vapid02) sends RFC 8292's form, and no Crypto-Key:
    assert Vapid is Vapid02 and "crypto-key" not in message.headers
    vapid_form = rf"vapid t=[\w-]+\.[\w-]+\.[\w-]+,k={public_key_of(sender.vapid)}"
    assert re.fullmatch(vapid_form, message.headers["authorization"])
    assert message.claims == sent_claims
    assert before < message.received_at < time.perf_counter()
    assert push.messages_for(subscriber) == [message]
    assert push.messages_for(push.subscriber()) == []
    assert (push.refused, push.requests) == ([], 1)


async def test_webpush_async_with_a_stored_key_and_pinned_service(sender: Sender) -> None:
    """The one-call helper, as a server would use it: the key from a settings string, `aud`
    and `exp` filled in by pywebpush, against a service that pins the application key."""
    raw = sender.vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    sender.vapid = Vapid.from_string(b64urlencode(raw))
    async with FakePushService(vapid_public_key=public_key_of(sender.vapid)) as push:
        sender.push = push
        assert await sender.webpush(push.subscriber()) == (201, None)
        [message] = await push.wait_for(1)
        assert message.payload == b"hi"
        assert message.claims["aud"] == push.url and message.claims["sub"] == SUB


async def test_hand_signed_rfc8292_token_accepted(push: FakePushService, sender: Sender) -> None:
    """The verifier follows RFC 8292, not py_vapid's quirks: no `typ`, `, k=` with a space."""
    headers = _by_hand(sender, {"alg": "ES256"})
    headers["Authorization"] = headers["Authorization"].replace(",k=", ", k=")
    response = await sender.send(push.subscriber(), headers=headers)
    assert response.status == 201, await response.text()


async def test_many_concurrent_senders(push: FakePushService, sender: Sender) -> None:
    subscribers = [push.subscriber() for _ in range(3)]
    sends = [sender.send(subscribers[n % 3], f"message {n}".encode()) for n in range(60)]
    assert [response.status for response in await asyncio.gather(*sends)] == [201] * 60
    assert {m.payload for m in push.received} == {f"message {n}".encode() for n in range(60)}
    assert [len(push.messages_for(s)) for s in subscribers] == [20, 20, 20]


# --- refused: VAPID ---------------------------------------------------------------------------


def _tampered(sender: Sender) -> Headers:
    """A valid token whose claims were swapped after signing (a later exp)."""
    scheme, _, rest = sender.sign()["Authorization"].partition(" t=")
    token, _, key = rest.partition(",k=")
    head, _, signature = token.split(".")
    body = b64urlencode(json.dumps(claims(sender.push, exp=int(time.time()) + 7200)).encode())
    return {"Authorization": f"{scheme} t={head}.{body}.{signature},k={key}"}


def _by_hand(
    s: Sender, header: dict | None = None, *, key: str = "", signer: Any = None, **changes: Any
) -> Headers:
    """A token signed by `signer` (the sender's key by default) that names `k=key`."""
    signer = signer or s.vapid.private_key
    token = jwt(signer, header or {"typ": "JWT", "alg": "ES256"}, claims(s.push, **changes))
    return {"Authorization": f"vapid t={token},k={key or public_key_of(s.vapid)}"}


VAPID_FAULTS: dict[str, tuple[Callable[[Sender], Headers], str]] = {
    "signed by another key than k": (
        lambda s: _by_hand(s, signer=ec.generate_private_key(ec.SECP256R1())),
        "JWT signature does not match k=",
    ),
    "claims tampered": (_tampered, "JWT signature does not match k="),
    "expired": (lambda s: s.sign(exp=int(time.time()) - 60), "expired"),
    "exp over 24 h": (lambda s: s.sign(exp=int(time.time()) + 90000), "24 hours"),
    "wrong aud": (lambda s: s.sign(aud="https://fcm.googleapis.com"), "aud"),
    "sub not mailto": (lambda s: _by_hand(s, sub="ops@fieldloop.test"), "sub"),
    "WebPush scheme": (lambda s: Vapid01(s.vapid.private_key).sign(claims(s.push)), "WebPush"),
    "no Authorization": (lambda s: {}, "no 'Authorization"),
    "alg not ES256": (lambda s: _by_hand(s, {"alg": "HS256"}), "alg"),
    "k not a key": (lambda s: _by_hand(s, key="AAAA"), "not a P-256"),
}


@pytest.mark.parametrize("fault", list(VAPID_FAULTS))
async def test_vapid_fault_refused_401(fault: str, push: FakePushService, sender: Sender) -> None:
    make_headers, reason = VAPID_FAULTS[fault]
    response = await sender.send(push.subscriber(), headers=make_headers(sender))
    assert response.status == 401, await response.text()
    assert push.received == []
    [(status, why)] = push.refused
    assert status == 401 and reason in why


async def test_key_other_than_the_pinned_one_refused_403(sender: Sender) -> None:
    async with FakePushService(vapid_public_key=public_key_of(sender.vapid)) as push:
        subscriber = push.subscriber()
        other = await sender.send(subscriber, headers=new_vapid().sign(claims(push)))
        pinned = await sender.send(subscriber, headers=sender.vapid.sign(claims(push)))
        assert (other.status, pinned.status) == (403, 201)
        assert [status for status, _ in push.refused] == [403]
        assert len(push.received) == 1


# --- refused: headers, size, encryption -------------------------------------------------------

HEADER_FAULTS: dict[str, dict[str, str | None]] = {
    "no TTL": {"TTL": None},
    "negative TTL": {"TTL": "-1"},
    "TTL not a number": {"TTL": "soon"},
    "unknown Urgency": {"Urgency": "urgent"},
    "Topic too long": {"Topic": "a" * 33},
    "Topic outside base64url": {"Topic": "case #1"},
    "no Content-Encoding": {"Content-Encoding": None},
}


@pytest.mark.parametrize("fault", list(HEADER_FAULTS))
async def test_header_fault_refused_400_and_the_same_request_without_it_accepted(
    fault: str, push: FakePushService, sender: Sender
) -> None:
    subscriber = push.subscriber()
    good: Headers = {**sender.sign(), "TTL": "60", "Content-Encoding": "aes128gcm"}
    bad = {k: v for k, v in {**good, **HEADER_FAULTS[fault]}.items() if v is not None}
    body = encrypted(subscriber, b"hi")
    assert await sender.raw_post(subscriber.endpoint, body, bad) == 400
    assert push.received == [] and [status for status, _ in push.refused] == [400]
    assert await sender.raw_post(subscriber.endpoint, body, good) == 201
    assert len(push.received) == 1


async def test_legacy_aesgcm_encoding_refused_400(push: FakePushService, sender: Sender) -> None:
    response = await sender.send(push.subscriber(), content_encoding="aesgcm")
    assert response.status == 400
    assert push.received == [] and "aes128gcm" in push.refused[0][1]


async def test_body_over_4096_bytes_refused_413(push: FakePushService, sender: Sender) -> None:
    """aes128gcm adds 103 bytes (86 header, 1 delimiter, 16 tag): 3993 plaintext bytes fit."""
    subscriber = push.subscriber()
    assert len(encrypted(subscriber, b"x" * 3993)) == MAX_PUSH_BODY
    fits = await sender.send(subscriber, b"x" * 3993)
    too_big = await sender.send(subscriber, b"x" * 3994)
    assert (fits.status, too_big.status) == (201, 413)
    assert [len(m.payload) for m in push.received] == [3993]
    assert [status for status, _ in push.refused] == [413]


async def test_encrypted_for_another_refused_400(push: FakePushService, sender: Sender) -> None:
    alice, bob = push.subscriber(), push.subscriber()
    alices_keys = {"endpoint": bob.endpoint, "keys": alice.subscription_info()["keys"]}
    wrong_auth = {"endpoint": bob.endpoint, "keys": {"p256dh": bob.p256dh, "auth": alice.auth}}
    for info in (alices_keys, wrong_auth):
        assert (await sender.send(info, b"for alice")).status == 400
    assert push.received == []
    assert [status for status, _ in push.refused] == [400, 400]
    assert all("does not decrypt" in reason for _, reason in push.refused)


async def test_unknown_endpoint_refused_404(push: FakePushService, sender: Sender) -> None:
    body = encrypted(push.subscriber(), b"hi")
    headers = {**sender.sign(), "TTL": "60", "Content-Encoding": "aes128gcm"}
    for url in (f"{push.url}/push/no-such-id", f"{push.url}/elsewhere"):
        assert await sender.raw_post(url, body, headers) == 404
    assert push.received == [] and [status for status, _ in push.refused] == [404, 404]
    assert push.requests == 2


# --- outages, revoked subscriptions, slow answers, waiting ------------------------------------


async def test_fail_next_503_retry_after_then_201(push: FakePushService, sender: Sender) -> None:
    one, two = push.subscriber(), push.subscriber()
    push.fail_next(2, 503, retry_after="1")
    push.fail_next(1, 429)  # calls queue up, and count requests to any endpoint
    answers = [await sender.webpush(to) for to in (one, two, one, two)]
    assert answers == [(503, "1"), (503, "1"), (429, None), (201, None)]
    assert push.refused == [(503, "fail_next: 503")] * 2 + [(429, "fail_next: 429")]
    assert push.received == push.messages_for(two) and len(push.received) == 1
    assert push.requests == 4


async def test_gone_answers_410_from_then_on(push: FakePushService, sender: Sender) -> None:
    revoked, still_there = push.subscriber(), push.subscriber()
    push.gone(revoked)
    assert [await sender.webpush(revoked) for _ in range(2)] == [(410, None)] * 2
    assert await sender.webpush(still_there) == (201, None)
    assert push.messages_for(revoked) == [] and len(push.messages_for(still_there)) == 1
    assert [status for status, _ in push.refused] == [410, 410]


async def test_wait_for(push: FakePushService, sender: Sender) -> None:
    """It returns as soon as enough came, else fails saying how many did."""
    subscriber = push.subscriber()
    waiting = asyncio.create_task(push.wait_for(2, timeout=5))
    await sender.send(subscriber, b"1")
    assert not waiting.done()
    await sender.send(subscriber, b"2")
    assert [m.payload for m in await waiting] == [b"1", b"2"]
    started = time.perf_counter()
    with pytest.raises(AssertionError, match=r"accepted 2 of 3 expected messages within 0.2s"):
        await push.wait_for(3, timeout=0.2)
    assert 0.19 < time.perf_counter() - started < 1.0


async def test_delay_holds_answer_not_message(push: FakePushService, sender: Sender) -> None:
    push.delay = 0.3
    sending = asyncio.create_task(sender.send(push.subscriber()))
    [message] = await push.wait_for(1, timeout=2)
    assert not sending.done()  # the service has it; the sender does not know yet
    response = await sending
    assert response.status == 201
    assert time.perf_counter() - message.received_at >= 0.25


async def test_sender_killed_mid_delivery_and_stop_does_not_wait_out_the_delay(
    sender: Sender,
) -> None:
    async with FakePushService() as push:
        sender.push, push.delay = push, 30
        subscriber = push.subscriber()
        sending = asyncio.create_task(sender.send(subscriber))
        await push.wait_for(1)
        sending.cancel()  # the worker dies waiting for the answer
        with pytest.raises(asyncio.CancelledError):
            await sending
        assert len(push.messages_for(subscriber)) == 1  # delivered all the same
        started = time.perf_counter()
    assert time.perf_counter() - started < 2


async def test_no_resource_warnings_from_pywebpush_sends(push: FakePushService) -> None:
    """pywebpush reads the answer (`resp.text()`), which releases the connection."""
    subscriber = push.subscriber()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with aiohttp.ClientSession() as session:
            sender = Sender(push, session, new_vapid())
            accepted = await sender.send(subscriber)
            refused = await sender.send(subscriber, b"", {})
            assert (accepted.status, refused.status) == (201, 401)
        del accepted, refused, sender
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
