"""Search attributes that let operators filter tickets in the Temporal UI."""

from temporalio.common import SearchAttributeKey

TICKET_STATUS = SearchAttributeKey.for_keyword("TicketStatus")
BRANCH_OFFICE = SearchAttributeKey.for_keyword("BranchOffice")
QUEUE_NAME = SearchAttributeKey.for_keyword("QueueName")
TICKET_NUMBER = SearchAttributeKey.for_keyword("TicketNumber")

ALL = (TICKET_STATUS, BRANCH_OFFICE, QUEUE_NAME, TICKET_NUMBER)
