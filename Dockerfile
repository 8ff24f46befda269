# syntax=docker/dockerfile:1
# Relearn: one image, two commands.
#   API (default):  node --import tsx server/src/main.ts     (PORT 4000)
#   trainer:        node --import tsx server/src/trainer.ts  (PORT 4100; needs DATABASE_URL)
#
# Relearn has no compile step: it runs its TypeScript sources through tsx (the same way
# `npm start` does), and so do MikroORM's migrations (migrations/*.ts) and the training worker
# thread (server/src/training/training-worker.ts). tsx is a devDependency of the repository, so the
# runtime stage takes the production dependencies and adds tsx (with esbuild, its only dependency)
# from the build stage, at the versions package-lock.json pins.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: every dependency, the web dashboard if it has a build script ---------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY web/package.json web/
RUN npm ci --no-audit --no-fund
COPY . .
# The dashboard (Svelte + Vite) builds into web/dist, which the API serves at /.
RUN npm run build -w web --if-present && mkdir -p web/dist

# ---- prod-deps: production dependencies only -------------------------------------------------
# No production dependency has an install script (only the dev packages esbuild and node do).
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY web/package.json web/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime -----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
# tsx runs the TypeScript sources at runtime (see above); esbuild + its platform binary with it.
COPY --from=build --chown=node:node /app/node_modules/tsx ./node_modules/tsx
COPY --from=build --chown=node:node /app/node_modules/esbuild ./node_modules/esbuild
COPY --from=build --chown=node:node /app/node_modules/@esbuild ./node_modules/@esbuild
COPY --chown=node:node package.json package-lock.json tsconfig.json ./
COPY --chown=node:node server/package.json server/
COPY --chown=node:node server/src server/src
COPY --chown=node:node migrations migrations
COPY --chown=node:node examples examples
# The web workspace: its package.json and the built dashboard (served by the API at /).
COPY --chown=node:node web/package.json web/
COPY --from=build --chown=node:node /app/web/dist ./web/dist
# DATA_DIR: embedded PGlite and local blobs when DATABASE_URL / S3_ENDPOINT are unset.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 4000
# slim images have no curl: Node's fetch. PORT is 4000 for the API and 4100 for the trainer.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--import", "tsx", "server/src/main.ts"]
