"""The webhook routes: subscription check and signed posts."""

from __future__ import annotations

from guardianes.bot.whatsapp.parse import MediaFailedError
from tests.bot.whatsapp.conftest import VERIFY_TOKEN, RecordingSink
from tests.fakes.graph_server import CLASSIC, WebhookFactory, sign

PATH = "/webhooks/whatsapp"


async def test_subscription_with_the_right_token_echoes_the_challenge(webhook_http):
    response = await webhook_http.get(
        PATH,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


async def test_subscription_with_a_wrong_token_is_forbidden(webhook_http):
    response = await webhook_http.get(
        PATH, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}
    )
    assert response.status_code == 403


async def test_subscription_with_another_mode_is_forbidden(webhook_http):
    response = await webhook_http.get(
        PATH,
        params={"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    )
    assert response.status_code == 403


async def test_a_signed_post_is_accepted_and_handed_over(
    webhook_http, webhooks: WebhookFactory, sink: RecordingSink
):
    post = webhooks.text(CLASSIC, "hola")
    response = await webhook_http.post(PATH, content=post.body, headers=post.headers)
    assert response.status_code == 200
    [batch] = sink.batches
    assert [m.message.id for m in batch.messages] == [
        post.json()["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    ]


async def test_a_post_without_signature_is_refused_and_not_processed(webhook_http, webhooks, sink):
    post = webhooks.text(CLASSIC, "hola")
    response = await webhook_http.post(
        PATH, content=post.body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert sink.batches == []


async def test_a_forged_signature_is_refused_and_not_processed(webhook_http, webhooks, sink):
    post = webhooks.post({"messages": []}, secret="someone-else")
    forged = webhooks.text(CLASSIC, "hola", message_id="wamid.FORGED")
    headers = {**forged.headers, "X-Hub-Signature-256": post.headers["X-Hub-Signature-256"]}
    response = await webhook_http.post(PATH, content=forged.body, headers=headers)
    assert response.status_code == 401
    assert sink.batches == []


async def test_a_body_altered_after_signing_is_refused(webhook_http, webhooks, sink):
    post = webhooks.text(CLASSIC, "hola")
    altered = post.body.replace(b"hola", b"HOLA")
    response = await webhook_http.post(PATH, content=altered, headers=post.headers)
    assert response.status_code == 401
    assert sink.batches == []


async def test_signature_is_checked_on_the_raw_bytes_not_re_serialized_json(
    webhook_http, webhooks, sink
):
    post = webhooks.text(CLASSIC, "Juárez 5/B")  # Meta escapes ñ, á and /
    response = await webhook_http.post(PATH, content=post.body, headers=post.headers)
    assert response.status_code == 200


async def test_malformed_json_with_a_valid_signature_is_a_bad_request(webhook_http, sink):
    body = b"{not json"
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign("test-app-secret", body),
    }
    response = await webhook_http.post(PATH, content=body, headers=headers)
    assert response.status_code == 400
    assert sink.batches == []


async def test_media_not_yet_available_asks_meta_to_redeliver(webhook_http, webhooks, sink):
    sink.fail_with = MediaFailedError("timeout", retryable=True)
    post = webhooks.image(CLASSIC, "777")
    response = await webhook_http.post(PATH, content=post.body, headers=post.headers)
    assert response.status_code == 503
