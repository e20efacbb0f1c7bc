import { ShopstreamError } from '../core/errors.js';

/** A local service that failed to install, start or become ready. Names the service and its log. */
export class StackError extends ShopstreamError {
  readonly service: string;
  readonly logFile: string | undefined;
  constructor(service: string, problem: string, logFile?: string, cause?: unknown) {
    super('STACK_SERVICE_FAILED', `${service}: ${problem}${logFile ? ` (log: ${logFile})` : ''}`, { cause });
    this.service = service;
    this.logFile = logFile;
  }
}
