# The wf server: `docker-compose up` runs it beside PostgreSQL (see docker-compose.yml).
FROM python:3.11-slim

WORKDIR /src
COPY . .
RUN pip install --no-cache-dir '.[server]'

EXPOSE 7233
# The database URL comes from WF_DB_URL (docker-compose.yml sets it), never from the command line.
CMD ["wf", "server", "start", "--ip", "0.0.0.0", "--port", "7233"]
