import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { DependencyError } from '../../core/errors.js';
import { createLogger, logFields, redactText, setLogLevel } from '../../core/log.js';

/** A logger writing into an array of parsed lines. */
function captured(name = 'test') {
  const lines: Record<string, any>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger(name, { destination }), lines };
}

describe('logs', () => {
  afterEach(() => setLogLevel('info'));

  it('writes one JSON line per event with level, time, name, message and fields', () => {
    const { logger, lines } = captured('api');
    logger.child('routes').info('started', { port: 3000, big: 12345678901234567890n });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', name: 'api.routes', msg: 'started', port: 3000, big: '12345678901234567890' });
    expect(new Date(lines[0]!.time).getTime()).toBeGreaterThan(0);
  });

  it('keeps the message, code, stack and the whole cause chain of an error', () => {
    const { logger, lines } = captured();
    const root = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED', errno: -111 });
    const error = new DependencyError('mysql', 'the database is unavailable (ECONNREFUSED)', { cause: root });
    logger.error('request failed', { error });
    const logged = lines[0]!.error;
    expect(logged).toMatchObject({ type: 'DependencyError', message: 'the database is unavailable (ECONNREFUSED)', code: 'MYSQL_UNAVAILABLE', retriable: true });
    expect(logged.stack).toContain('DependencyError: the database is unavailable');
    expect(logged.stack).toMatch(/log\.test\.ts:\d+/);
    expect(logged.cause).toMatchObject({ type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:3306', code: 'ECONNREFUSED', errno: -111 });
    expect(logged.cause.stack).toContain('Error: connect ECONNREFUSED');
  });

  it('expands errors anywhere in the fields, and survives cycles', () => {
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic.self = cyclic;
    const out = logFields({ failures: [new TypeError('bad')], nested: { aggregate: new AggregateError([new Error('one')], 'many') }, cyclic }) as any;
    expect(out.failures[0]).toMatchObject({ type: 'TypeError', message: 'bad' });
    expect(out.nested.aggregate.errors[0]).toMatchObject({ message: 'one' });
    expect(out.cyclic).toEqual({ n: 1, self: '[Circular]' });
  });

  it('redacts secrets by field name and by content, in fields, errors and the message', () => {
    const { logger, lines } = captured();
    const token = `sst_${'a1B2'.repeat(11)}`;
    logger.warn(`connecting to mysql://shopstream:hunter2@db:3306/shopstream with ${token}`, {
      url: 'http://user:s3cret@clickhouse:8123/?database=x',
      headers: { authorization: `Bearer ${token}`, 'x-api-key': 'k', accept: 'json' },
      password: 'p',
      clientSecret: 'c',
      tokenId: '5a2b1c1e-0000-4000-8000-000000000001',
      error: new Error(`login failed for mysql://root:rootpw@127.0.0.1/ (token ${token})`, { cause: new Error('Authorization: Bearer abc.def') }),
    });
    const line = lines[0]!;
    const text = JSON.stringify(line);
    for (const secret of ['hunter2', 's3cret', 'rootpw', token, 'abc.def']) expect(text).not.toContain(secret);
    expect(line.msg).toBe('connecting to mysql://shopstream:[REDACTED]@db:3306/shopstream with sst_[REDACTED]');
    expect(line.url).toBe('http://user:[REDACTED]@clickhouse:8123/?database=x');
    expect(line.headers).toEqual({ authorization: '[REDACTED]', 'x-api-key': '[REDACTED]', accept: 'json' });
    expect(line.password).toBe('[REDACTED]');
    expect(line.clientSecret).toBe('[REDACTED]');
    expect(line.tokenId).toBe('5a2b1c1e-0000-4000-8000-000000000001');
    expect(line.error.message).toBe('login failed for mysql://root:[REDACTED]@127.0.0.1/ (token sst_[REDACTED])');
    expect(line.error.cause.message).toBe('Authorization: Bearer [REDACTED]');
    expect(redactText('mysql://root@127.0.0.1:3306 and http://host:8123')).toBe('mysql://root@127.0.0.1:3306 and http://host:8123');
  });

  it('filters by the level set, also for loggers created before', () => {
    const { logger, lines } = captured();
    logger.debug('hidden');
    setLogLevel('debug');
    logger.debug('shown');
    setLogLevel('error');
    logger.warn('hidden');
    logger.error('shown');
    setLogLevel('silent');
    logger.error('hidden');
    expect(lines.map((l) => `${l.level}:${l.msg}`)).toEqual(['debug:shown', 'error:shown']);
  });
});
