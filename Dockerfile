# syntax=docker/dockerfile:1
# Two targets: `api` (the backend) and `car` (the scan-car process).
# Model weights are mounted at run time (SCANCAR_OCR_MODEL=/models/...), never baked in.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY scancar ./scancar
COPY zones ./zones
COPY permits ./permits
COPY api ./api
COPY fixtures ./fixtures
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim AS base
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 scancar
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
ENV SCANCAR_DATA_DIR=/data PYTHONUNBUFFERED=1
RUN mkdir -p /data && chown scancar:scancar /data
USER scancar
WORKDIR /home/scancar
VOLUME ["/data"]

FROM base AS api
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
ENTRYPOINT ["scancar", "serve", "--host", "0.0.0.0", "--port", "8000"]

FROM base AS car
ENV SCANCAR_OCR_MODEL=/models/cct-xs-v2-global-model
VOLUME ["/models"]
ENTRYPOINT ["scancar", "run", "--config", "/etc/scancar/car.toml"]
