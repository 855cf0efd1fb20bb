"""Tests of the Telegram Bot API sandbox, driven over real HTTP."""
