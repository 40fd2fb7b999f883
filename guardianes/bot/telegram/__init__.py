"""The Telegram channel: parse updates, render prompts, send, poll or receive the webhook.

Start it from the lifespan with `runner.start_telegram(runtime, app)`; mount
`webhook.router` for `POST /webhooks/telegram`.
"""
