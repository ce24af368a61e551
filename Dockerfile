# syntax=docker/dockerfile:1
#
# The `cdcp worker` image: one worker of a fleet on ECS Fargate (docs/deploy.md, "Lambda or containers").
#
# Its build context is staged by the CdcProcessor construct at synthesis (lib/worker-image.ts): this file, the
# .dockerignore, and worker/worker.mjs (+ its source map): `cdcp worker` bundled by esbuild with the
# deployment's projection module and every dependency, the AWS SDK included, as the Lambda functions are. So
# the image installs nothing: no node_modules, no package manager, no build step that could reach a registry.
#
# Stage 1 runs on the build machine's own platform and proves the bundle loads on Node.js 24 (its help must
# print); the final stage is distroless Node.js 24 (no shell, no npm, no package manager), for the task's
# platform without emulation (it only copies), running as the image's non-root user.

ARG NODE_IMAGE=public.ecr.aws/docker/library/node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS check
WORKDIR /app
COPY worker/ ./
RUN node worker.mjs worker --help > /dev/null

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=check /app/ ./
ENV NODE_ENV=production NODE_OPTIONS=--enable-source-maps
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "/app/worker.mjs"]
CMD ["worker"]
