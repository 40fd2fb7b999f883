"""The Cloud API client against the fake Graph server: request shapes, media, error codes."""

from __future__ import annotations

import httpx
import pytest

from guardianes.bot.whatsapp.client import (
    ListRow,
    Recipient,
    ReplyButton,
    WhatsAppClient,
)
from guardianes.services.delivery import FailureKind, SendFailedError
from tests.bot.whatsapp.conftest import JPEG_BYTES
from tests.fakes.graph_server import FakeGraphServer, Fault

PHONE = Recipient(wa_id="5216141234567")
SCOPED = Recipient(bsuid="MX.13491208655302741918")


async def test_send_text_posts_a_text_message_with_bearer(wa_client, graph: FakeGraphServer):
    message_id = await wa_client.send_text(PHONE, "Hola")
    [sent] = graph.delivered
    assert message_id == sent.message_id
    assert sent.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5216141234567",
        "type": "text",
        "text": {"body": "Hola", "preview_url": False},
    }


async def test_send_to_a_business_scoped_id_uses_the_recipient_field(wa_client, graph):
    await wa_client.send_text(SCOPED, "Hola")
    [sent] = graph.delivered
    assert sent.recipient == "MX.13491208655302741918"
    assert sent.to is None


async def test_send_buttons_posts_reply_buttons(wa_client, graph):
    buttons = (ReplyButton("yes", "Sí"), ReplyButton("no", "No"))
    await wa_client.send_buttons(PHONE, "¿Está limpio?", buttons)
    [sent] = graph.delivered
    assert sent.interactive_type == "button"
    assert sent.button_ids == ["yes", "no"]
    assert sent.button_titles == ["Sí", "No"]
    assert sent.text == "¿Está limpio?"


async def test_send_list_posts_one_section_of_rows(wa_client, graph):
    rows = (ListRow("a", "Uno"), ListRow("b", "Dos", "detalle"))
    await wa_client.send_list(PHONE, "Elige", "Ver opciones", rows)
    [sent] = graph.delivered
    assert sent.interactive_type == "list"
    assert sent.body["interactive"]["action"]["button"] == "Ver opciones"
    assert sent.list_rows == [
        {"id": "a", "title": "Uno"},
        {"id": "b", "title": "Dos", "description": "detalle"},
    ]


async def test_send_location_request_posts_the_send_location_action(wa_client, graph):
    await wa_client.send_location_request(PHONE, "¿Dónde estás?")
    [sent] = graph.delivered
    assert sent.interactive_type == "location_request_message"
    assert sent.body["interactive"]["action"] == {"name": "send_location"}


async def test_send_template_posts_name_language_and_body_parameter(wa_client, graph):
    await wa_client.send_template(PHONE, "guardianes_aviso", "es_MX", ("Mañana hay visita",))
    [sent] = graph.delivered
    assert sent.body["template"] == {
        "name": "guardianes_aviso",
        "language": {"code": "es_MX"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Mañana hay visita"}]}
        ],
    }


async def test_fetch_media_looks_up_then_downloads_with_the_bearer(wa_client, graph):
    media_id = graph.add_media(JPEG_BYTES)
    info, data = await wa_client.fetch_media(media_id, max_bytes=1024)
    assert data == JPEG_BYTES
    assert info.mime_type == "image/jpeg"
    assert graph.media_downloads == [media_id]
    assert graph.unauthorized == 0


async def test_media_with_a_wrong_token_is_refused(graph):
    client = WhatsAppClient(graph.base_url, "wrong-token", graph.phone_number_id)
    media_id = graph.add_media(JPEG_BYTES)
    with pytest.raises(SendFailedError) as failure:
        await client.fetch_media(media_id, max_bytes=1024)
    await client.aclose()
    assert failure.value.kind == FailureKind.PERMANENT
    assert graph.unauthorized == 1


async def test_media_larger_than_the_limit_is_not_downloaded(wa_client, graph):
    media_id = graph.add_media(JPEG_BYTES)
    with pytest.raises(SendFailedError):
        await wa_client.fetch_media(media_id, max_bytes=10)
    assert graph.media_downloads == []


@pytest.mark.parametrize(
    ("code", "http_status", "kind"),
    [
        (130429, 400, FailureKind.RATE_LIMITED),
        (131056, 400, FailureKind.RATE_LIMITED),
        (131048, 400, FailureKind.RATE_LIMITED),
        (80007, 400, FailureKind.RATE_LIMITED),
        (4, 400, FailureKind.RATE_LIMITED),
        (131064, 400, FailureKind.RATE_LIMITED),
        (131047, 400, FailureKind.OUTSIDE_WINDOW),
        (131026, 400, FailureKind.UNREACHABLE),
        (131000, 500, FailureKind.RETRY),
        (100, 400, FailureKind.PERMANENT),
        (131009, 400, FailureKind.PERMANENT),
    ],
)
async def test_graph_error_codes_map_to_failure_kinds(wa_client, graph, code, http_status, kind):
    graph.fail_next_with_code(1, code, http_status)
    with pytest.raises(SendFailedError) as failure:
        await wa_client.send_text(PHONE, "Hola")
    assert failure.value.kind == kind


async def test_rate_limits_carry_a_retry_after(wa_client, graph):
    graph.fail_next_with_code(1, 130429)
    with pytest.raises(SendFailedError) as failure:
        await wa_client.send_text(PHONE, "Hola")
    assert failure.value.retry_after is not None
    assert failure.value.retry_after > 0


async def test_a_retry_after_header_wins_over_the_default_wait(wa_client, graph):
    graph.fail_next(1, Fault(code=80007, retry_after="42"))
    with pytest.raises(SendFailedError) as failure:
        await wa_client.send_text(PHONE, "Hola")
    assert failure.value.retry_after == 42.0


async def test_a_bare_server_error_is_retried(wa_client, graph):
    graph.fail_next(1, Fault(code=None, http_status=500))
    with pytest.raises(SendFailedError) as failure:
        await wa_client.send_text(PHONE, "Hola")
    assert failure.value.kind == FailureKind.RETRY


async def test_a_network_failure_is_retried():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = WhatsAppClient(
        "http://127.0.0.1:9/v23.0", "t", "1", transport=httpx.MockTransport(refuse)
    )
    with pytest.raises(SendFailedError) as failure:
        await client.send_text(PHONE, "Hola")
    await client.aclose()
    assert failure.value.kind == FailureKind.RETRY


async def test_a_timeout_is_retried():
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = WhatsAppClient(
        "http://127.0.0.1:9/v23.0", "t", "1", transport=httpx.MockTransport(slow)
    )
    with pytest.raises(SendFailedError) as failure:
        await client.send_text(PHONE, "Hola")
    await client.aclose()
    assert failure.value.kind == FailureKind.RETRY


async def test_after_injected_faults_sends_succeed_again(wa_client, graph):
    graph.fail_next_with_code(1, 131047)
    with pytest.raises(SendFailedError):
        await wa_client.send_text(PHONE, "uno")
    await wa_client.send_text(PHONE, "dos")
    sends = await graph.wait_for_sends(1)
    assert [s.text for s in sends] == ["dos"]
    assert len(graph.sends) == 2


def test_addresses_of_digits_are_phone_numbers_and_others_are_scoped_ids():
    assert Recipient.from_address("5216141234567").fields() == {"to": "5216141234567"}
    assert Recipient.from_address("MX.13491208655302741918").fields() == {
        "recipient": "MX.13491208655302741918"
    }
