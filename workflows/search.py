"""Search attributes that let operators filter tickets in the Temporal UI."""

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

TICKET_STATUS = SearchAttributeKey.for_keyword("TicketStatus")
BRANCH_OFFICE = SearchAttributeKey.for_keyword("BranchOffice")
QUEUE_NAME = SearchAttributeKey.for_keyword("QueueName")
TICKET_NUMBER = SearchAttributeKey.for_keyword("TicketNumber")

ALL = (TICKET_STATUS, BRANCH_OFFICE, QUEUE_NAME, TICKET_NUMBER)


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register our search attributes (a production cluster does not have them yet)."""
    wanted = {key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in ALL}
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(search_attributes=wanted, namespace=namespace)
        )
    except RPCError as err:
        if err.status != RPCStatusCode.ALREADY_EXISTS:
            raise
