# One image for `scheduled-job worker` and `scheduled-job api` (docker-compose.yml runs both).
# Build: docker build -t scheduled-job:0.1.0 .

# The Node version is the one in .node-version (the README's runtime); keep the two together.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY activities activities
COPY app app
COPY client client
COPY config config
COPY connections connections
COPY consumers consumers
COPY db db
COPY domain domain
COPY features features
COPY jobs jobs
COPY observability observability
COPY workers workers
COPY workflows workflows
COPY bin bin
RUN npm run build \
  # the workflow bundle once, at build time, so a worker starts without running webpack
  && node bin/scheduled-job.js bundle-workflows dist/workflow-bundle.js

FROM node:24.22.3-bookworm-slim
ENV NODE_ENV=production \
    SCHEDULED_JOB_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    API_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
COPY bin bin
COPY consumers/schemas consumers/schemas
# the console's templates and assets are read at run time, beside the build
COPY workers/http/console/views workers/http/console/views
COPY workers/http/console/assets workers/http/console/assets
COPY features/notificationViews/views features/notificationViews/views
COPY .node-version ./
USER node
# The launcher (not `node bin/...`): it carries the worker's memory settings.
ENTRYPOINT ["/app/bin/scheduled-job"]
CMD ["worker"]
