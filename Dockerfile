# The shopstream application image (one image, the role is chosen by the command).
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make python3 libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Build the Kafka client against the Debian libraries installed above. (`npm install` follows the
# lockfile; `npm ci` refuses it because chdb names optional platform packages never published.)
RUN CKJS_LINKING=dynamic npm install --omit=dev --no-audit --no-fund
COPY . .
# The dashboard served at `/` (web/dist, never committed): esbuild and Chart.js are dependencies.
RUN node web/build.mjs
ENV NODE_ENV=production
# Node's libuv pool, where every librdkafka call and embedded ClickHouse query waits for a thread (default 4).
ENV UV_THREADPOOL_SIZE=16
EXPOSE 3000
ENTRYPOINT ["node", "bin/shopstream.js"]
CMD ["start"]
