"""The Telegram channel: parse updates, render prompts, send, poll or receive the webhook.

`plugin.TelegramPlugin` is what the service starts; `webhook.router` serves
`POST /webhooks/telegram`.
"""
