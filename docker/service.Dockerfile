# The inference service on CPU (ONNX Runtime's CPU execution provider, face detection on TF.js wasm).
#
#   docker build -f docker/service.Dockerfile -t fer-inference .
#   docker run --rm -p 8080:8080 -v "$PWD/models:/models:ro" --stop-timeout 30 fer-inference
#
# Multi-platform: `docker buildx build --platform linux/amd64,linux/arm64 -f docker/service.Dockerfile .`
# (onnxruntime-node, sharp and esbuild ship prebuilt binaries for both; nothing is compiled).
#
# Stages: `deps` installs the production dependencies of the service workspace (and of @fer/shared)
# exactly as the lockfile pins them and prunes what the service never loads (docker/prune-node-modules.cjs);
# the final stage is plain Debian with the Node.js binary of the node image (no npm, no C headers: the
# service needs neither) and the TypeScript sources, which tsx (a runtime dependency of the service)
# runs as they are. The start command is the workspace's `npm start` script
# without npm in between, so SIGTERM reaches the service's graceful drain (tini, PID 1, forwards it and
# reaps the esbuild helper process that tsx starts).

# Node.js 24 LTS, the version CI tests on (.nvmrc); Debian 12 as in the node image.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim
ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# Every workspace manifest: npm ci checks the lockfile against all of them, then installs only the
# service's part of the tree (--workspace).
COPY package.json package-lock.json .npmrc ./
COPY shared/package.json shared/
COPY training/package.json training/
COPY services/inference/package.json services/inference/
COPY clients/typescript/package.json clients/typescript/
# --ignore-scripts: no install script is needed here (.npmrc already skips onnxruntime-node's CUDA
# download; sharp and esbuild use their prebuilt platform packages). It also keeps the optional
# @tensorflow/tfjs-node from fetching libtensorflow, which upstream no longer serves; its unbuilt
# package is removed so the detector's backend choice does not try it (it runs on wasm, as measured).
# onnxruntime-node ships binaries for every OS: only this platform's are kept (about 240 MB less).
# The prune script then proves that every package the service imports still loads.
COPY docker/prune-node-modules.cjs /tmp/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace services/inference \
  && node /tmp/prune-node-modules.cjs --workspace services/inference \
    --require @tensorflow/tfjs,@tensorflow/tfjs-backend-wasm,@vladmandic/face-api/dist/face-api.node-wasm.js,onnxruntime-node,sharp,fastify,tsx \
  && rm -rf node_modules/@tensorflow/tfjs-node \
  && ort_bin=node_modules/onnxruntime-node/bin/napi-v6 \
  && find "$ort_bin" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + \
  && find "$ort_bin/linux" -mindepth 1 -maxdepth 1 ! -name "$(node -p process.arch)" -exec rm -rf {} + \
  && test -f "$ort_bin/linux/$(node -p process.arch)/onnxruntime_binding.node" \
  && npm cache clean --force

FROM ${DEBIAN_IMAGE}
# tini as PID 1: forwards SIGTERM/SIGINT to node and reaps child processes. The `node` user (uid 1000)
# is the one of the node image.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --gid 1000 node \
  && useradd --uid 1000 --gid node --no-create-home --shell /usr/sbin/nologin node
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=deps /app ./
COPY tsconfig.base.json openapi.yaml ./
COPY shared/ shared/
COPY services/inference/ services/inference/
COPY docs/study/ docs/study/
COPY docker/healthcheck.cjs docker/

# The registry is a volume: mount a host folder (read-only is enough) or a named volume at /models.
# The service's configuration is environment variables (services/inference/src/config.ts).
ENV REGISTRY_DIR=/models \
  PORT=8080 \
  HOST=0.0.0.0
VOLUME ["/models"]
EXPOSE 8080

# The image's files belong to root; the service runs as the unprivileged `node` user.
USER node
WORKDIR /app/services/inference
# Generous start period: every model version is loaded and warmed up before /readyz turns 200.
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "/app/docker/healthcheck.cjs"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "src/server.ts"]
