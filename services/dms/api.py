"""Routes of the service."""

from fastapi import APIRouter, Depends

from common.deps import require_archive, require_service

router = APIRouter(prefix="/api/scheduling", dependencies=[Depends(require_archive)])
internal = APIRouter(prefix="/internal", dependencies=[Depends(require_service)], include_in_schema=False)
