# The tracker's one image, built once and run as every app service: the release step (migrate),
# web (gunicorn + whitenoise), Celery worker and Celery beat. See docker-compose.yml and
# tracker/deploy/kubernetes/.

# Build stage: uv installs the locked dependencies into /opt/venv; uv itself, its cache and the
# build tools stay in this stage and never reach the image.
FROM python:3.11.10-slim-bookworm AS build
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

FROM python:3.11.10-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH="/opt/venv/bin:$PATH"
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . .
# collectstatic needs settings that import cleanly; these values exist only during the build.
# The app's own modules are compiled here, as the container cannot write them (about 0.6 s of
# CPU saved on every process start: each gunicorn worker, Celery process and command).
RUN DEBUG=false SECRET_KEY=build-only-not-secret python manage.py collectstatic --no-input \
    && python -m compileall -q tracker manage.py \
    && useradd --create-home --uid 1000 tracker && chown -R tracker /app/var
USER 1000
EXPOSE 8000
# docker-compose.yml and the Kubernetes manifests name their commands; this is the web's.
CMD ["gunicorn", "--config", "tracker/deploy/gunicorn.conf.py", "tracker.wsgi"]
