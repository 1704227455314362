# The inference service on an NVIDIA GPU: ONNX Runtime's CUDA execution provider (DEVICE=cuda).
# linux/amd64 only: onnxruntime-node publishes its CUDA provider for linux/x64 alone.
#
#   docker build -f docker/service-gpu.Dockerfile -t fer-inference-gpu .
#   docker run --rm --gpus all -p 8080:8080 -v "$PWD/models:/models:ro" --stop-timeout 30 fer-inference-gpu
#
# Needs the NVIDIA driver and the NVIDIA Container Toolkit on the host. onnxruntime-node 1.30 is built
# for CUDA 12.x and cuDNN 9.x (ONNX Runtime's CUDA provider requirements); the runtime base below has
# both. Face detection stays on the CPU (TF.js wasm), as in the CPU image.
#
# Stages: `node` only lends its Node.js binary; `deps` installs the service's production dependencies
# and then onnxruntime-node's CUDA provider libraries (its installer, onnxruntime-node-install=cuda12,
# downloads them from NuGet); the final stage is the CUDA + cuDNN runtime image with those files.

ARG NODE_IMAGE=node:24.22.3-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04

FROM ${NODE_IMAGE} AS node

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY shared/package.json shared/
COPY training/package.json training/
COPY services/inference/package.json services/inference/
COPY clients/typescript/package.json clients/typescript/
# As in service.Dockerfile (pruned the same way), then onnxruntime-node's installer run on purpose with
# ONNXRUNTIME_NODE_INSTALL=cuda12 (the environment form of --onnxruntime-node-install=cuda12, which
# overrides .npmrc's skip). The build fails here, not at start-up, when the CUDA provider is missing.
COPY docker/prune-node-modules.cjs /tmp/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace services/inference \
  && node /tmp/prune-node-modules.cjs --workspace services/inference \
    --require @tensorflow/tfjs,@tensorflow/tfjs-backend-wasm,@vladmandic/face-api/dist/face-api.node-wasm.js,onnxruntime-node,sharp,fastify,tsx \
  && rm -rf node_modules/@tensorflow/tfjs-node \
  && ort_bin=node_modules/onnxruntime-node/bin/napi-v6 \
  && find "$ort_bin" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + \
  && find "$ort_bin/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} + \
  && ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js \
  && test -f "$ort_bin/linux/x64/libonnxruntime_providers_cuda.so" \
  && test -f "$ort_bin/linux/x64/libonnxruntime_providers_shared.so" \
  && npm cache clean --force

FROM ${CUDA_IMAGE}
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --system --gid 10001 fer \
  && useradd --system --uid 10001 --gid fer --no-create-home --shell /usr/sbin/nologin fer
# The official Node.js binary (built against an old glibc) runs on the CUDA image's Ubuntu.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=deps /app ./
COPY tsconfig.base.json openapi.yaml ./
COPY shared/ shared/
COPY services/inference/ services/inference/
COPY docker/healthcheck.cjs docker/

# RUNTIME and DEVICE are the service's own variables (services/inference/src/config.ts): ONNX Runtime
# with the CUDA execution provider on GPU 0. Start with DEVICE=cpu to run the same image without a GPU.
ENV REGISTRY_DIR=/models \
  PORT=8080 \
  HOST=0.0.0.0 \
  RUNTIME=onnx \
  DEVICE=cuda
VOLUME ["/models"]
EXPOSE 8080

USER fer
WORKDIR /app/services/inference
HEALTHCHECK --interval=10s --timeout=5s --start-period=180s --retries=3 \
  CMD ["node", "/app/docker/healthcheck.cjs"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "src/server.ts"]
