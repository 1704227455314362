# The load balancer of the `scale` profile (docker-compose.yml): Debian's HAProxy in front of the
# inference service's replicas, configured by docker/haproxy.cfg.
#
#   docker compose --profile scale up --build balancer     # replicas + balancer on http://localhost:8090
#
# HAProxy checks every replica's GET /readyz each second, sends requests only to ready ones and
# retries a request that a replica refused or dropped on another one (README.md, "Scaling out").
# Replica addresses and the listening address are environment variables read by haproxy.cfg.

ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE}
# Debian's package creates the unprivileged `haproxy` user; tini reaps HAProxy's checks as PID 1.
RUN apt-get update \
  && apt-get install -y --no-install-recommends haproxy tini \
  && rm -rf /var/lib/apt/lists/*
COPY docker/haproxy.cfg /etc/haproxy/haproxy.cfg
# The compose service's addresses by default; haproxy.cfg reads them at start.
ENV BALANCER_BIND=:8080 \
  REPLICA_1=inference-1:8080 \
  REPLICA_2=inference-2:8080
# Checked at build time (names that do not resolve yet are allowed: init-addr none).
RUN haproxy -c -f /etc/haproxy/haproxy.cfg
EXPOSE 8080
USER haproxy
# SIGUSR1 is HAProxy's soft stop: it stops listening and exits once its open requests are answered.
STOPSIGNAL SIGUSR1
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["haproxy", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
