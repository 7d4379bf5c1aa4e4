# One image for the router and the four subgraphs; docker-compose.yml picks the command per service.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
COPY prisma ./prisma
COPY prisma.config.ts ./
COPY router/package.json ./router/
COPY subgraphs/auth/package.json ./subgraphs/auth/
COPY subgraphs/tenant/package.json ./subgraphs/tenant/
COPY subgraphs/location/package.json ./subgraphs/location/
COPY subgraphs/streaming/package.json ./subgraphs/streaming/
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/prisma/generated ./prisma/generated
COPY . .
USER node
# Overridden per service in docker-compose.yml, e.g. ["npx", "tsx", "subgraphs/auth/src/index.ts"].
CMD ["npx", "tsx", "router/src/index.ts"]
