# The wf server: `docker-compose up` runs it beside PostgreSQL (see docker-compose.yml).
FROM python:3.11-slim

WORKDIR /src
COPY . .
# The server's extra only: the image talks to an external PostgreSQL, so it carries no embedded one
# (that is the `dev` extra, for `wf server start-dev`).
RUN pip install --no-cache-dir '.[server]'

# The server needs no privileges: it runs as a user of its own, not root.
RUN useradd --system --no-create-home --uid 10001 wf
USER wf

EXPOSE 7233
# The database URL comes from WF_DB_URL (docker-compose.yml sets it), never from the command line.
# Health: grpc.health.v1 on the same port (docker-compose.yml's health check asks it).
CMD ["wf", "server", "start", "--ip", "0.0.0.0", "--port", "7233"]
