"""Request and response bodies of the HTTP API, one module per area.

Routes and services import the module of their area; nothing here does I/O.
`common` holds what several areas share (camelCase on the wire).
"""
