"""GET /me: who the server takes the caller for, and their identify quota and use."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.access import Caller, Gate
from app.schemas import IdentifyQuota, Me

router = APIRouter(tags=["operations"])


@router.get("/me", response_model=Me)
async def me(request: Request) -> Me:
    """The caller (key name, or anonymous by address), its access and its identify quota."""
    gate: Gate = request.app.state.gate
    caller: Caller = request.state.caller
    usage = gate.usage(caller)
    return Me(
        key=caller.key.name if caller.key is not None else None,
        access=caller.key.access if caller.key is not None else "anonymous",
        writes_allowed=not gate.writes_need_a_key
        or (caller.key is not None and caller.key.access == "write"),
        rate_limit=gate.rate_limit,
        identify=IdentifyQuota(
            quota=usage.quota,
            used=usage.used,
            remaining=None if usage.quota is None else max(0, usage.quota - usage.used),
            resets_at=usage.resets_at,
        ),
    )
