# Fieldloop API server. Build: docker build -t fieldloop .
# Run:   docker run -p 8000:8000 -v fieldloop-var:/app/var fieldloop
# PostgreSQL: add -e FIELDLOOP_DATABASE_URL=postgresql://user:pass@host:5432/fieldloop
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FIELDLOOP_VAR_DIR=/app/var \
    FIELDLOOP_DATABASE_URL=sqlite:////app/var/fieldloop.sqlite3

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY api ./api
COPY sync ./sync
COPY media ./media
RUN pip install ".[postgres]" \
 && useradd --system --uid 10001 --home-dir /app fieldloop \
 && mkdir -p /app/var && chown fieldloop /app/var

USER fieldloop
VOLUME ["/app/var"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"

# Apply migrations, then serve. Seed a demo town with: docker run ... fieldloop seed
ENTRYPOINT ["fieldloop"]
CMD ["serve", "--migrate", "--host", "0.0.0.0", "--port", "8000"]
