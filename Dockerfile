# One image for web, worker and beat. The wheels (PyAV, OpenCV, psycopg) need no compiler,
# so there are no build tools to leave behind; requirements are one layer, the code another.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AIRWAVE_VAR_DIR=/data UPLOAD_DIR=/data/uploads STATIC_ROOT=/app/static \
    PORT=8000 FORWARDED_ALLOW_IPS=127.0.0.1
WORKDIR /app
RUN useradd --create-home --uid 10001 app && mkdir -p /data && chown app /data
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Static files live in the image (compressed by whitenoise), never in the volume.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret-0123456789-abcdefghijklmnop \
    python manage.py collectstatic --noinput -v0
USER app
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=40s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"
# FORWARDED_ALLOW_IPS: the proxies whose X-Forwarded-* headers are trusted (your load balancer's address).
CMD ["sh", "-c", "python manage.py migrate --noinput && exec uvicorn airwave.asgi:application --host 0.0.0.0 --port \"$PORT\" --proxy-headers --forwarded-allow-ips \"$FORWARDED_ALLOW_IPS\""]
