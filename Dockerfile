# One image for the router and the four subgraphs; docker-compose.yml picks the command per service.
# Node.js 22 (LTS, the line CI also runs on); the services run as plain JavaScript compiled by
# `npm run build` (dist/<service>.js), not through tsx.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
COPY prisma ./prisma
COPY prisma.config.ts ./
COPY router/package.json ./router/
COPY app/package.json ./app/
COPY subgraphs/auth/package.json ./subgraphs/auth/
COPY subgraphs/tenant/package.json ./subgraphs/tenant/
COPY subgraphs/location/package.json ./subgraphs/location/
COPY subgraphs/streaming/package.json ./subgraphs/streaming/
COPY examples/client/package.json ./examples/client/
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY . .
RUN npm run build

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/prisma/generated ./prisma/generated
# Sources stay beside the bundles: schemas, the supergraph, migrations and dashboard assets are
# read from their places in the tree.
COPY . .
COPY --from=build /app/dist ./dist
USER node
# Overridden per service in docker-compose.yml, e.g. ["node", "--enable-source-maps", "dist/auth.js"].
CMD ["node", "--enable-source-maps", "dist/router.js"]
