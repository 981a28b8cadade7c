# The tracker's one image: web (gunicorn + whitenoise), Celery worker and Celery beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH="/opt/venv/bin:$PATH"
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev
COPY . .
# collectstatic needs settings that import cleanly; these values are build-time only.
RUN DEBUG=false SECRET_KEY=build-only-not-secret python manage.py collectstatic --no-input

RUN useradd --create-home tracker && mkdir -p /app/var && chown tracker /app/var
USER tracker
EXPOSE 8000
CMD ["gunicorn", "tracker.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
