# Web, worker and beat image: docker compose runs it with different commands.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FULFILLMENT_VAR_DIR=/app/var

WORKDIR /app

# Dependencies first, so that code changes reuse this layer. The project itself is not a
# package ([tool.setuptools] packages = []): installing "." installs its pinned dependencies.
COPY pyproject.toml constraints.txt README.md ./
RUN pip install -c constraints.txt .

# The code, listed so that a local .venv, var/ or .git never ends up in the image.
COPY manage.py ./
COPY fulfillment ./fulfillment
COPY inventory ./inventory
COPY orders ./orders
COPY picking ./picking
COPY packing ./packing
COPY shipping ./shipping
COPY returns ./returns
COPY dashboard ./dashboard
COPY templates ./templates
COPY static ./static

# Static files are built into the image and served by WhiteNoise; the key is for this step only.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app app \
    && mkdir -p /app/var \
    && chown -R app:app /app/var

USER app
EXPOSE 8000

CMD ["gunicorn", "fulfillment.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
