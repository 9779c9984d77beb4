# The API image: slim Python, dependencies from uv.lock, a non-root user; migrates, then serves.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    MASH_ENVIRONMENT=production

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
# libmagic: documents are typed by their bytes (python-magic).
RUN apt-get update && apt-get install -y --no-install-recommends libmagic1 && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/mash
# Dependencies first, so the layer is reused until the lock file changes.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
RUN uv sync --frozen --no-dev \
    && useradd --system --uid 10001 --home-dir /srv/mash --shell /usr/sbin/nologin mash \
    && mkdir -p var && chown mash var

USER mash
ENV PATH="/srv/mash/.venv/bin:$PATH"
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
# MASH_DATABASE_URL and MASH_JWT_SECRET must be provided; the service refuses to start without a real secret.
CMD ["sh", "-c", "mash migrate && exec mash serve --host 0.0.0.0 --port 8000"]
