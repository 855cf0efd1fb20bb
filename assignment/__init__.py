"""Assigning tickets to advisors: database reservations, then the ticket workflow's CALL.

A reservation is a compare-and-set on the ticket row plus the advisor's single
`current_ticket` slot, in one short transaction; the ticket's workflow then
accepts (CALLED) or refuses (the ticket moved on), and a refused reservation
is released. Safe with any number of API and worker processes.
"""
