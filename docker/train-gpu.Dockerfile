# The training job on an NVIDIA GPU: `npm run train` with TF.js on @tensorflow/tfjs-node-gpu
# (libtensorflow with CUDA). linux/amd64 only (libtensorflow GPU builds are x86_64).
#
#   docker build -f docker/train-gpu.Dockerfile -t fer-trainer \
#     --build-arg LIBTENSORFLOW_URL=https://mirror.example/libtensorflow-gpu-linux-x86_64-2.9.1.tar.gz .
#   docker run --rm --gpus all -v "$PWD/models:/app/models" -v "$PWD/artifacts:/app/artifacts" \
#     -v /path/to/fer6:/data:ro fer-trainer training/src/cli/train.ts --backbone all --data /data --registry models
#
# tfjs-node-gpu 4.22 is built on libtensorflow 2.9.1, which needs CUDA 11.2+ (any 11.x) and cuDNN 8.1+
# (8.x): hence the CUDA 11.8 + cuDNN 8 base. Upstream no longer serves that library; where to get it
# is a build argument (see docker/install-tfjs-node-gpu.sh and README.md, "GPU training"). Without a
# usable GPU at run time TensorFlow runs the same job on the CPU; without the binding, TF.js falls back
# to its wasm/cpu backends (TFJS_NATIVE=skip builds it so on purpose, without compilers: how CI builds
# this image on a Debian stand-in for the CUDA base). The backend in use is logged at start and
# recorded in each version's metadata.
#
# Stages: `node` lends Node.js (binary, npm, headers); `build` installs the training workspace's
# production dependencies and compiles the binding on the same OS as the final image; the final
# stage is the CUDA runtime with the result, without compilers.

ARG NODE_IMAGE=node:24.22.3-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04

FROM ${NODE_IMAGE} AS node

FROM ${CUDA_IMAGE} AS build
# skip: no native binding at all (TF.js on wasm/cpu); the compilers are then not needed either.
ARG TFJS_NATIVE=required
RUN if [ "$TFJS_NATIVE" != skip ]; then \
    apt-get update \
    && apt-get install -y --no-install-recommends build-essential python3 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*; \
  fi
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
COPY --from=node /usr/local/include/node /usr/local/include/node
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
# node-gyp (npm's own copy) compiles against the headers of this very Node.js instead of downloading them.
ENV npm_config_nodedir=/usr/local \
  npm_config_node_gyp=/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY shared/package.json shared/
COPY training/package.json training/
COPY services/inference/package.json services/inference/
COPY clients/typescript/package.json clients/typescript/
# Scripts off, as in the service images; the CPU @tensorflow/tfjs-node is dropped (tfjs-node-gpu is
# the native package here) and onnxruntime-node keeps only linux/x64 (it checks ONNX exports on CPU).
COPY docker/prune-node-modules.cjs /tmp/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace training \
  && node /tmp/prune-node-modules.cjs --workspace training \
    --require @tensorflow/tfjs,@tensorflow/tfjs-backend-wasm,onnxruntime-node,sharp,onnx-proto,vega,vega-lite,tsx \
  && rm -rf node_modules/@tensorflow/tfjs-node \
  && ort_bin=node_modules/onnxruntime-node/bin/napi-v6 \
  && find "$ort_bin" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + \
  && find "$ort_bin/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +
ARG LIBTENSORFLOW_URL=
ARG LIBTENSORFLOW_SHA256=
ARG TFJS_NODE_BASE_URI=
COPY docker/install-tfjs-node-gpu.sh /tmp/install-tfjs-node-gpu.sh
RUN sh /tmp/install-tfjs-node-gpu.sh && npm cache clean --force

FROM ${CUDA_IMAGE}
# uid 1000 (the usual first user of a Linux host, so bind-mounted outputs stay theirs); Ubuntu 24.04
# bases already have an `ubuntu` user with that id.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && (userdel --remove ubuntu 2>/dev/null || true) \
  && groupadd --gid 1000 fer \
  && useradd --uid 1000 --gid fer --create-home --shell /usr/sbin/nologin fer
COPY --from=node /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=build /app ./
COPY tsconfig.base.json ./
COPY shared/ shared/
COPY training/ training/
# The registry (models/, where versions are published) and artifacts/ (checkpoints for --resume,
# reports, comparisons) are the job's outputs: mount them. uid 1000 must be able to write there.
RUN mkdir -p models artifacts && chown fer:fer models artifacts
VOLUME ["/app/models", "/app/artifacts"]

# Let TensorFlow take GPU memory as it needs it instead of all of it at start.
ENV TF_FORCE_GPU_ALLOW_GROWTH=true
USER fer
# Ctrl-C semantics on `docker stop`: the job stops after the current batch, keeping the last
# epoch's checkpoint (rerun with --resume).
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--import", "tsx"]
CMD ["training/src/cli/train.ts", "--help"]
