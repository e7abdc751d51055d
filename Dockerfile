# The hotline's bot: `docker compose up` (compose.yaml) runs it with PostgreSQL 16.
# The CJK font for the statistics charts comes with the Python package (noto-cjk-sans-otc).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY scheduler ./scheduler
COPY storage ./storage
RUN pip install . && rm -rf /src

# Not root: the bot needs nothing but its data directory (the delivery journal).
RUN useradd --system --create-home --uid 10001 hotline \
    && mkdir /data && chown hotline:hotline /data
USER hotline
WORKDIR /data

# /healthz and /metrics (and the webhook, with HOTLINE_WEBHOOK_URL) on port 8080.
ENV HOTLINE_LISTEN=0.0.0.0:8080 \
    HOTLINE_DELIVERY_JOURNAL=/data/hotline-delivery.journal
EXPOSE 8080
VOLUME ["/data"]

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]

CMD ["hotline", "run"]
