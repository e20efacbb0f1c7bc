import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ShopstreamError } from '../core/errors.js';

/** One answer of the API: its status, parsed JSON body (problem+json included) and headers. */
export interface Reply {
  status: number;
  body: any;
  headers: IncomingHttpHeaders;
  /** The problem's `code` on a 4xx/5xx (else undefined). */
  code: string | undefined;
}

/** A request that got no HTTP answer: refused connection, reset, timeout. */
export class TransportError extends ShopstreamError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { cause, retriable: true });
  }
}

export interface HttpClient {
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  close(): void;
}

/**
 * Keep-alive HTTP/1.1 to one API: at most `sockets` connections (the run's concurrency), a
 * timeout per request. Rejects only with TransportError; every HTTP status resolves.
 */
export function httpClient(baseUrl: string, options: { sockets: number; timeoutMs: number }): HttpClient {
  const base = new URL(baseUrl);
  const https = base.protocol === 'https:';
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: options.sockets }) : new HttpAgent({ keepAlive: true, maxSockets: options.sockets });
  const send = https ? httpsRequest : httpRequest;
  const prefix = base.pathname.replace(/\/$/, '');
  return {
    call(method, path, body, headers = {}) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = send(
          {
            protocol: base.protocol,
            hostname: base.hostname,
            port: base.port,
            path: `${prefix}${path}`,
            method,
            agent,
            headers: { accept: 'application/json', ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }), ...headers },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', (error) => reject(new TransportError('RESPONSE_ABORTED', error.message, error)));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let parsed: any;
              try {
                parsed = text && /json/.test(res.headers['content-type'] ?? '') ? JSON.parse(text) : text || undefined;
              } catch {
                parsed = text;
              }
              const status = res.statusCode ?? 0;
              resolve({ status, body: parsed, headers: res.headers, code: status >= 400 && typeof parsed?.code === 'string' ? parsed.code : undefined });
            });
          },
        );
        req.setTimeout(options.timeoutMs, () => req.destroy(new TransportError('TIMEOUT', `no answer within ${options.timeoutMs} ms`)));
        req.on('error', (error: NodeJS.ErrnoException) => reject(error instanceof TransportError ? error : new TransportError(error.code ?? 'NETWORK', error.message, error)));
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}
