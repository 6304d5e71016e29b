# syntax=docker/dockerfile:1
# hf-model-server images. Targets:
#   cpu  (default): docker build -t hf-model-server:0.1.0 .
#   cuda:           docker build --target cuda -t hf-model-server:0.1.0-cuda .
# Both run as a non-root user with a read-only root filesystem: models go to the /models volume,
# scratch to /tmp. API keys come from a mounted secret file.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

# ---- build: compile TypeScript, then drop dev dependencies --------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# The CPU onnxruntime binary ships in the npm package; never download CUDA here.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && npm rebuild --no-audit sharp onnxruntime-node
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY tools/copy-swagger-ui.mjs ./tools/copy-swagger-ui.mjs
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ---- cuda-providers: onnxruntime-node's CUDA execution provider libraries ----------------------
FROM build AS cuda-providers
RUN cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node ./script/install

# ---- cpu ----------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS cpu
ENV NODE_ENV=production HOME=/tmp ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json LICENSE README.md mcp.json ./
COPY skills ./skills
# The models volume, owned by the runtime user: a fresh named volume takes this ownership, so the
# server can write its download cache there without root.
RUN mkdir -p /models && chown 10001:10001 /models
USER 10001:10001
VOLUME ["/models"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["--transport", "http", "--host", "0.0.0.0", "--port", "8080", "--stateless", \
     "--api-key-file", "/run/secrets/hf-model-server-keys", "--cache-dir", "/models"]

# ---- cuda: the same server on NVIDIA's CUDA + cuDNN runtime, with the CUDA provider ------------
FROM ${CUDA_IMAGE} AS cuda
ENV NODE_ENV=production HOME=/tmp ONNXRUNTIME_NODE_INSTALL=skip
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=cuda-providers /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json LICENSE README.md mcp.json ./
COPY skills ./skills
# The models volume, owned by the runtime user: a fresh named volume takes this ownership, so the
# server can write its download cache there without root.
RUN mkdir -p /models && chown 10001:10001 /models
USER 10001:10001
VOLUME ["/models"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["--transport", "http", "--host", "0.0.0.0", "--port", "8080", "--stateless", "--device", "cuda", \
     "--api-key-file", "/run/secrets/hf-model-server-keys", "--cache-dir", "/models"]

# The default target is the CPU image.
FROM cpu
