"""Tests of the WhatsApp Cloud API adapter."""
