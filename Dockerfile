# The wf server: `docker-compose up` runs it beside PostgreSQL (see docker-compose.yml).
FROM python:3.11-slim

WORKDIR /src
COPY . .
RUN pip install --no-cache-dir '.[server]'

EXPOSE 7233
CMD ["wf", "server", "start", "--db", "postgresql://wf:wf@postgres:5432/wf", "--ip", "0.0.0.0", "--port", "7233"]
