# syntax=docker/dockerfile:1
# One image for both Practice Line processes (the dispatch service and the persona agent worker);
# docker-compose.yml picks the command. Runs the TypeScript sources through tsx, exactly as
# `npm start` does, so there is no separate build to drift from what the tests ran.
# No secrets are baked in: every key arrives at run time through the environment (see .env.example).

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
# npm 11 honours package.json "allowScripts" (only the install scripts we approved run).
RUN npm install -g npm@11
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
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
