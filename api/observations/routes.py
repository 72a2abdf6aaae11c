"""``POST /api/v1/observations``: what a scan car posts (multipart: metadata + images)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from api.auth.principal import Role
from api.db import utcnow
from api.deps import PendingPrincipal, SessionDep, SettingsDep, allow_deferred, backend_of
from api.errors import ApiError, PayloadTooLarge, Unprocessable
from api.limits import check_capture_not_ahead
from api.middleware import BodyLimitError
from api.observations.service import IngestResult, check_evidence, ingest
from scancar.wire import MAX_EVIDENCE_PER_OBSERVATION, ObservationMetadata, ObservationReceipt

router = APIRouter(prefix="/api/v1", tags=["observations"])

MAX_METADATA_BYTES = 64 * 1024


class ObservationForm(BaseModel):
    """Documented shape of the multipart body (the route parses it itself)."""

    metadata: str


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "metadata"
        parts.append(f"metadata.{where}: {err.get('msg', 'invalid').removeprefix('Value error, ')}")
    return "; ".join(parts)


async def _parse_metadata(raw_meta: UploadFile | str | None) -> ObservationMetadata:
    if raw_meta is None:
        raise Unprocessable("the 'metadata' part is missing", code="missing_metadata")
    if isinstance(raw_meta, UploadFile):
        meta_bytes = await raw_meta.read(MAX_METADATA_BYTES + 1)
        if len(meta_bytes) > MAX_METADATA_BYTES:
            raise PayloadTooLarge(f"the metadata part is over {MAX_METADATA_BYTES} bytes")
    else:
        meta_bytes = raw_meta.encode()
    try:
        metadata = ObservationMetadata.model_validate_json(meta_bytes)
    except ValidationError as exc:
        raise Unprocessable(_validation_message(exc), code="invalid_metadata") from None
    check_capture_not_ahead(metadata.captured_at, utcnow())
    return metadata


async def _read_parts(
    request: Request, max_image_bytes: int
) -> tuple[ObservationMetadata, dict[str, bytes]]:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise ApiError(
            f"content type {ctype.split(';')[0] or 'none'!r} is not accepted; send "
            "multipart/form-data with a 'metadata' part and the evidence images",
            code="unsupported_media_type",
        )
    try:
        form = await request.form(
            max_files=MAX_EVIDENCE_PER_OBSERVATION + 1,
            max_fields=2,
            max_part_size=MAX_METADATA_BYTES,
        )
    except BodyLimitError:
        raise  # too large or too slow: its own answer
    except (MultiPartException, StarletteHTTPException) as exc:
        why = exc.message if isinstance(exc, MultiPartException) else exc.detail
        raise ApiError(
            f"malformed multipart body: {why} At most "
            f"{MAX_EVIDENCE_PER_OBSERVATION} images plus 'metadata' are allowed",
            code="bad_multipart",
        ) from None
    try:
        metadata = await _parse_metadata(form.get("metadata"))
        parts: dict[str, bytes] = {}
        for name, value in form.multi_items():
            if name == "metadata":
                continue
            if name in parts:
                raise Unprocessable(f"part {name!r} is sent twice", code="duplicate_part")
            if not isinstance(value, UploadFile):
                raise Unprocessable(
                    f"part {name!r} must be an image file, not a text field", code="bad_part"
                )
            data = await value.read(max_image_bytes + 1)
            if len(data) > max_image_bytes:
                raise PayloadTooLarge(
                    f"evidence part {name!r} is over {max_image_bytes} bytes per image"
                )
            parts[name] = data
        return metadata, parts
    finally:
        await form.close()


@router.post(
    "/observations",
    status_code=201,
    response_model=ObservationReceipt,
    responses={
        200: {"model": ObservationReceipt, "description": "the same observation again"},
        409: {"description": "same observation_id with different content"},
        413: {"description": "an image or the request is too large"},
        422: {"description": "invalid metadata or evidence (the message names the part)"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["metadata"],
                        "properties": {
                            "metadata": {"type": "string", "maxLength": MAX_METADATA_BYTES}
                        },
                        "additionalProperties": {"type": "string", "format": "binary"},
                    }
                }
            },
        }
    },
)
async def post_observation(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    device: Annotated[PendingPrincipal, allow_deferred(Role.DEVICE)],
) -> ObservationReceipt:
    metadata, parts = await _read_parts(request, settings.max_image_bytes)
    backend = backend_of(request)

    def check_and_store() -> IngestResult:
        # one worker-thread hop: the caller's check, image checks, files, rows, commit
        principal = device.resolve(session)
        images = check_evidence(
            metadata,
            parts,
            max_image_bytes=settings.max_image_bytes,
            images=backend.image_checker,
        )
        rules = backend.zone_rules.rules_for(session, metadata.zone_id)
        grace = rules.grace_minutes if rules else settings.default_grace_minutes
        return ingest(
            session, backend.evidence_store, principal, metadata, images, grace_minutes=grace
        )

    result = await run_in_threadpool(check_and_store)
    backend.metrics.observe_ingest(
        created=result.created, evidence_bytes=sum(len(data) for data in parts.values())
    )
    if not result.created:
        response.status_code = 200
    return ObservationReceipt(
        id=result.hit_id, observation_id=metadata.observation_id, status=result.status
    )
