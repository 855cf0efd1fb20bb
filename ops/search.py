"""Search attributes of operations runs, so an "alert" is visible in the Temporal UI.

`OpsKind` (e.g. maintenance_daily) and `OpsOutcome` (ok / alert / failed / rolled_back)
are upserted by each ops workflow when it ends, with a memo of its summary; filter with
`OpsOutcome = "alert"`. The ops worker registers them at start (ensure_ops_attributes).
"""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

OPS_KIND = SearchAttributeKey.for_keyword("OpsKind")
OPS_OUTCOME = SearchAttributeKey.for_keyword("OpsOutcome")
ALL = (OPS_KIND, OPS_OUTCOME)


async def ensure_ops_attributes(client: Client, namespace: str) -> list[str]:
    """Register the keys the namespace lacks (ticket keys: workflows.search); their names."""
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
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(search_attributes=missing, namespace=namespace)
            )
        except RPCError as err:
            if err.status != RPCStatusCode.ALREADY_EXISTS:
                raise
    return sorted(missing)
