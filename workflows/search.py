"""Search attributes that let operators filter tickets, messages and operations runs in
the Temporal UI (e.g. `OpsOutcome = "alert"`, `TicketReference = "…"`)."""

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from domain.contracts import SA_MESSAGE_KIND, SA_TICKET_REFERENCE

TICKET_STATUS = SearchAttributeKey.for_keyword("TicketStatus")
BRANCH_OFFICE = SearchAttributeKey.for_keyword("BranchOffice")
QUEUE_NAME = SearchAttributeKey.for_keyword("QueueName")
TICKET_NUMBER = SearchAttributeKey.for_keyword("TicketNumber")
#: Notification workflows: the ticket they speak for and the message kind (e.g. CALLED).
TICKET_REFERENCE = SearchAttributeKey.for_keyword(SA_TICKET_REFERENCE)
MESSAGE_KIND = SearchAttributeKey.for_keyword(SA_MESSAGE_KIND)

ALL = (
    TICKET_STATUS,
    BRANCH_OFFICE,
    QUEUE_NAME,
    TICKET_NUMBER,
    TICKET_REFERENCE,
    MESSAGE_KIND,
)


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register those of our search attributes the namespace lacks; returns their names.
    (The ops worker registers its own, OpsKind and OpsOutcome: ops.search.)

    Reads the namespace's attributes first (a cheap read), so a worker start adds them
    once, on a fresh cluster, instead of calling the operator service's add at every start.
    """
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        have = set(listed.custom_attributes) | set(listed.system_attributes)
    except RPCError as err:
        if err.status != RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server
            raise
        have = set()
    missing = {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in ALL if key.name not in have
    }
    if not missing:
        return []
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(search_attributes=missing, namespace=namespace)
        )
    except RPCError as err:
        if err.status != RPCStatusCode.ALREADY_EXISTS:  # another worker added them first
            raise
    return sorted(missing)
