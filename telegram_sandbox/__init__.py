"""Telegram Bot API sandbox: a loopback stand-in for api.telegram.org.

Dev and tests talk real HTTP to it instead of Telegram; it also plays the
customer's phone (web page at `/`) and can inject faults and outages.
"""
