# Beacon: one image for every process of the production shape (api, projector, worker).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml ./
COPY domain ./domain
COPY application ./application
COPY projections ./projections
COPY infrastructure ./infrastructure
COPY interfaces ./interfaces
RUN pip install . && rm -rf build *.egg-info

# Embedded mode (no DATABASE_URL) keeps its SQLite files here; mount a volume on it.
RUN useradd --create-home --uid 10001 beacon && mkdir /data && chown beacon:beacon /data
ENV BEACON_DATA_DIR=/data
USER beacon

EXPOSE 8000
CMD ["beacon", "serve", "--host", "0.0.0.0"]
